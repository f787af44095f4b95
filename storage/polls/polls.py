"""Queries for polls, where they were posted, and survey runs. Each function takes the
session of the caller's transaction. Ballots and the tally: `storage.polls.ballots`."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.polls.models import (
    Poll,
    PollBallot,
    PollKind,
    PollMessage,
    PollOption,
    SurveyRun,
)

# No 0/o, 1/l/i: ids are read aloud and typed on phones. Ids start with a letter so
# that `/vote 2` (an option) never looks like a poll id.
_LETTERS = "abcdefghjkmnpqrstuvwxyz"
_ALPHABET = _LETTERS + "23456789"
SHORT_ID_LENGTH = 4


def utc(value: datetime | None) -> datetime | None:
    """Datetimes come back naive from SQLite; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_short_id(length: int = SHORT_ID_LENGTH) -> str:
    return secrets.choice(_LETTERS) + "".join(secrets.choice(_ALPHABET) for _ in range(length - 1))


def looks_like_short_id(value: str) -> bool:
    value = value.lower()
    return 3 <= len(value) <= 8 and value[0] in _LETTERS and all(ch in _ALPHABET for ch in value)


# --- polls -----------------------------------------------------------------------------


async def create_poll(
    session: AsyncSession,
    *,
    question: str,
    options: Sequence[str],
    ag_id: int | None,
    created_by: int | None,
    multi: bool = False,
    anonymous: bool = False,
    closes_at: datetime | None = None,
    survey_key: str | None = None,
    standing_key: str | None = None,
    created_at: datetime | None = None,
) -> Poll:
    """A new poll with a short id no other poll has (checked here, enforced by a key)."""
    for attempt in range(20):
        short_id = new_short_id(SHORT_ID_LENGTH + attempt // 10)
        if await poll_by_short_id(session, short_id) is None:
            break
    poll = Poll(
        short_id=short_id,
        kind=(PollKind.SURVEY if standing_key else PollKind.POLL).value,
        ag_id=ag_id,
        created_by=created_by,
        question=question,
        multi=multi,
        anonymous=anonymous,
        closes_at=utc(closes_at),
        survey_key=survey_key,
        standing_key=standing_key,
        created_at=utc(created_at) or datetime.now(UTC),
    )
    session.add(poll)
    await session.flush()
    session.add_all(
        PollOption(poll_id=poll.id, position=i, text=text) for i, text in enumerate(options)
    )
    await session.flush()
    return poll


async def poll_by_short_id(session: AsyncSession, short_id: str) -> Poll | None:
    return await session.scalar(select(Poll).where(Poll.short_id == short_id.lower()))


async def options_of(session: AsyncSession, poll_id: int) -> list[str]:
    rows = await session.scalars(
        select(PollOption.text).where(PollOption.poll_id == poll_id).order_by(PollOption.position)
    )
    return list(rows)


async def standing_poll(session: AsyncSession, key: str) -> Poll | None:
    return await session.scalar(select(Poll).where(Poll.standing_key == key))


async def polls_of_ags(
    session: AsyncSession, ag_ids: Iterable[int], *, open_only: bool = False, limit: int = 20
) -> list[Poll]:
    """The AGs' polls, open ones first, then the most recent."""
    query = select(Poll).where(Poll.ag_id.in_(list(ag_ids)))
    if open_only:
        query = query.where(Poll.closed_at.is_(None))
    query = query.order_by(Poll.closed_at.is_not(None), Poll.created_at.desc(), Poll.id.desc())
    return list(await session.scalars(query.limit(limit)))


async def open_from_templates(session: AsyncSession, ag_id: int, keys: Iterable[str]) -> list[Poll]:
    """The AG's open polls started from these survey templates, newest first."""
    return list(
        await session.scalars(
            select(Poll)
            .where(
                Poll.ag_id == ag_id,
                Poll.closed_at.is_(None),
                Poll.survey_key.in_(list(keys)),
            )
            .order_by(Poll.created_at.desc(), Poll.id.desc())
        )
    )


async def created_since(session: AsyncSession, since: datetime) -> bool:
    """Whether an AG poll was created since then (it may still be being posted)."""
    found = await session.scalar(
        select(Poll.id).where(Poll.ag_id.is_not(None), Poll.created_at >= utc(since)).limit(1)
    )
    return found is not None


async def open_ag_polls(session: AsyncSession) -> list[Poll]:
    """Every open AG poll (start-up: catch up on votes, schedule the timed ones)."""
    return list(
        await session.scalars(
            select(Poll).where(Poll.closed_at.is_(None), Poll.ag_id.is_not(None)).order_by(Poll.id)
        )
    )


def _end_pending() -> ColumnElement[bool]:
    """SQL: the poll's end is still to be carried to this chat (its result, or closing
    the native poll)."""
    return or_(
        PollMessage.result_sent_at.is_(None),
        and_(PollMessage.native_id.is_not(None), PollMessage.network_closed_at.is_(None)),
    )


async def closed_with_pending_results(session: AsyncSession, now: datetime) -> list[Poll]:
    """Closed polls whose end was not yet carried to every chat (a crash in between), in a
    chat nobody is carrying it to now (no live lease: start-up and rescans take these)."""
    pending = select(PollMessage.poll_id).where(_end_pending(), leases.expired(PollMessage, now))
    return list(
        await session.scalars(
            select(Poll).where(Poll.closed_at.is_not(None), Poll.id.in_(pending)).order_by(Poll.id)
        )
    )


async def mark_closed(session: AsyncSession, poll_id: int, at: datetime) -> bool:
    """Close the poll; False if it was closed already (only one closer posts the result).

    Anonymous polls lose their one-vote tokens here: nothing is left to link a ballot
    to a person, not even with the key.
    """
    result = await session.execute(
        update(Poll).where(Poll.id == poll_id, Poll.closed_at.is_(None)).values(closed_at=utc(at))
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.execute(
        update(PollBallot).where(PollBallot.poll_id == poll_id).values(token=None)
    )
    return True


# --- where a poll was posted -------------------------------------------------------------


async def add_message(
    session: AsyncSession,
    poll_id: int,
    platform: str,
    chat_id: str,
    message_id: str | None,
    native_id: str | None,
) -> PollMessage:
    row = PollMessage(
        poll_id=poll_id,
        platform=platform,
        chat_id=chat_id,
        message_id=message_id,
        native_id=native_id,
    )
    session.add(row)
    await session.flush()
    return row


async def messages_of(session: AsyncSession, poll_id: int) -> list[PollMessage]:
    return list(
        await session.scalars(
            select(PollMessage).where(PollMessage.poll_id == poll_id).order_by(PollMessage.id)
        )
    )


async def message_by_native_id(
    session: AsyncSession, platform: str, native_id: str
) -> PollMessage | None:
    return await session.scalar(
        select(PollMessage).where(
            PollMessage.platform == platform, PollMessage.native_id == native_id
        )
    )


async def message_by_id(session: AsyncSession, message_id: int) -> PollMessage | None:
    return await session.get(PollMessage, message_id, populate_existing=True)


async def take_message(
    session: AsyncSession, message_id: int, *, owner: str, now: datetime
) -> bool:
    """Take one chat's end of a closed poll (closing the native poll, posting the result)
    with a lease to `owner`: of several processes ending the poll at once, one posts in
    each chat. Never a row with a live lease, not even `owner`'s own (under way here)."""
    return await leases.take(
        session,
        PollMessage,
        message_id,
        owner=owner,
        now=now,
        where=(_end_pending(), leases.expired(PollMessage, now)),
    )


async def hold_message(
    session: AsyncSession, message_id: int, *, owner: str, now: datetime, ttl: timedelta
) -> None:
    """Keep a chat whose end could not be posted now (its network down or not running
    here) for `ttl`; then it is tried again."""
    await leases.renew(session, PollMessage, [message_id], owner=owner, now=now, ttl=ttl)


async def mark_message(
    session: AsyncSession, message_id: int, *, network_closed: bool = False, result: bool = False
) -> None:
    """Record a step of the chat's end; the result, the last step, ends the lease."""
    now = datetime.now(UTC)
    values: dict[str, datetime | None] = {}
    if network_closed:
        values["network_closed_at"] = now
    if result:
        values["result_sent_at"] = now
        values["lease_owner"] = values["lease_until"] = None
    await session.execute(update(PollMessage).where(PollMessage.id == message_id).values(values))


async def deadlines(session: AsyncSession) -> list[tuple[int, datetime]]:
    """(id, closes_at) of the open AG polls with a deadline: a rescan plans the closes
    that another process's polls need (one query, no per-poll reads)."""
    rows = await session.execute(
        select(Poll.id, Poll.closes_at).where(
            Poll.closed_at.is_(None), Poll.ag_id.is_not(None), Poll.closes_at.is_not(None)
        )
    )
    found = [(int(i), utc(at)) for i, at in rows.all()]
    return [(i, at) for i, at in found if at is not None]


# --- survey runs -------------------------------------------------------------------------


async def survey_run(session: AsyncSession, person_id: int) -> SurveyRun | None:
    return await session.get(SurveyRun, person_id)


async def start_survey_run(session: AsyncSession, person_id: int) -> None:
    run = await session.get(SurveyRun, person_id)
    if run is None:
        session.add(SurveyRun(person_id=person_id, step=0))
    else:
        run.step = 0
        run.started_at = datetime.now(UTC)
        run.finished_at = None
