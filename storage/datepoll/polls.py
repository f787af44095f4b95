"""Queries for Terminumfragen. Each function takes the session of the caller's
transaction; the rules (who may, until when) are in handlers/datepoll/."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datepoll.models import (
    Answer,
    DatePoll,
    DatePollAnswer,
    DatePollMessage,
    DatePollOption,
    DatePollStatus,
)
from storage.models import Membership
from storage.polls.polls import SHORT_ID_LENGTH, new_short_id, poll_by_short_id


@dataclass(frozen=True)
class Proposed:
    """One date as typed: its start (aware) and length."""

    start: datetime
    minutes: int


@dataclass
class DatePollView:
    poll: DatePoll
    options: list[DatePollOption]
    # position -> person -> answer
    answers: dict[int, dict[int, str]] = field(default_factory=dict)

    def answered(self) -> set[int]:
        return {person for by_person in self.answers.values() for person in by_person}


async def by_short_id(session: AsyncSession, short_id: str) -> DatePoll | None:
    return await session.scalar(select(DatePoll).where(DatePoll.short_id == short_id.lower()))


async def open_of_ag(session: AsyncSession, ag_id: int) -> list[DatePoll]:
    """The AG's Terminumfragen that take answers, newest first."""
    return list(
        await session.scalars(
            select(DatePoll)
            .where(DatePoll.ag_id == ag_id, DatePoll.status == DatePollStatus.OPEN.value)
            .order_by(DatePoll.id.desc())
        )
    )


async def _free_short_id(session: AsyncSession) -> str:
    """An id that neither a poll nor a Terminumfrage has: one id space for `/vote` and
    `/termin`, so a mistyped command never finds the other kind."""
    for attempt in range(20):
        candidate = new_short_id(SHORT_ID_LENGTH + attempt // 10)
        if (
            await by_short_id(session, candidate) is None
            and await poll_by_short_id(session, candidate) is None
        ):
            return candidate
    return new_short_id(SHORT_ID_LENGTH + 3)


async def create(
    session: AsyncSession,
    *,
    ag_id: int,
    title: str,
    place: str,
    url: str,
    timezone: str,
    closes_at: datetime | None,
    created_by: int | None,
    dates: Sequence[Proposed],
    now: datetime,
) -> DatePoll:
    poll = DatePoll(
        short_id=await _free_short_id(session),
        ag_id=ag_id,
        title=title,
        place=place,
        url=url,
        timezone=timezone,
        closes_at=closes_at,
        created_by=created_by,
        status=DatePollStatus.OPEN.value,
        created_at=now,
    )
    session.add(poll)
    await session.flush()
    for position, date in enumerate(dates):
        session.add(
            DatePollOption(
                poll_id=poll.id,
                position=position,
                start_at=date.start,
                duration_minutes=date.minutes,
            )
        )
    await session.flush()
    return poll


async def view(session: AsyncSession, poll: DatePoll) -> DatePollView:
    """The poll with its dates and the answers of the AG's current members (one query
    each): someone who left the AG counts again when they come back, and is not put down
    for the picked meeting meanwhile."""
    options = list(
        await session.scalars(
            select(DatePollOption)
            .where(DatePollOption.poll_id == poll.id)
            .order_by(DatePollOption.position)
        )
    )
    found = DatePollView(poll, options, {o.position: {} for o in options})
    rows = await session.execute(
        select(DatePollAnswer.position, DatePollAnswer.person_id, DatePollAnswer.answer)
        .join(
            Membership,
            (Membership.person_id == DatePollAnswer.person_id) & (Membership.ag_id == poll.ag_id),
        )
        .where(DatePollAnswer.poll_id == poll.id)
    )
    for position, person_id, answer in rows.all():
        found.answers.setdefault(position, {})[person_id] = answer
    return found


async def set_answers(
    session: AsyncSession,
    poll_id: int,
    person_id: int,
    platform: str,
    answers: Mapping[int, Answer],
    now: datetime,
) -> int:
    """Store the person's answers (position -> answer); how many changed. The person's
    rows of this poll are read in one query (not one per date: 15 round trips were most of
    an answer's time, see benchmarks/datepoll.py)."""
    changed = 0
    have = {
        row.position: row
        for row in await session.scalars(
            select(DatePollAnswer).where(
                DatePollAnswer.poll_id == poll_id, DatePollAnswer.person_id == person_id
            )
        )
    }
    for position, answer in answers.items():
        row = have.get(position)
        if row is None:
            session.add(
                DatePollAnswer(
                    poll_id=poll_id,
                    position=position,
                    person_id=person_id,
                    answer=answer.value,
                    platform=platform,
                    answered_at=now,
                )
            )
            changed += 1
        elif row.answer != answer.value:
            row.answer, row.platform, row.answered_at = answer.value, platform, now
            changed += 1
    await session.flush()
    return changed


async def claim(session: AsyncSession, poll_id: int, position: int) -> bool:
    """Mark the poll as picked before its meeting is planned; False when another pick
    came first (two leads at once must not plan two meetings)."""
    result = await session.execute(
        update(DatePoll)
        .where(DatePoll.id == poll_id, DatePoll.status == DatePollStatus.OPEN.value)
        .values(status=DatePollStatus.PICKED.value, picked_position=position)
    )
    return bool(getattr(result, "rowcount", 0))


async def mark_picked(
    session: AsyncSession, poll_id: int, meeting_id: int, occurrence_id: int
) -> None:
    await session.execute(
        update(DatePoll)
        .where(DatePoll.id == poll_id)
        .values(meeting_id=meeting_id, occurrence_id=occurrence_id)
    )


async def record_messages(
    session: AsyncSession, poll_id: int, sent: Sequence[tuple[str, str, str | None]]
) -> None:
    """Remember where the summary went: (platform, chat id, message id), the latest
    message per chat."""
    for platform, chat_id, message_id in sent:
        await _record(session, poll_id, platform, chat_id, message_id)
    await session.flush()


async def _record(
    session: AsyncSession, poll_id: int, platform: str, chat_id: str, message_id: str | None
) -> None:
    row = await session.scalar(
        select(DatePollMessage).where(
            DatePollMessage.poll_id == poll_id,
            DatePollMessage.platform == platform,
            DatePollMessage.chat_id == chat_id,
        )
    )
    if row is None:
        session.add(
            DatePollMessage(
                poll_id=poll_id, platform=platform, chat_id=chat_id, message_id=message_id
            )
        )
    else:
        row.message_id = message_id


# --- a person's data: /mydata, /forget, /connect --------------------------------------


async def answers_of(session: AsyncSession, person_id: int) -> list[dict[str, object]]:
    """The person's answers, for `/mydata`."""
    rows = await session.execute(
        select(DatePoll.short_id, DatePoll.title, DatePollOption.start_at, DatePollAnswer)
        .join(DatePoll, DatePoll.id == DatePollAnswer.poll_id)
        .join(
            DatePollOption,
            (DatePollOption.poll_id == DatePollAnswer.poll_id)
            & (DatePollOption.position == DatePollAnswer.position),
        )
        .where(DatePollAnswer.person_id == person_id)
        .order_by(DatePollAnswer.poll_id, DatePollAnswer.position)
    )
    return [
        {
            "date_poll": short_id,
            "title": title,
            "date": start.isoformat(),
            "answer": row.answer,
            "network": row.platform,
            "answered_at": row.answered_at.isoformat(),
        }
        for short_id, title, start, row in rows.all()
    ]


async def started_by(session: AsyncSession, person_id: int) -> list[dict[str, object]]:
    rows = await session.execute(
        select(DatePoll.short_id, DatePoll.title)
        .where(DatePoll.created_by == person_id)
        .order_by(DatePoll.id)
    )
    return [{"date_poll": short_id, "title": title} for short_id, title in rows.all()]


async def forget(session: AsyncSession, person_id: int) -> None:
    """Delete the person's answers (an answer without a person means nothing) and keep
    the polls they started without their name."""
    await session.execute(delete(DatePollAnswer).where(DatePollAnswer.person_id == person_id))
    await session.execute(
        update(DatePoll).where(DatePoll.created_by == person_id).values(created_by=None)
    )


async def merge(session: AsyncSession, keep: int, absorb: int) -> None:
    """Two accounts became one person: per date the newer answer remains."""
    theirs = {
        (r.poll_id, r.position): r
        for r in await session.scalars(
            select(DatePollAnswer).where(DatePollAnswer.person_id == absorb)
        )
    }
    mine = await session.scalars(select(DatePollAnswer).where(DatePollAnswer.person_id == keep))
    for row in list(mine):
        other = theirs.pop((row.poll_id, row.position), None)
        if other is None:
            continue
        if other.answered_at > row.answered_at:
            row.answer, row.platform, row.answered_at = (
                other.answer,
                other.platform,
                other.answered_at,
            )
        await session.delete(other)
    await session.flush()
    await session.execute(
        update(DatePollAnswer).where(DatePollAnswer.person_id == absorb).values(person_id=keep)
    )
    await session.execute(
        update(DatePoll).where(DatePoll.created_by == absorb).values(created_by=keep)
    )
