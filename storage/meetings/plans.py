"""The transactions behind planning, moving and cancelling meetings and changing an AG's
reminder offsets: each runs in one session and returns what the scheduler must learn.

The calendar rules stay with the caller: `expand(meeting, after, until)` gives the starts
of a meeting in `after <= start < until` (handlers/meetings/series.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings import occurrences as occ
from storage.meetings import reminders as rem
from storage.meetings import settings as prefs
from storage.meetings.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus

Expand = Callable[[Meeting, datetime, datetime], list[datetime]]


async def materialise(
    session: AsyncSession,
    meeting: Meeting,
    now: datetime,
    *,
    horizon: timedelta,
    expand: Expand,
    default_offsets: Sequence[timedelta],
) -> tuple[list[Occurrence], rem.ReminderChanges]:
    """Occurrence rows up to the horizon (the first one always) and their reminders."""
    after = meeting.materialised_until or meeting.start_at
    until = max(now + horizon, meeting.start_at + timedelta(seconds=1))
    starts = expand(meeting, after, until) if after < until else []
    if meeting.materialised_until is None:
        # The start as given (e.g. the second 02:30 of the autumn night), not as the rule
        # would place that wall time.
        starts = [meeting.start_at, *(s for s in starts if s > meeting.start_at)]
    else:
        starts = [s for s in starts if s > now]  # after long downtime: nothing past
    new = await occ.add_occurrences(session, meeting.id, [s.astimezone(UTC) for s in starts])
    meeting.materialised_until = max(after, until)
    changes = rem.no_changes()
    if new:
        offsets = await prefs.offsets_for(session, meeting.ag_id, default_offsets)
        for occurrence in new:
            changes += await rem.sync_reminders(session, occurrence, offsets, now)
    return new, changes


async def extend_series(
    session: AsyncSession,
    now: datetime,
    *,
    horizon: timedelta,
    expand: Expand,
    default_offsets: Sequence[timedelta],
) -> rem.ReminderChanges:
    """Materialise every active series up to the horizon."""
    changes = rem.no_changes()
    for meeting in await occ.series_needing_occurrences(session, now + horizon):
        changes += (
            await materialise(
                session,
                meeting,
                now,
                horizon=horizon,
                expand=expand,
                default_offsets=default_offsets,
            )
        )[1]
    return changes


@dataclass(frozen=True)
class Planned:
    occurrence_id: int  # the first occurrence
    changes: rem.ReminderChanges
    offsets: list[timedelta]  # the AG's reminder offsets


async def plan_meeting(
    session: AsyncSession,
    meeting: Meeting,
    now: datetime,
    *,
    horizon: timedelta,
    expand: Expand,
    default_offsets: Sequence[timedelta],
) -> Planned:
    """Store a new meeting (or series) with its first occurrences and their reminders."""
    meeting.changed_at = now  # on the bot's clock, as its later changes are
    session.add(meeting)
    await session.flush()
    new, changes = await materialise(
        session, meeting, now, horizon=horizon, expand=expand, default_offsets=default_offsets
    )
    offsets = await prefs.offsets_for(session, meeting.ag_id, default_offsets)
    return Planned(new[0].id, changes, offsets)


async def cancel(
    session: AsyncSession, meeting_id: int, occurrence_id: int, now: datetime, *, series: bool
) -> tuple[rem.ReminderChanges, int]:
    """Cancel one occurrence, or every one still ahead (`series`); how many."""
    meeting = await session.get(Meeting, meeting_id)
    occurrence = await session.get(Occurrence, occurrence_id)
    assert meeting is not None and occurrence is not None
    if series or meeting.rrule is None:
        meeting.status = MeetingStatus.CANCELLED.value
    targets = (
        await occ.future_occurrences(session, now, meeting_id=meeting.id)
        if series
        else [occurrence]
    )
    for each in targets:
        each.status = OccurrenceStatus.CANCELLED.value
    withdrawn = await rem.withdraw_reminders(session, [o.id for o in targets])
    changed(meeting, now)
    return rem.ReminderChanges([], withdrawn), len(targets)


def changed(meeting: Meeting, now: datetime) -> None:
    """Count a change of the meeting or one of its dates, for calendar feeds (SEQUENCE
    and Last-Modified)."""
    meeting.sequence = (meeting.sequence or 0) + 1
    meeting.changed_at = now


@dataclass(frozen=True)
class Change:
    """What /edit changes: a new start, title, link or place (None/"" : unchanged)."""

    start: datetime | None
    title: str
    url: str
    place: str | None
    series: bool  # a new title for the whole series


async def edit(
    session: AsyncSession,
    meeting_id: int,
    occurrence_id: int,
    change: Change,
    now: datetime,
    *,
    default_offsets: Sequence[timedelta],
) -> rem.ReminderChanges:
    """Move or rename an occurrence; a move replaces its pending reminders by new ones."""
    meeting = await session.get(Meeting, meeting_id)
    occurrence = await session.get(Occurrence, occurrence_id)
    assert meeting is not None and occurrence is not None
    changes = rem.no_changes()
    if change.start is not None:
        changes.withdrawn += await rem.withdraw_reminders(session, [occurrence.id])
        occurrence.start_at, occurrence.revision = change.start, occurrence.revision + 1
        if meeting.rrule is None:
            meeting.start_at = change.start
        offsets = await prefs.offsets_for(session, meeting.ag_id, default_offsets)
        changes += await rem.sync_reminders(session, occurrence, offsets, now)
    if change.title and (change.series or meeting.rrule is None):
        meeting.title, occurrence.title = change.title, None
    elif change.title:
        occurrence.title = change.title
    if change.url:
        meeting.url = change.url
    if change.place is not None:
        meeting.place = change.place
    changed(meeting, now)
    return changes


async def set_offsets(
    session: AsyncSession,
    ag_id: int,
    offsets: Sequence[timedelta] | None,
    now: datetime,
    *,
    default_offsets: Sequence[timedelta],
) -> tuple[rem.ReminderChanges, int, list[timedelta]]:
    """Give the AG its own offsets (None: the default again) and re-plan the reminders of
    its occurrences ahead; how many there are, and the offsets now in force."""
    if offsets is None:
        await prefs.reset_ag_offsets(session, ag_id)
        effective = list(default_offsets)
    else:
        await prefs.set_ag_offsets(session, ag_id, offsets)
        effective = list(offsets)
    changes = rem.no_changes()
    planned = await occ.future_occurrences(session, now, ag_id=ag_id)
    for occurrence in planned:
        changes += await rem.sync_reminders(session, occurrence, effective, now)
    return changes, len(planned), effective
