"""What the notices need to know about a poll or a Terminumfrage, read in one place: its
AG, deadline and creator, who of the AG has answered (where that can be known), who wants
private messages, and which ones still wait for a deadline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datepoll.models import DatePoll, DatePollAnswer, DatePollStatus
from storage.meetings.models import ReminderPreference
from storage.models import Account, Ag, Membership, Role
from storage.polls.ballots import TokenKeys, voter_ids
from storage.polls.models import Poll, PollBallot, PollChoice, PollMessage
from storage.polls.polls import utc

POLL = "poll"
DATEPOLL = "datepoll"


@dataclass(frozen=True)
class SubjectRow:
    """A poll or Terminumfrage as the notices see it."""

    kind: str  # POLL | DATEPOLL
    id: int
    short_id: str
    title: str
    ag: Ag
    open: bool  # takes answers now (ignoring the deadline, see `closes_at`)
    closes_at: datetime | None
    created_at: datetime
    created_by: int | None
    # Who of the AG's members has answered; None: nobody can know (anonymous native polls).
    answered: frozenset[int] | None
    members: tuple[int, ...]  # the AG's members now
    leads: tuple[int, ...]


async def _members(session: AsyncSession, ag_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Membership.person_id, Membership.role)
        .where(Membership.ag_id == ag_id)
        .order_by(Membership.person_id)
    )
    return [(int(p), str(r)) for p, r in rows.all()]


async def _anonymous_voters(
    session: AsyncSession, keys: TokenKeys, poll_id: int, people: Iterable[int]
) -> set[int]:
    """Members whose anonymous ballot (with an answer) is in, found by the keyed hashes of
    their accounts (as storage/polls/ballots.py `tokens_of`, for all of them in one
    query); what they chose stays unknown."""
    tokens = set(
        await session.scalars(
            select(PollBallot.token)
            .join(PollChoice, PollChoice.ballot_id == PollBallot.id)
            .where(PollBallot.poll_id == poll_id, PollBallot.token.is_not(None))
        )
    )
    wanted = list(set(people))
    if not tokens or not wanted:
        return set()
    accounts = await session.execute(
        select(Account.person_id, Account.platform, Account.external_id).where(
            Account.person_id.in_(wanted)
        )
    )
    found = {p for p in wanted if keys.legacy(poll_id, p) in tokens}
    for person_id, platform, external_id in accounts.all():
        if keys.account(poll_id, platform, external_id) in tokens:
            found.add(int(person_id))
    return found


async def poll_subject(
    session: AsyncSession,
    poll_id: int,
    keys: TokenKeys | None,
    only: Iterable[int] | None = None,
) -> SubjectRow | None:
    """An AG poll; `keys` (the anonymous-ballot hashes) are needed for anonymous ones,
    whose voters are looked for among `only` where given (one hash per account each)."""
    poll = await session.get(Poll, poll_id)
    if poll is None or poll.ag_id is None:
        return None
    ag = await session.get(Ag, poll.ag_id)
    if ag is None:
        return None
    members = await _members(session, ag.id)
    people = [p for p, _ in members]
    answered: set[int] | None
    if not poll.anonymous:
        answered = await voter_ids(session, poll.id)
    else:
        native = await session.scalar(
            select(PollMessage.id)
            .where(PollMessage.poll_id == poll.id, PollMessage.native_id.is_not(None))
            .limit(1)
        )
        answered = None
        if native is None and keys is not None and poll.closed_at is None:
            answered = await _anonymous_voters(
                session, keys, poll.id, people if only is None else only
            )
    created = utc(poll.created_at)
    assert created is not None
    return SubjectRow(
        kind=POLL,
        id=poll.id,
        short_id=poll.short_id,
        title=poll.question,
        ag=ag,
        open=poll.closed_at is None,
        closes_at=utc(poll.closes_at),
        created_at=created,
        created_by=poll.created_by,
        answered=None if answered is None else frozenset(answered),
        members=tuple(people),
        leads=tuple(p for p, r in members if r == Role.LEAD.value),
    )


async def datepoll_subject(session: AsyncSession, poll_id: int) -> SubjectRow | None:
    poll = await session.get(DatePoll, poll_id)
    if poll is None:
        return None
    ag = await session.get(Ag, poll.ag_id)
    if ag is None:
        return None
    members = await _members(session, ag.id)
    answered = set(
        await session.scalars(
            select(DatePollAnswer.person_id).where(DatePollAnswer.poll_id == poll.id).distinct()
        )
    )
    return SubjectRow(
        kind=DATEPOLL,
        id=poll.id,
        short_id=poll.short_id,
        title=poll.title,
        ag=ag,
        open=poll.status == DatePollStatus.OPEN.value,
        closes_at=poll.closes_at,
        created_at=poll.created_at,
        created_by=poll.created_by,
        answered=frozenset(answered),
        members=tuple(p for p, _ in members),
        leads=tuple(p for p, r in members if r == Role.LEAD.value),
    )


async def wants_direct(session: AsyncSession, people: Iterable[int]) -> set[int]:
    """Those of `people` who turned private messages on (`/remind on`)."""
    wanted = list(set(people))
    if not wanted:
        return set()
    rows = await session.scalars(
        select(ReminderPreference.person_id).where(
            ReminderPreference.person_id.in_(wanted), ReminderPreference.direct.is_(True)
        )
    )
    return set(rows)


async def with_deadline(session: AsyncSession, *, deadline: bool = True) -> list[tuple[str, int]]:
    """Open AG polls and open Terminumfragen that have a deadline (start-up: plan them);
    with `deadline=False` all open ones."""
    poll_query = select(Poll.id).where(Poll.closed_at.is_(None), Poll.ag_id.is_not(None))
    date_query = select(DatePoll.id).where(DatePoll.status == DatePollStatus.OPEN.value)
    if deadline:
        poll_query = poll_query.where(Poll.closes_at.is_not(None))
        date_query = date_query.where(DatePoll.closes_at.is_not(None))
    polls = await session.scalars(poll_query.order_by(Poll.id))
    dates = await session.scalars(date_query.order_by(DatePoll.id))
    return [(POLL, int(i)) for i in polls] + [(DATEPOLL, int(i)) for i in dates]


async def open_of_ag(session: AsyncSession, ag_id: int) -> list[tuple[str, int]]:
    """The AG's open polls and Terminumfragen with a deadline (its nudge time changed)."""
    return [
        (kind, poll_id)
        for kind, poll_id in await with_deadline(session)
        if await _ag_of(session, kind, poll_id) == ag_id
    ]


async def _ag_of(session: AsyncSession, kind: str, poll_id: int) -> int | None:
    model = Poll if kind == POLL else DatePoll
    return await session.scalar(select(model.ag_id).where(model.id == poll_id))


async def set_nudge_minutes(session: AsyncSession, ag_id: int, minutes: int | None) -> None:
    ag = await session.get(Ag, ag_id)
    if ag is not None:
        ag.nudge_minutes = minutes
