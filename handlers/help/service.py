"""What help shows someone, and the language settings (a person's, a group's)."""

from __future__ import annotations

from bot.commands import rights
from bot.commands.declare import Right
from bot.context import Context
from storage import repo
from storage.chat_language import set_chat_language as store_chat_language


async def set_language(ctx: Context, code: str) -> None:
    """Remember the sender's language (they become a person if they were none)."""
    person_id = await ctx.ensure_person()
    await ctx.db.run(lambda session: repo.set_language(session, person_id, code))


async def may_set_chat_language(ctx: Context) -> bool:
    """An admin anywhere; in a group linked to AGs, a lead of one of them."""
    if rights.alliance_admin(ctx):
        return True
    async with ctx.db.read() as session:
        linked = await repo.linked_ags(session, ctx.chat.platform, ctx.chat.id)
    for ag in linked:
        if await rights.allowed(ctx, Right.LEAD, ag):
            return True
    return False


async def set_chat_language(ctx: Context, code: str) -> None:
    chat = ctx.chat
    await ctx.db.run(
        lambda session: store_chat_language(session, chat.platform, chat.id, chat.title, code)
    )
