"""`/terminumfrage` without arguments: the open Terminumfragen of the sender's AGs (in a
group: of the AGs linked to it, so no other AG's titles are shown there), newest first,
each with whether the sender has answered it, so nobody has to scroll back for an id."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.context import Context
from bot.rich import Rich, bold, code, lines
from bot.when_text import format_short
from handlers.datepoll.args import EXAMPLE
from storage import repo
from storage.datepoll import listing

SHOWN = 10


async def show(ctx: Context) -> None:
    person_id = await ctx.ensure_person()
    now = ctx.services.now()
    group = not ctx.message.is_direct
    async with ctx.db.read() as session:
        if group:  # the chat's AGs: their polls are posted here anyway, no other AG's
            linked = await repo.linked_ags(session, ctx.chat.platform, ctx.chat.id)
            ags = {ag.id: ag for ag in linked}
        else:
            memberships = await repo.memberships_of(session, person_id)
            ags = {ag.id: ag for ag, _role in memberships if not ag.archived}  # they rest
        found = await listing.open_polls(session, list(ags), now, SHOWN + 1)
        mine = await listing.answered_by(session, person_id, [p.id for p in found])
    start = ctx.t(
        "Neue Terminumfrage (Leitung der AG): {example}", example=code(ctx.example(EXAMPLE))
    )
    if not found:
        none = (
            ctx.t("Hier läuft gerade keine Terminumfrage.")
            if group
            else ctx.t("In deinen AGs läuft gerade keine Terminumfrage.")
        )
        await ctx.reply(lines(none, start))
        return
    head = (
        ctx.t("Offene Terminumfragen hier:")
        if group
        else ctx.t("Offene Terminumfragen in deinen AGs:")
    )
    rows: list[Rich | str] = [bold(head)]
    for poll in found[:SHOWN]:
        entry = ctx.t(
            "{id}: {title} (AG {ag})", id=code(poll.short_id), title=poll.title,
            ag=ags[poll.ag_id].name,
        )  # fmt: skip
        if poll.closes_at is not None:
            closes = format_short(poll.closes_at.astimezone(ZoneInfo(poll.timezone)), ctx.lang.code)
            entry += ", " + ctx.t("bis {when}", when=closes)
        if poll.id in mine:
            entry += " – ✅ " + ctx.t("beantwortet")
        else:
            entry += " – ❔ " + ctx.t("noch nicht beantwortet")
        rows.append("• " + entry)
    if len(found) > SHOWN:
        rows.append("…")
    rows.append(ctx.t("Ansehen und antworten: {command}", command=code(ctx.cmd("termin <id>"))))
    rows.append(start)
    await ctx.reply(lines(*rows))
