"""`/results`: one tally over every network, as text with bars and as a PNG chart, and
who of the AG has not answered yet."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context
from bot.i18n import N_
from bot.rich import Rich, code, join
from handlers.people import person_label
from handlers.polls.service import results_scope
from handlers.polls.tally import result_text, send_chart
from handlers.polls.views import get_view, meant_view, tally_of
from storage import repo
from storage.polls import ballots
from storage.polls.view import PollView

feature = c.Feature("poll_results")


async def _not_voted(ctx: Context, view: PollView) -> Rich | None:
    """Who of the AG has not answered an open named poll: names in a private chat, only
    the number in a group (a group may hold people outside the AG)."""
    if view.ag is None or view.poll.anonymous or not view.is_open:
        return None
    async with ctx.db.read() as session:
        members = await repo.members_of(session, view.ag.id)
        voted = await ballots.voter_ids(session, view.poll.id)
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


@feature.command(
    "results",
    help=N_("Das Ergebnis einer Umfrage über alle Netzwerke, mit Diagramm"),
    params=(c.word("poll", N_("Umfrage"), optional=True, convert=get_view),),
    right=c.Right.FOLLOWER,
    scope=results_scope,
    examples=("results k3f7",),
    aliases=("ergebnis",),
)
async def results(ctx: Context, poll: PollView | None) -> None:
    view = await meant_view(ctx, poll)
    tally = await tally_of(ctx.services, view)
    text = result_text(ctx.services, ctx.lang, view, tally, not_voted=await _not_voted(ctx, view))
    await ctx.reply(text)
    key = f"chart:{ctx.chat.key}:{ctx.message.message_id}" if ctx.message.message_id else None
    await send_chart(ctx.transport, ctx.chat, ctx.lang, view, tally, key=key)
