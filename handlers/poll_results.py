"""`/results`: one tally over every network, as text with bars and as a PNG chart."""

from __future__ import annotations

import asyncio

from bot import commands as c
from bot import rights
from bot.chart import bar_chart
from bot.context import Context, Services, UserError
from bot.core import ChatRef, Transport
from bot.i18n import N_, Lang
from bot.rich import Rich, bold, code, join, lines
from handlers.people import person_label
from handlers.poll_common import (
    PollView,
    deadline_short,
    get_view,
    network_name,
    poll_title,
    read_view,
)
from storage import ballots_repo, polls_repo, repo
from storage.ballots_repo import Tally

feature = c.Feature("poll_results")

BAR_WIDTH = 10


async def tally_of(services: Services, view: PollView) -> Tally:
    async with services.db.read() as session:
        return await ballots_repo.tally(session, view.poll.id, len(view.options))


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def voters_line(lang: Lang, tally: Tally) -> Rich:
    """`6 Stimmen: Telegram 4 · Matrix 2` (anonymous: what each network reported, and the
    private votes)."""
    parts: list[str] = []
    for platform, n in sorted(tally.voters_by_network.items(), key=lambda kv: kv[0] or ""):
        if platform is None:
            parts.append(lang.t("privat").plain + f" {n}")
        else:
            parts.append(f"{network_name(platform)} {n}")
    for platform, n in sorted(tally.native_voters.items()):
        parts.append(f"{network_name(platform)} {n}")
    head = lang.tn("{n} Stimme", "{n} Stimmen", tally.voters)
    return head + (": " + " · ".join(parts) if len(parts) > 1 else Rich())


def result_text(
    services: Services,
    lang: Lang,
    view: PollView,
    tally: Tally,
    *,
    final: bool = False,
    not_voted: Rich | None = None,
) -> Rich:
    """The whole result as one message: header, a line per option, voters, status."""
    header = (
        lang.t("Endergebnis: {poll}", poll=poll_title(view))
        if final
        else lang.t("Zwischenstand: {poll}", poll=poll_title(view))
        if view.is_open
        else lang.t("Ergebnis: {poll}", poll=poll_title(view))
    )
    rows: list[Rich | str] = [header]
    total = tally.voters
    for number, (option, count) in enumerate(zip(view.options, tally.counts, strict=True), 1):
        share = _share(count, total)
        bar = " " + "█" * max(1, round(share * BAR_WIDTH)) if count else ""
        rows.append(f"{number}. " + bold(option) + f" – {count} ({round(share * 100)} %){bar}")
    rows.append(voters_line(lang, tally))
    if view.poll.multi and total:
        rows.append(lang.t("Mehrere Antworten möglich: Prozent der Abstimmenden."))
    if tally.not_counted:
        rows.append(
            lang.tn(
                "{n} Stimme kam von außerhalb der AG und zählt nicht.",
                "{n} Stimmen kamen von außerhalb der AG und zählen nicht.",
                tally.not_counted,
            )
        )
    if view.poll.anonymous:
        rows.append(lang.t("Anonym: niemand sieht, wer wie abgestimmt hat."))
    if view.is_open and view.closes_at is not None:
        rows.append(
            lang.t("Läuft bis {when}.", when=deadline_short(services, view.closes_at, lang))
        )
    elif not view.is_open and not final:
        rows.append(lang.t("Die Umfrage ist beendet."))
    if not_voted is not None:
        rows.append(not_voted)
    return lines(*rows)


async def chart_png(lang: Lang, view: PollView, tally: Tally) -> bytes:
    footer = voters_line(lang, tally).plain
    return await asyncio.to_thread(
        bar_chart, view.poll.question, view.options, tally.counts, footer, total=tally.voters
    )


async def send_chart(
    transport: Transport,
    chat: ChatRef,
    lang: Lang,
    view: PollView,
    tally: Tally,
    *,
    key: str | None = None,
) -> None:
    """The chart as a picture, where the network shows files; nothing otherwise."""
    if not transport.capabilities.files or tally.voters == 0:
        return
    png = await chart_png(lang, view, tally)
    sender = transport
    await sender.send_file(chat, f"umfrage-{view.short_id}.png", png, "image/png", key=key)


async def _not_voted(ctx: Context, view: PollView) -> Rich | None:
    """Who of the AG has not answered an open named poll: names in a private chat, only
    the number in a group (a group may hold people outside the AG)."""
    if view.ag is None or view.poll.anonymous or not view.is_open:
        return None
    async with ctx.db.read() as session:
        members = await repo.members_of(session, view.ag.id)
        voted = await ballots_repo.voter_ids(session, view.poll.id)
    missing = [m for m in members if m.person_id not in voted]
    if not missing:
        return ctx.t("Alle Mitglieder der AG haben abgestimmt.")
    if not ctx.message.is_direct:
        return ctx.tn(
            "{n} Mitglied der AG hat noch nicht abgestimmt (Namen: {cmd} im privaten Chat).",
            "{n} Mitglieder der AG haben noch nicht abgestimmt (Namen: {cmd} im privaten Chat).",
            len(missing),
            cmd=code(ctx.cmd(f"results {view.short_id}")),
        )
    names = join([person_label(m.accounts) for m in missing], ", ")
    return ctx.t("Noch nicht abgestimmt ({n}): {names}", n=len(missing), names=names)


async def _latest_for(ctx: Context) -> PollView | None:
    """The poll meant by a bare `/results`: the newest of this chat's AGs, or of mine."""
    async with ctx.db.read() as session:
        ags = await repo.linked_ags(session, ctx.chat.platform, ctx.chat.id)
        ag_ids = [ag.id for ag in ags]
        if not ag_ids and ctx.person_id is not None:
            ag_ids = [ag.id for ag, _ in await repo.memberships_of(session, ctx.person_id)]
        polls = await polls_repo.polls_of_ags(session, ag_ids, limit=1)
        return await read_view(session, polls[0]) if polls else None


@feature.command(
    "results",
    help=N_("Das Ergebnis einer Umfrage über alle Netzwerke, mit Diagramm"),
    params=(c.word("poll", N_("Umfrage"), optional=True),),
    examples=("results k3f7",),
    aliases=("ergebnis",),
)
async def results(ctx: Context, poll: str | None) -> None:
    view = await get_view(ctx, poll) if poll else await _latest_for(ctx)
    if view is None:
        raise UserError(
            ctx.t(
                "Hier gibt es noch keine Umfrage. {polls} zeigt die Umfragen deiner AGs.",
                polls=code(ctx.cmd("polls")),
            )
        )
    if view.ag is not None and not await rights.follows(ctx, view.ag):
        raise UserError(
            ctx.t(
                "Das Ergebnis sehen nur Mitglieder der AG „{ag}“ und ihre Chats.", ag=view.ag.name
            )
        )
    tally = await tally_of(ctx.services, view)
    text = result_text(ctx.services, ctx.lang, view, tally, not_voted=await _not_voted(ctx, view))
    await ctx.reply(text)
    key = f"chart:{ctx.chat.key}:{ctx.message.message_id}" if ctx.message.message_id else None
    await send_chart(ctx.transport, ctx.chat, ctx.lang, view, tally, key=key)
