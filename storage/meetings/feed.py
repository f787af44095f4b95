"""What a calendar feed shows: the meetings of some AGs with their dates from a point
on, or the dates one person said "Dabei" to; and a cheap summary of what could change
them (the feed's ETag). Plain rows, no ORM objects: a feed of 500 meetings is read in a
few milliseconds, however many calendar apps ask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus, Rsvp
from storage.models import Ag


@dataclass(frozen=True)
class FeedDate:
    id: int
    original_start: datetime
    start_at: datetime
    title: str | None
    cancelled: bool


@dataclass(frozen=True)
class FeedMeeting:
    id: int
    ag_name: str
    title: str
    place: str
    url: str
    timezone: str
    start_at: datetime
    duration_minutes: int
    rrule: str | None
    cancelled: bool
    sequence: int
    changed: datetime
    dates: list[FeedDate] = field(default_factory=list)  # from `since` on, and exceptions


_MEETING = (
    Meeting.id,
    Ag.name,
    Meeting.title,
    Meeting.place,
    Meeting.url,
    Meeting.timezone,
    Meeting.start_at,
    Meeting.duration_minutes,
    Meeting.rrule,
    Meeting.status,
    Meeting.sequence,
    func.coalesce(Meeting.changed_at, Meeting.created_at),
)
_DATE = (
    Occurrence.id,
    Occurrence.original_start,
    Occurrence.start_at,
    Occurrence.title,
    Occurrence.status,
)


def _meeting(row: Sequence[Any]) -> FeedMeeting:
    id, ag, title, place, url, zone, start, minutes, rrule, status, sequence, changed = row
    return FeedMeeting(
        id, ag, title, place, url, zone, start, minutes, rrule,
        status == MeetingStatus.CANCELLED.value, sequence or 0, changed,
    )  # fmt: skip


def _date(row: Sequence[Any]) -> FeedDate:
    id, original, start, title, status = row
    return FeedDate(id, original, start, title, status == OccurrenceStatus.CANCELLED.value)


async def meetings_of(
    session: AsyncSession, ag_ids: Sequence[int], since: datetime
) -> list[FeedMeeting]:
    """The AGs' meetings (cancelled ones too) that have a date from `since` on, with
    those dates and every exception of a series (its EXDATEs and RECURRENCE-IDs)."""
    if not ag_ids:
        return []
    recent = or_(Occurrence.start_at >= since, Occurrence.original_start >= since)
    exception = or_(
        Occurrence.status == OccurrenceStatus.CANCELLED.value,
        Occurrence.start_at != Occurrence.original_start,
        Occurrence.title.is_not(None),
    )
    wanted = select(Occurrence.meeting_id).where(recent).distinct()
    connection = await session.connection()  # Core: no ORM layer for plain rows
    found = await connection.execute(
        select(*_MEETING)
        .join(Ag, Ag.id == Meeting.ag_id)
        .where(Meeting.ag_id.in_(list(ag_ids)), Meeting.id.in_(wanted))
        .order_by(Meeting.start_at, Meeting.id)
    )
    meetings = {row[0]: _meeting(row) for row in found.all()}
    if meetings:
        dates = await connection.execute(
            select(Occurrence.meeting_id, *_DATE)
            .where(Occurrence.meeting_id.in_(list(meetings)), or_(recent, exception))
            .order_by(Occurrence.original_start)
        )
        for row in dates.all():
            meetings[row[0]].dates.append(_date(row[1:]))
    return list(meetings.values())


async def going(
    session: AsyncSession, person_id: int, ag_ids: Sequence[int], since: datetime
) -> list[tuple[FeedMeeting, FeedDate]]:
    """The dates from `since` on of the AGs' meetings the person said yes to."""
    if not ag_ids:
        return []
    rows = await session.execute(
        select(*_MEETING, *_DATE)
        .select_from(Occurrence)
        .join(Rsvp, Rsvp.occurrence_id == Occurrence.id)
        .join(Meeting, Meeting.id == Occurrence.meeting_id)
        .join(Ag, Ag.id == Meeting.ag_id)
        .where(
            Rsvp.person_id == person_id,
            Rsvp.answer == "yes",
            Meeting.ag_id.in_(list(ag_ids)),
            Occurrence.start_at >= since,
        )
        .order_by(Occurrence.start_at, Occurrence.id)
    )
    width = len(_MEETING)
    return [(_meeting(row[:width]), _date(row[width:])) for row in rows.all()]


async def summary(
    session: AsyncSession, ag_ids: Sequence[int], person_id: int | None
) -> tuple[object, ...]:
    """What changes whenever the feed can: per AG, how many meetings, the sum of their
    change counts (it rises with every change) and the latest change; with `person_id`,
    how many dates they said yes to and their latest answer."""
    if not ag_ids:
        return ()
    found = await session.execute(
        select(
            func.count(Meeting.id),
            func.coalesce(func.sum(Meeting.sequence), 0),
            func.max(func.coalesce(Meeting.changed_at, Meeting.created_at)),
        ).where(Meeting.ag_id.in_(list(ag_ids)))
    )
    count, sequences, latest = found.one()
    out: tuple[object, ...] = (count, sequences, latest)
    if person_id is not None:
        answers = await session.execute(
            select(func.count(), func.max(Rsvp.answered_at)).where(
                Rsvp.person_id == person_id, Rsvp.answer == "yes"
            )
        )
        yes, answered = answers.one()
        out += (yes, answered, await _answered_last(session, person_id))
    return out


async def _answered_last(session: AsyncSession, person_id: int) -> datetime | None:
    """When the person last answered any date (a yes taken back changes the feed)."""
    return await session.scalar(
        select(func.max(Rsvp.answered_at)).where(Rsvp.person_id == person_id)
    )
