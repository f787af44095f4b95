"""Where the alliance's Space is (the database's value, else the configuration), and
letting the person who asked into a room the bot just made."""

from __future__ import annotations

import logging

from bot.admission import MissingRight, WayKind, doors
from bot.context import Context
from bot.core import ChatRef
from bot.spaces import Spaces, spaces
from handlers.people import account_ref
from storage import membership, repo
from storage.access.settings import MATRIX_SPACE, get_setting, set_setting

log = logging.getLogger(__name__)


def matrix(ctx: Context) -> Spaces | None:
    return spaces(ctx.services.transports.values())


async def space_ref(ctx: Context) -> tuple[str, bool]:
    """The Space as set ("" if none), and whether it comes from `/space` (the database),
    which wins over the configuration."""
    async with ctx.db.read() as session:
        stored = await get_setting(session, MATRIX_SPACE)
    if stored:
        return stored, True
    configured = ctx.services.settings.matrix
    return (configured.space if configured is not None else ""), False


async def store_space(ctx: Context, room_id: str) -> None:
    async with ctx.db.write() as session:
        await set_setting(session, MATRIX_SPACE, room_id)


async def link_room(ctx: Context, ag_id: int, room: ChatRef) -> None:
    await ctx.db.run(
        lambda session: membership.link_chat(
            session, ag_id, room.platform, room.id, room.title, False
        )
    )


async def invite_asker(ctx: Context, room: ChatRef) -> bool:
    """Invite the sender's accounts on the room's network; True if one was invited."""
    transport = ctx.services.transport_for(room)
    if transport is None:
        return False
    person_id = await ctx.ensure_person()
    async with ctx.db.read() as session:
        accounts = await repo.accounts_of(session, person_id)
    invited = False
    for account in accounts:
        if account.platform != room.platform:
            continue
        try:
            way = await doors(transport).let_in(room, account_ref(account), link=None)
        except MissingRight:
            continue
        invited = invited or way.kind is WayKind.INVITED
    return invited
