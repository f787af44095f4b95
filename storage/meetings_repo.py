"""Queries for meetings, occurrences, reminders, deliveries and RSVPs.

Each function takes the session of the caller's transaction. Nothing here knows the
calendar rules (bot/recurrence.py) or the scheduler (bot/reminders.py): callers hand in
the instants; these functions keep the rows and their statuses consistent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meeting_models import (
    AgReminderSettings,
    DeliveryStatus,
    Meeting,
    MeetingStatus,
    Occurrence,
    OccurrenceStatus,
    Reminder,
    ReminderDelivery,
    ReminderPreference,
    ReminderStatus,
    Rsvp,
)
from storage.models import Account, Ag, Membership, utcnow
from storage.repo import _insert

# --- reminder settings ----------------------------------------------------------------


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


# --- meetings and occurrences ---------------------------------------------------------


@dataclass(frozen=True)
class OccurrenceView:
    """An occurrence with its meeting and AG, as handlers and the engine read them."""

    occurrence: Occurrence
    meeting: Meeting
    ag: Ag

    @property
    def id(self) -> int:
        return self.occurrence.id

    @property
    def title(self) -> str:
        return self.occurrence.title if self.occurrence.title is not None else self.meeting.title

    @property
    def start(self) -> datetime:
        return self.occurrence.start_at

    @property
    def cancelled(self) -> bool:
        return self.occurrence.status == OccurrenceStatus.CANCELLED.value


async def add_occurrences(
    session: AsyncSession, meeting_id: int, starts: Iterable[datetime]
) -> list[Occurrence]:
    """Insert the occurrences not there yet (by their slot); returns the new ones.

    Idempotent: extending the horizon twice, or after a crash, adds nothing twice, and a
    cancelled occurrence keeps its row, so it is never brought back.
    """
    wanted = list(starts)
    if not wanted:
        return []
    existing = set(
        await session.scalars(
            select(Occurrence.original_start).where(
                Occurrence.meeting_id == meeting_id, Occurrence.original_start.in_(wanted)
            )
        )
    )
    new = [
        Occurrence(meeting_id=meeting_id, original_start=start, start_at=start)
        for start in wanted
        if start not in existing
    ]
    session.add_all(new)
    await session.flush()
    return new


def _view_query() -> Select[Occurrence, Meeting, Ag]:
    return (
        select(Occurrence, Meeting, Ag)
        .join(Meeting, Meeting.id == Occurrence.meeting_id)
        .join(Ag, Ag.id == Meeting.ag_id)
    )


async def occurrence_view(session: AsyncSession, occurrence_id: int) -> OccurrenceView | None:
    row = (await session.execute(_view_query().where(Occurrence.id == occurrence_id))).first()
    return OccurrenceView(row[0], row[1], row[2]) if row else None


async def upcoming(
    session: AsyncSession,
    ag_ids: Sequence[int],
    now: datetime,
    *,
    limit: int = 20,
    include_cancelled: bool = False,
) -> list[OccurrenceView]:
    """Occurrences not yet begun, soonest first."""
    query = (
        _view_query()
        .where(Meeting.ag_id.in_(ag_ids), Occurrence.start_at > now)
        .order_by(Occurrence.start_at, Occurrence.id)
        .limit(limit)
    )
    if not include_cancelled:
        query = query.where(Occurrence.status == OccurrenceStatus.SCHEDULED.value)
    return [OccurrenceView(o, m, a) for o, m, a in (await session.execute(query)).all()]


async def future_occurrences(
    session: AsyncSession, now: datetime, *, meeting_id: int | None = None, ag_id: int | None = None
) -> list[Occurrence]:
    """Scheduled occurrences not yet begun, of one meeting or of one AG."""
    query = select(Occurrence).where(
        Occurrence.start_at > now, Occurrence.status == OccurrenceStatus.SCHEDULED.value
    )
    if meeting_id is not None:
        query = query.where(Occurrence.meeting_id == meeting_id)
    if ag_id is not None:
        query = query.join(Meeting, Meeting.id == Occurrence.meeting_id).where(
            Meeting.ag_id == ag_id, Meeting.status == MeetingStatus.ACTIVE.value
        )
    return list(await session.scalars(query.order_by(Occurrence.start_at)))


async def occurrences_of(session: AsyncSession, meeting_id: int) -> list[Occurrence]:
    rows = await session.scalars(
        select(Occurrence).where(Occurrence.meeting_id == meeting_id).order_by(Occurrence.start_at)
    )
    return list(rows)


async def series_needing_occurrences(session: AsyncSession, until: datetime) -> list[Meeting]:
    """Active series whose occurrences are not yet materialised up to `until`."""
    rows = await session.scalars(
        select(Meeting).where(
            Meeting.status == MeetingStatus.ACTIVE.value,
            Meeting.rrule.is_not(None),
            (Meeting.materialised_until.is_(None)) | (Meeting.materialised_until < until),
        )
    )
    return list(rows)


async def active_meetings(session: AsyncSession, ag_id: int) -> list[Meeting]:
    rows = await session.scalars(
        select(Meeting)
        .where(Meeting.ag_id == ag_id, Meeting.status == MeetingStatus.ACTIVE.value)
        .order_by(Meeting.start_at)
    )
    return list(rows)


# --- reminders ------------------------------------------------------------------------


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


# --- people to remind and RSVPs -------------------------------------------------------


async def direct_subscribers(session: AsyncSession, ag_id: int) -> list[int]:
    """Members of the AG who want reminders privately too."""
    rows = await session.scalars(
        select(Membership.person_id)
        .join(ReminderPreference, ReminderPreference.person_id == Membership.person_id)
        .where(Membership.ag_id == ag_id, ReminderPreference.direct.is_(True))
        .order_by(Membership.person_id)
    )
    return list(rows)


async def set_rsvp(session: AsyncSession, occurrence_id: int, person_id: int, answer: str) -> bool:
    """Store the answer; False if it was already that."""
    row = await session.get(Rsvp, (occurrence_id, person_id))
    if row is None:
        session.add(Rsvp(occurrence_id=occurrence_id, person_id=person_id, answer=answer))
        return True
    if row.answer == answer:
        return False
    row.answer, row.answered_at = answer, utcnow()
    return True


async def rsvps(session: AsyncSession, occurrence_id: int) -> dict[str, list[list[Account]]]:
    """{answer: [accounts of each person]} in the order people answered."""
    rows = (
        await session.execute(
            select(Rsvp.person_id, Rsvp.answer, Account)
            .join(Account, Account.person_id == Rsvp.person_id)
            .where(Rsvp.occurrence_id == occurrence_id)
            .order_by(Rsvp.answered_at, Rsvp.person_id, Account.id)
        )
    ).all()
    people: dict[int, tuple[str, list[Account]]] = {}
    for person_id, answer, account in rows:
        people.setdefault(person_id, (answer, []))[1].append(account)
    out: dict[str, list[list[Account]]] = {}
    for answer, accounts in people.values():
        out.setdefault(answer, []).append(accounts)
    return out


async def rsvp_counts(session: AsyncSession, occurrence_ids: Sequence[int]) -> dict[int, int]:
    """Yes-answers per occurrence."""
    if not occurrence_ids:
        return {}
    rows = await session.execute(
        select(Rsvp.occurrence_id, func.count())
        .where(Rsvp.occurrence_id.in_(occurrence_ids), Rsvp.answer == "yes")
        .group_by(Rsvp.occurrence_id)
    )
    return {oid: int(n) for oid, n in rows.all()}
