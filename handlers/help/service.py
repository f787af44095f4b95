"""What help shows someone, and the language setting."""

from __future__ import annotations

from bot.context import Context
from storage import repo


async def set_language(ctx: Context, code: str) -> None:
    """Remember the sender's language (they become a person if they were none)."""
    person_id = await ctx.ensure_person()
    await ctx.db.run(lambda session: repo.set_language(session, person_id, code))
