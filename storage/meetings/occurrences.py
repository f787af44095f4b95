"""Queries for meetings and their dated occurrences.

Each function takes the session of the caller's transaction. Nothing here knows the
calendar rules (handlers/meetings/recurrence.py) or the scheduler: callers hand in the
instants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from storage.models import Ag


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


async def scheduled_at(session: AsyncSession, ag_id: int, start: datetime) -> list[OccurrenceView]:
    """The AG's scheduled occurrences of active meetings that start at `start` exactly."""
    query = _view_query().where(
        Meeting.ag_id == ag_id,
        Meeting.status == MeetingStatus.ACTIVE.value,
        Occurrence.start_at == start,
        Occurrence.status == OccurrenceStatus.SCHEDULED.value,
    )
    return [
        OccurrenceView(o, m, a)
        for o, m, a in (await session.execute(query.order_by(Occurrence.id))).all()
    ]
