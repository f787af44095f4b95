"""The numbers of `/stats`, read in one read transaction."""

from __future__ import annotations

from bot.context import Context
from storage import stats
from storage.models import Ag


async def ag_stats(ctx: Context, ag: Ag) -> stats.AgStats:
    now = ctx.services.now()
    async with ctx.db.read() as session:
        return await stats.ag_stats(session, ag.id, now)
