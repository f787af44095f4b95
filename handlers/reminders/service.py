"""The reminder settings' rules and transactions: an AG's offsets (changing them re-plans
the reminders of its meetings ahead) and a person's private reminders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.context import Context, Services
from handlers.reminders.engine import engine
from storage.meetings import plans
from storage.meetings import settings as prefs
from storage.meetings.models import ReminderPreference
from storage.models import Ag


def default_offsets(services: Services) -> list[timedelta]:
    """The configured offsets, for AGs without their own."""
    return engine(services).default_offsets()


async def own_offsets(ctx: Context, ag: Ag) -> list[timedelta] | None:
    """The AG's own offsets; None when it uses the default."""
    async with ctx.db.read() as session:
        return await prefs.ag_offsets(session, ag.id)


async def set_offsets(
    ctx: Context, ag: Ag, offsets: Sequence[timedelta] | None
) -> tuple[int, list[timedelta]]:
    """Set the AG's offsets (None: back to the default) and re-plan the reminders of its
    meetings ahead; how many meetings that touched, and the offsets now in force."""
    reminders = engine(ctx.services)
    now, default = ctx.services.now(), reminders.default_offsets()
    changes, planned, effective = await ctx.db.run(
        lambda s: plans.set_offsets(s, ag.id, offsets, now, default_offsets=default)
    )
    reminders.apply(changes)
    return planned, effective


async def direct_reminders(ctx: Context, person_id: int) -> ReminderPreference | None:
    async with ctx.db.read() as session:
        return await prefs.direct_reminders(session, person_id)


async def set_direct_reminders(ctx: Context, person_id: int, on: bool) -> None:
    await ctx.db.run(lambda s: prefs.set_direct_reminders(s, person_id, on))
