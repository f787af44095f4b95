"""Queries for reminders and their deliveries: planning them for an occurrence,
withdrawing them, the due ones for the scheduler, the missed ones for the leads.

Each function takes the session of the caller's transaction; callers hand in the
instants. The scheduler is handlers/reminders/engine.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.leases import expired
from storage.meetings.models import (
    DeliveryStatus,
    Meeting,
    Occurrence,
    OccurrenceStatus,
    Reminder,
    ReminderDelivery,
    ReminderStatus,
)
from storage.meetings.occurrences import OccurrenceView
from storage.models import Ag
from storage.repo import _insert


@dataclass
class ReminderChanges:
    """What the scheduler must learn after a change: new due items and withdrawn ones."""

    due: list[tuple[int, datetime]]
    withdrawn: list[int]

    def __iadd__(self, other: ReminderChanges) -> ReminderChanges:
        self.due += other.due
        self.withdrawn += other.withdrawn
        return self


def no_changes() -> ReminderChanges:
    return ReminderChanges([], [])


async def sync_reminders(
    session: AsyncSession, occurrence: Occurrence, offsets: Sequence[timedelta], now: datetime
) -> ReminderChanges:
    """Make the occurrence's pending reminders match `offsets`.

    Only reminders still ahead are created (a meeting planned an hour ahead gets no
    "1 day before"); a removed offset's pending reminder is cancelled, not deleted, and
    comes back if the offset is set again. Sent and missed reminders are never touched.
    """
    changes = no_changes()
    zone = await session.scalar(select(Meeting.timezone).where(Meeting.id == occurrence.meeting_id))
    tz = ZoneInfo(zone or "UTC")
    rows = list(
        await session.scalars(
            select(Reminder).where(
                Reminder.occurrence_id == occurrence.id,
                Reminder.revision == occurrence.revision,
            )
        )
    )
    by_offset = {r.offset_seconds: r for r in rows}
    wanted = {int(o.total_seconds()) for o in offsets}
    scheduled = occurrence.status == OccurrenceStatus.SCHEDULED.value
    for seconds in sorted(wanted, reverse=True):
        due = due_time(occurrence.start_at, seconds, tz)
        row = by_offset.get(seconds)
        if not scheduled or due <= now:
            continue
        if row is None:
            row = Reminder(
                occurrence_id=occurrence.id,
                revision=occurrence.revision,
                offset_seconds=seconds,
                due_at=due,
                status=ReminderStatus.PENDING.value,
            )
            session.add(row)
            await session.flush()
            changes.due.append((row.id, due))
        elif row.status in (ReminderStatus.CANCELLED.value, ReminderStatus.PENDING.value):
            row.status, row.due_at = ReminderStatus.PENDING.value, due
            changes.due.append((row.id, due))
    for row in rows:
        if row.status == ReminderStatus.PENDING.value and (
            row.offset_seconds not in wanted or not scheduled
        ):
            row.status = ReminderStatus.CANCELLED.value
            changes.withdrawn.append(row.id)
    return changes


def due_time(start: datetime, offset_seconds: int, tz: ZoneInfo) -> datetime:
    """When a reminder `offset_seconds` before `start` is due. Whole days count in local
    wall-clock time: "1 day before" an 18:00 meeting is 18:00 the day before, also when
    the clocks change in between; the rest of the offset is exact time."""
    days, rest = divmod(offset_seconds, 86400)
    local = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=days)
    base = local.replace(tzinfo=tz).astimezone(UTC)
    return base - timedelta(seconds=rest)


async def withdraw_reminders(session: AsyncSession, occurrence_ids: Sequence[int]) -> list[int]:
    """Cancel the pending reminders of these occurrences (every revision); their ids."""
    if not occurrence_ids:
        return []
    ids = list(
        await session.scalars(
            select(Reminder.id).where(
                Reminder.occurrence_id.in_(occurrence_ids),
                Reminder.status == ReminderStatus.PENDING.value,
            )
        )
    )
    if ids:
        await session.execute(
            update(Reminder)
            .where(Reminder.id.in_(ids))
            .values(status=ReminderStatus.CANCELLED.value)
        )
    return ids


async def pending_due_until(
    session: AsyncSession, until: datetime, *, limit: int
) -> list[tuple[int, datetime]]:
    """Pending reminders due up to `until`, earliest first (plain tuples: no ORM cost)."""
    rows = await session.execute(
        select(Reminder.id, Reminder.due_at)
        .where(Reminder.status == ReminderStatus.PENDING.value, Reminder.due_at <= until)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    return [(rid, due) for rid, due in rows.all()]


async def reminder_ids_in(session: AsyncSession, status: ReminderStatus) -> list[int]:
    return list(await session.scalars(select(Reminder.id).where(Reminder.status == status.value)))


async def resumable(session: AsyncSession, now: datetime) -> list[int]:
    """`sending` reminders nobody holds any more (a crash, a stop, a holder whose lease
    ran out): start-up and the rescans resume these. A live lease is another process
    still sending it."""
    return list(
        await session.scalars(
            select(Reminder.id)
            .where(Reminder.status == ReminderStatus.SENDING.value, expired(Reminder, now))
            .order_by(Reminder.id)
        )
    )


async def held_until(session: AsyncSession, now: datetime) -> list[tuple[int, datetime]]:
    """`sending` reminders with a live lease: (id, when the lease runs out). Start-up
    looks again then: a holder that died (a crash just before this start) renews no more."""
    rows = await session.execute(
        select(Reminder.id, Reminder.lease_until)
        .where(Reminder.status == ReminderStatus.SENDING.value, Reminder.lease_until > now)
        .order_by(Reminder.id)
    )
    return [(rid, until) for rid, until in rows.all() if until is not None]


async def count_reminders(session: AsyncSession, status: ReminderStatus) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.status == status.value)
        )
        or 0
    )


async def deliveries_of(session: AsyncSession, reminder_id: int) -> list[ReminderDelivery]:
    rows = await session.scalars(
        select(ReminderDelivery)
        .where(ReminderDelivery.reminder_id == reminder_id)
        .order_by(ReminderDelivery.id)
    )
    return list(rows)


async def add_deliveries(
    session: AsyncSession, reminder_id: int, targets: Iterable[tuple[str, int | None, int | None]]
) -> None:
    """One row per target (`chat:<id>` / `person:<id>`); a second call adds nothing."""
    values = [
        {
            "reminder_id": reminder_id,
            "target": target,
            "chat_id": chat_id,
            "person_id": person_id,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
        }
        for target, chat_id, person_id in targets
    ]
    if values:
        await session.execute(
            _insert(session)(ReminderDelivery).values(values).on_conflict_do_nothing()
        )


@dataclass(frozen=True)
class MissedItem:
    view: OccurrenceView
    reminder: Reminder
    undelivered: int  # deliveries missed or failed
    total: int


async def missed(
    session: AsyncSession, ag_ids: Sequence[int], *, limit: int = 30
) -> list[MissedItem]:
    """Reminders that were missed, or that did not reach every target, latest first."""
    bad = (DeliveryStatus.MISSED.value, DeliveryStatus.FAILED.value)
    undelivered = (
        select(func.count())
        .where(ReminderDelivery.reminder_id == Reminder.id, ReminderDelivery.status.in_(bad))
        .correlate(Reminder)
        .scalar_subquery()
    )
    total = (
        select(func.count())
        .where(ReminderDelivery.reminder_id == Reminder.id)
        .correlate(Reminder)
        .scalar_subquery()
    )
    query = (
        select(Occurrence, Meeting, Ag, Reminder, undelivered, total)
        .join(Reminder, Reminder.occurrence_id == Occurrence.id)
        .join(Meeting, Meeting.id == Occurrence.meeting_id)
        .join(Ag, Ag.id == Meeting.ag_id)
        .where(
            Meeting.ag_id.in_(ag_ids),
            (Reminder.status == ReminderStatus.MISSED.value) | (undelivered > 0),
        )
        .order_by(Reminder.due_at.desc(), Reminder.id.desc())
        .limit(limit)
    )
    return [
        MissedItem(OccurrenceView(occ, meeting, ag), reminder, int(n_bad or 0), int(n or 0))
        for occ, meeting, ag, reminder, n_bad, n in (await session.execute(query)).all()
    ]
