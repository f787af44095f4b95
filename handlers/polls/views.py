"""Which poll a command means, read from the database: by short id (the converter of
every poll parameter), by row id, or the newest of this chat's AGs; and its tally."""

from __future__ import annotations

from bot.context import Context, Services, UserError
from bot.rich import code
from bot.text_cut import cut
from storage import repo
from storage.polls import ballots, polls
from storage.polls.ballots import Tally
from storage.polls.view import PollView, newest_view, view_by_short_id
from storage.polls.view import view_by_id as _view_by_id


async def load_view(services: Services, short_id: str) -> PollView | None:
    async with services.db.read() as session:
        return await view_by_short_id(session, short_id)


async def view_by_id(services: Services, poll_id: int) -> PollView | None:
    async with services.db.read() as session:
        return await _view_by_id(session, poll_id)


async def get_view(ctx: Context, raw: str) -> PollView:
    """The poll a user named by its short id, or a UserError that says what to try."""
    value = raw.strip().lower()
    view = await load_view(ctx.services, value) if polls.looks_like_short_id(value) else None
    if view is None:
        raise UserError(
            ctx.t(
                "Eine Umfrage „{id}“ kenne ich nicht. {polls} zeigt die Umfragen deiner AGs.",
                id=cut(raw, 20),
                polls=code(ctx.cmd("polls")),
            )
        )
    return view


async def tally_of(services: Services, view: PollView) -> Tally:
    async with services.db.read() as session:
        return await ballots.tally(session, view.poll.id, len(view.options))


async def my_ag_ids(ctx: Context) -> list[int]:
    """The AGs a bare command means: this chat's, else (e.g. in a private chat) mine."""
    async with ctx.db.read() as session:
        ags = await repo.linked_ags(session, ctx.chat.platform, ctx.chat.id)
        if not ags and ctx.person_id is not None:
            ags = [ag for ag, _ in await repo.memberships_of(session, ctx.person_id)]
    return [ag.id for ag in ags]


async def latest_for(ctx: Context) -> PollView | None:
    """The poll meant by a bare `/results`: the newest of this chat's AGs, or of mine."""
    ag_ids = await my_ag_ids(ctx)
    async with ctx.db.read() as session:
        return await newest_view(session, ag_ids)


async def meant_view(ctx: Context, view: PollView | None) -> PollView:
    """The poll named (converted already), else the newest here, else a UserError."""
    found = view or await latest_for(ctx)
    if found is None:
        raise UserError(
            ctx.t(
                "Hier gibt es noch keine Umfrage. {polls} zeigt die Umfragen deiner AGs.",
                polls=code(ctx.cmd("polls")),
            )
        )
    return found
