"""The pick of a Terminumfrage in one transaction (`decide`): the poll is taken (only
one pick wins), its meeting is planned, the poll remembers the meeting it became, and
its ja / wenn nötig answers become RSVPs "Dabei" / "Vielleicht"; the private
announcements it owes are written as PICKED notice rows. A crash anywhere in between
leaves nothing: the poll is open again, a second pick works."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.datepoll import polls as datepolls
from storage.datepoll.models import Answer, DatePoll
from storage.datepoll.polls import mark_picked
from storage.meetings import plans
from storage.meetings import settings as prefs
from storage.meetings.models import Meeting, Occurrence
from storage.meetings.occurrences import OccurrenceView, occurrence_view
from storage.meetings.rsvps import set_rsvp
from storage.models import Account
from storage.notices import rows as notices
from storage.notices.models import Notice, NoticeKind, subject_of

# A Terminumfrage answer -> the RSVP it becomes ("nein" is no RSVP: they were not asked
# about this meeting, only about a date).
_RSVP = {Answer.YES.value: "yes", Answer.MAYBE.value: "maybe"}


@dataclass(frozen=True)
class Decision:
    planned: plans.Planned
    notice_ids: list[int]  # the PICKED notices it owes


async def decide(
    session: AsyncSession,
    poll_id: int,
    position: int,
    meeting: Meeting,
    now: datetime,
    *,
    horizon: timedelta,
    expand: plans.Expand,
    default_offsets: Sequence[timedelta],
    skip: Collection[int] = (),
) -> Decision | None:
    """The whole pick, in the caller's one transaction; None when another pick came
    first. The answers are read after the poll was taken (it takes no more), so one
    given while the lead typed is put down too."""
    if not await datepolls.claim(session, poll_id, position):
        return None
    planned = await plans.plan_meeting(
        session, meeting, now, horizon=horizon, expand=expand, default_offsets=default_offsets
    )
    poll = await session.get(DatePoll, poll_id, populate_existing=True)
    assert poll is not None
    answers = (await datepolls.view(session, poll)).answers.get(position, {})
    ids = await picked(session, poll_id, planned.occurrence_id, answers, skip=skip)
    return Decision(planned, ids)


async def picked(
    session: AsyncSession,
    poll_id: int,
    occurrence_id: int,
    answers: Mapping[int, str],
    *,
    skip: Collection[int] = (),
) -> list[int]:
    """Record the pick; the ids of the PICKED notices it owes (everyone who wants private
    messages, except `skip`)."""
    meeting_id = await session.scalar(
        select(Occurrence.meeting_id).where(Occurrence.id == occurrence_id)
    )
    assert meeting_id is not None
    await mark_picked(session, poll_id, meeting_id, occurrence_id)
    for person_id, answer in answers.items():
        if answer in _RSVP:
            await set_rsvp(session, occurrence_id, person_id, _RSVP[answer])
    await session.flush()
    poll = await session.get(DatePoll, poll_id)
    assert poll is not None
    return await want_notices(session, poll_id, poll.ag_id, skip)


async def want_notices(
    session: AsyncSession, poll_id: int, ag_id: int, skip: Collection[int] = ()
) -> list[int]:
    """A PICKED notice row for each member who wants private messages (`/remind on`),
    in the pick's transaction, so a crash right after the pick still sends them."""
    people = [p for p in await prefs.direct_subscribers(session, ag_id) if p not in skip]
    return await notices.want(
        session, NoticeKind.PICKED.value, subject_of("datepoll", poll_id), people
    )


@dataclass(frozen=True)
class PickedNotice:
    """What one PICKED notice needs at send time, read in one transaction."""

    notice: Notice
    meeting: OccurrenceView | None  # None: the poll or its meeting is gone
    accounts: list[Account]
    language: str | None
    wanted: bool  # still a member of the AG and still `/remind on`


async def picked_notice(session: AsyncSession, notice_id: int) -> PickedNotice | None:
    notice = await session.get(Notice, notice_id)
    if notice is None or notice.kind != NoticeKind.PICKED.value:
        return None
    poll_id = int(notice.subject.partition(":")[2])
    poll = await session.get(DatePoll, poll_id)
    meeting = None
    if poll is not None and poll.occurrence_id is not None:
        meeting = await occurrence_view(session, poll.occurrence_id)
    wanted = False
    if meeting is not None:
        wanted = notice.person_id in await prefs.direct_subscribers(session, meeting.ag.id)
    return PickedNotice(
        notice,
        meeting,
        await repo.accounts_of(session, notice.person_id),
        await repo.person_language(session, notice.person_id),
        wanted,
    )
