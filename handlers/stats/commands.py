"""The leads' overview of an AG: numbers only, never names (`/stats ag2`)."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context
from bot.i18n import N_
from bot.rich import Rich, bold, lines
from bot.text_cut import cut
from bot.when_text import format_short
from handlers.meetings.text import meeting_title
from handlers.stats import service
from storage.models import Ag
from storage.stats import NEW_DAYS

feature = c.Feature("stats")


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "–"


@feature.command(
    "stats",
    help=N_("Zahlen zu einer AG für ihre Leitung: Mitglieder, Umfragen, Treffen"),
    params=(c.ag(from_chat=True),),
    right=c.Right.LEAD,
    examples=("stats ag2",),
    aliases=("statistik",),
)
async def stats(ctx: Context, ag: Ag) -> None:
    found = await service.ag_stats(ctx, ag)
    rows: list[Rich | str] = [bold(ctx.t("Zahlen zur AG {ag}", ag=ag.name))]
    rows.append(ctx.tn("{n} Mitglied", "{n} Mitglieder", found.members))
    for platform, n in found.by_network.items():
        rows.append("• " + ctx.t("{network}: {n}", network=platform, n=n))
    rows.append(
        ctx.tn(
            "{n} neues Mitglied in den letzten {days} Tagen",
            "{n} neue Mitglieder in den letzten {days} Tagen",
            found.new_members,
            days=NEW_DAYS,
        )
    )
    rows.append("")
    rows.append(bold(ctx.t("Beteiligung an Umfragen")))
    if not found.polls:
        rows.append(ctx.t("Noch keine Umfragen."))
    for poll in found.polls:
        state = ctx.t("beendet") if poll.closed else ctx.t("läuft")
        if poll.member_voters is None:
            line = ctx.tn(
                "{id} „{question}“ ({state}): {n} Stimme, anonym (ohne Anteil)",
                "{id} „{question}“ ({state}): {n} Stimmen, anonym (ohne Anteil)",
                poll.voters,
                id=poll.short_id,
                question=cut(poll.question, 80),
                state=state,
            )
        else:
            line = ctx.tn(
                "{id} „{question}“ ({state}): {n} Stimme, {percent} der Mitglieder",
                "{id} „{question}“ ({state}): {n} Stimmen, {percent} der Mitglieder",
                poll.voters,
                id=poll.short_id,
                question=cut(poll.question, 80),
                state=state,
                percent=_percent(poll.member_voters, found.members),
            )
        rows.append("• " + line)
    if found.polls:
        rows.append(
            ctx.t(
                "Anteil: wie viele der heutigen Mitglieder abgestimmt haben. Stimmen von "
                "Ausgetretenen zählen im Ergebnis, hier nicht."
            )
        )
    rows.append("")
    rows.append(bold(ctx.t("Teilnahme an Treffen (Zusagen)")))
    if not found.meetings:
        rows.append(ctx.t("Noch keine vergangenen Treffen."))
    for meeting in found.meetings:
        rows.append(
            "• "
            + ctx.t(
                "{when} {title}: {yes} ja, {maybe} vielleicht, {no} nein",
                when=format_short(meeting.start, ctx.lang.code),
                title=meeting_title(ctx.lang, cut(meeting.title, 60)),
                yes=meeting.answers.get("yes", 0),
                maybe=meeting.answers.get("maybe", 0),
                no=meeting.answers.get("no", 0),
            )
        )
    await ctx.reply(lines(*rows))
