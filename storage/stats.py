"""The queries of the leads' overview of an AG (`/stats`): numbers only, never names.

A poll's share is the part of today's members who voted in it: votes of people who have
left since still count in the result, but not in the share, so it never passes 100 %.

A fixed number of statements however many polls and meetings the AG has: the voters of
the recent polls and the answers to the recent meetings are each counted in one grouped
query over all of them, not one query per poll or meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings.models import Meeting, Occurrence, OccurrenceStatus, Rsvp
from storage.models import Account, Membership
from storage.polls.models import Poll, PollBallot, PollChoice, PollMessage

NEW_DAYS = 30
RECENT_POLLS = 5
RECENT_MEETINGS = 5


@dataclass
class PollLine:
    short_id: str
    question: str
    voters: int  # every counted vote, as in the result
    closed: bool
    # How many of today's members voted (the share's numerator); None for anonymous
    # polls, whose votes name nobody (Telegram's counts even include non-members).
    member_voters: int | None = None


@dataclass
class MeetingLine:
    start: datetime
    title: str
    answers: dict[str, int] = field(default_factory=dict)


@dataclass
class AgStats:
    members: int
    by_network: dict[str, int]
    new_members: int
    polls: list[PollLine]
    meetings: list[MeetingLine]


async def ag_stats(session: AsyncSession, ag_id: int, now: datetime) -> AgStats:
    members = int(await session.scalar(select(func.count()).where(Membership.ag_id == ag_id)) or 0)
    by_network = {
        platform: int(n)
        for platform, n in (
            await session.execute(
                select(Account.platform, func.count(func.distinct(Membership.person_id)))
                .join(Account, Account.person_id == Membership.person_id)
                .where(Membership.ag_id == ag_id)
                .group_by(Account.platform)
                .order_by(Account.platform)
            )
        ).all()
    }
    new_members = int(
        await session.scalar(
            select(func.count()).where(
                Membership.ag_id == ag_id, Membership.joined_at >= now - timedelta(days=NEW_DAYS)
            )
        )
        or 0
    )
    polls = await _recent_polls(session, ag_id)
    meetings = await _recent_meetings(session, ag_id, now)
    return AgStats(members, by_network, new_members, polls, meetings)


async def _recent_polls(session: AsyncSession, ag_id: int) -> list[PollLine]:
    """The AG's latest polls with their voters: counted ballots with an answer, plus
    the voters the networks reported for anonymous native polls (as in the results)."""
    polls = list(
        await session.scalars(
            select(Poll).where(Poll.ag_id == ag_id).order_by(Poll.id.desc()).limit(RECENT_POLLS)
        )
    )
    if not polls:
        return []
    ids = [poll.id for poll in polls]
    voters: dict[int, int] = dict.fromkeys(ids, 0)
    counted = (
        select(PollBallot.poll_id, func.count(func.distinct(PollBallot.id)))
        .join(PollChoice, PollChoice.ballot_id == PollBallot.id)
        .where(PollBallot.poll_id.in_(ids), PollBallot.counted.is_(True))
        .group_by(PollBallot.poll_id)
    )
    native = (
        select(PollMessage.poll_id, func.sum(PollMessage.native_voters))
        .where(PollMessage.poll_id.in_(ids), PollMessage.native_voters.is_not(None))
        .group_by(PollMessage.poll_id)
    )
    for query in (counted, native):
        for poll_id, n in (await session.execute(query)).all():
            voters[poll_id] += int(n or 0)
    members = dict.fromkeys(ids, 0)
    current = (
        select(PollBallot.poll_id, func.count(func.distinct(PollBallot.person_id)))
        .join(PollChoice, PollChoice.ballot_id == PollBallot.id)
        .join(
            Membership,
            (Membership.person_id == PollBallot.person_id) & (Membership.ag_id == ag_id),
        )
        .where(PollBallot.poll_id.in_(ids), PollBallot.counted.is_(True))
        .group_by(PollBallot.poll_id)
    )
    for poll_id, n in (await session.execute(current)).all():
        members[poll_id] = int(n or 0)
    return [
        PollLine(
            poll.short_id,
            poll.question,
            voters[poll.id],
            poll.closed_at is not None,
            None if poll.anonymous else members[poll.id],
        )
        for poll in polls
    ]


async def _recent_meetings(session: AsyncSession, ag_id: int, now: datetime) -> list[MeetingLine]:
    """The AG's latest past meetings (held as planned) with the count of each answer."""
    rows = (
        await session.execute(
            select(Occurrence, Meeting)
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(
                Meeting.ag_id == ag_id,
                Occurrence.start_at <= now,
                Occurrence.status == OccurrenceStatus.SCHEDULED.value,
            )
            .order_by(Occurrence.start_at.desc())
            .limit(RECENT_MEETINGS)
        )
    ).all()
    if not rows:
        return []
    answers: dict[int, dict[str, int]] = {occurrence.id: {} for occurrence, _ in rows}
    counts = await session.execute(
        select(Rsvp.occurrence_id, Rsvp.answer, func.count())
        .where(Rsvp.occurrence_id.in_(list(answers)))
        .group_by(Rsvp.occurrence_id, Rsvp.answer)
    )
    for occurrence_id, answer, n in counts.all():
        answers[occurrence_id][answer] = int(n)
    meetings: list[MeetingLine] = []
    for occurrence, meeting in rows:
        title = occurrence.title if occurrence.title is not None else meeting.title
        start = occurrence.start_at.astimezone(ZoneInfo(meeting.timezone))
        meetings.append(MeetingLine(start, title, answers[occurrence.id]))
    return meetings
