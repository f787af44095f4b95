"""What help shows someone, and the language setting."""

from __future__ import annotations

from bot import commands as c
from bot.commands import rights
from bot.context import Context
from storage import repo


async def offered_here(ctx: Context) -> list[c.Command]:
    """The commands this person may use in this chat."""
    lead = await rights.leads_any(ctx)
    direct, admin = ctx.message.is_direct, ctx.is_admin
    return [
        cmd
        for cmd in ctx.services.registry.unique()
        if rights.offered(cmd, direct=direct, admin=admin, lead=lead)
    ]


async def set_language(ctx: Context, code: str) -> None:
    """Remember the sender's language (they become a person if they were none)."""
    person_id = await ctx.ensure_person()
    await ctx.db.run(lambda session: repo.set_language(session, person_id, code))
