"""Reminder settings: an AG's offsets, a person's wish for private reminders, and who
gets them privately."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings.models import AgReminderSettings, ReminderPreference
from storage.models import Membership, utcnow


def encode_offsets(offsets: Iterable[timedelta]) -> str:
    return ",".join(str(int(o.total_seconds())) for o in offsets)


def decode_offsets(value: str) -> list[timedelta]:
    return [timedelta(seconds=int(v)) for v in value.split(",") if v.strip()]


async def ag_offsets(session: AsyncSession, ag_id: int) -> list[timedelta] | None:
    """The AG's own offsets, largest first; None when it uses the configured default."""
    row = await session.get(AgReminderSettings, ag_id)
    return None if row is None else decode_offsets(row.offsets)


async def set_ag_offsets(session: AsyncSession, ag_id: int, offsets: Sequence[timedelta]) -> None:
    row = await session.get(AgReminderSettings, ag_id)
    if row is None:
        session.add(AgReminderSettings(ag_id=ag_id, offsets=encode_offsets(offsets)))
    else:
        row.offsets = encode_offsets(offsets)
        row.updated_at = utcnow()


async def direct_reminders(session: AsyncSession, person_id: int) -> ReminderPreference | None:
    return await session.get(ReminderPreference, person_id)


async def set_direct_reminders(session: AsyncSession, person_id: int, on: bool) -> bool:
    """Switch private reminders; False if it already was so."""
    row = await session.get(ReminderPreference, person_id)
    if row is None:
        session.add(ReminderPreference(person_id=person_id, direct=on))
        return on
    if row.direct == on:
        return False
    row.direct, row.updated_at = on, utcnow()
    if on:
        row.unreachable_at = None
    return True


async def mark_unreachable(session: AsyncSession, person_id: int, when: datetime) -> None:
    await session.execute(
        update(ReminderPreference)
        .where(ReminderPreference.person_id == person_id)
        .values(unreachable_at=when)
    )


async def reset_ag_offsets(session: AsyncSession, ag_id: int) -> None:
    """Back to the configured default offsets."""
    await session.execute(delete(AgReminderSettings).where(AgReminderSettings.ag_id == ag_id))


async def offsets_for(
    session: AsyncSession, ag_id: int, default: Sequence[timedelta]
) -> list[timedelta]:
    """The AG's own offsets, else `default` (the configured ones)."""
    own = await ag_offsets(session, ag_id)
    return own if own is not None else list(default)


async def direct_subscribers(session: AsyncSession, ag_id: int) -> list[int]:
    """Members of the AG who want reminders privately too."""
    rows = await session.scalars(
        select(Membership.person_id)
        .join(ReminderPreference, ReminderPreference.person_id == Membership.person_id)
        .where(Membership.ag_id == ag_id, ReminderPreference.direct.is_(True))
        .order_by(Membership.person_id)
    )
    return list(rows)
