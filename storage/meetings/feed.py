"""What a calendar feed shows: the meetings of some AGs with their dates from a point
on, or the dates one person said "Dabei" to. Three queries however many meetings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings.models import Meeting, Occurrence, OccurrenceStatus, Rsvp
from storage.models import Ag


@dataclass(frozen=True)
class FeedMeeting:
    meeting: Meeting
    ag: Ag
    occurrences: list[Occurrence]  # its dates from `since` on (by slot or by time)


async def meetings_of(
    session: AsyncSession, ag_ids: Sequence[int], since: datetime
) -> list[FeedMeeting]:
    """The AGs' meetings (cancelled ones too) that have a date from `since` on."""
    if not ag_ids:
        return []
    recent = or_(Occurrence.start_at >= since, Occurrence.original_start >= since)
    # A series' exceptions of any time: its EXDATEs and RECURRENCE-IDs.
    exception = or_(
        Occurrence.status == OccurrenceStatus.CANCELLED.value,
        Occurrence.start_at != Occurrence.original_start,
        Occurrence.title.is_not(None),
    )
    wanted = select(Occurrence.meeting_id).where(recent).distinct()
    rows = (
        await session.execute(
            select(Meeting, Ag)
            .join(Ag, Ag.id == Meeting.ag_id)
            .where(Meeting.ag_id.in_(list(ag_ids)), Meeting.id.in_(wanted))
            .order_by(Meeting.start_at, Meeting.id)
        )
    ).all()
    dates: dict[int, list[Occurrence]] = {meeting.id: [] for meeting, _ in rows}
    if dates:
        found = await session.scalars(
            select(Occurrence)
            .where(Occurrence.meeting_id.in_(list(dates)), or_(recent, exception))
            .order_by(Occurrence.original_start)
        )
        for occurrence in found:
            dates[occurrence.meeting_id].append(occurrence)
    return [FeedMeeting(meeting, ag, dates[meeting.id]) for meeting, ag in rows]


async def going(
    session: AsyncSession, person_id: int, ag_ids: Sequence[int], since: datetime
) -> list[tuple[Occurrence, Meeting, Ag, datetime]]:
    """The dates from `since` on of the AGs' meetings the person said yes to, with when
    they said it."""
    if not ag_ids:
        return []
    rows = await session.execute(
        select(Occurrence, Meeting, Ag, Rsvp.answered_at)
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
    return [(o, m, a, at) for o, m, a, at in rows.all()]


async def answered_last(session: AsyncSession, person_id: int) -> datetime | None:
    """When the person last answered a date (the "Dabei" feed changes with it)."""
    return await session.scalar(
        select(func.max(Rsvp.answered_at)).where(Rsvp.person_id == person_id)
    )
