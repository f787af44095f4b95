"""Queries for polls. Each function takes the session of the caller's transaction.

The tally is computed by the database (GROUP BY over choices and native totals), never
by loading every ballot into Python.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Ag
from storage.poll_models import (
    Poll,
    PollBallot,
    PollChoice,
    PollKind,
    PollMessage,
    PollNativeCount,
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


async def open_ag_polls(session: AsyncSession) -> list[Poll]:
    """Every open AG poll (start-up: catch up on votes, schedule the timed ones)."""
    return list(
        await session.scalars(
            select(Poll).where(Poll.closed_at.is_(None), Poll.ag_id.is_not(None)).order_by(Poll.id)
        )
    )


async def closed_with_pending_results(session: AsyncSession) -> list[Poll]:
    """Closed polls whose end was not yet carried to every chat (a crash in between)."""
    pending = select(PollMessage.poll_id).where(PollMessage.result_sent_at.is_(None))
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


async def mark_message(
    session: AsyncSession, message_id: int, *, network_closed: bool = False, result: bool = False
) -> None:
    now = datetime.now(UTC)
    values: dict[str, datetime] = {}
    if network_closed:
        values["network_closed_at"] = now
    if result:
        values["result_sent_at"] = now
    await session.execute(update(PollMessage).where(PollMessage.id == message_id).values(values))


async def set_native_counts(
    session: AsyncSession, message_id: int, counts: Sequence[int], voters: int
) -> None:
    """Replace the totals an anonymous native poll reported (the network sends them whole)."""
    await session.execute(delete(PollNativeCount).where(PollNativeCount.message_id == message_id))
    session.add_all(
        PollNativeCount(message_id=message_id, position=i, count=max(0, n))
        for i, n in enumerate(counts)
    )
    await session.execute(
        update(PollMessage).where(PollMessage.id == message_id).values(native_voters=max(0, voters))
    )


# --- ballots -----------------------------------------------------------------------------


class Outcome(enum.Enum):
    NEW = "new"
    CHANGED = "changed"
    SAME = "same"
    RETRACTED = "retracted"
    NOTHING = "nothing"  # a retraction without an earlier vote
    STALE = "stale"  # older than the answer already stored


async def cast(
    session: AsyncSession,
    poll_id: int,
    options: Iterable[int],
    *,
    person_id: int | None = None,
    token: str | None = None,
    platform: str | None = None,
    at: datetime | None = None,
    counted: bool = True,
) -> Outcome:
    """Store one person's answer, replacing their earlier one; empty `options` retracts.

    Named ballots carry `person_id`, `platform` and `at`; an answer older than the stored
    one is ignored. Anonymous ballots carry only `token`.
    """
    if (person_id is None) == (token is None):
        raise ValueError("a ballot needs exactly one of person_id and token")
    chosen = sorted(set(options))
    who = PollBallot.person_id == person_id if person_id is not None else PollBallot.token == token
    ballot = await session.scalar(
        select(PollBallot).where(PollBallot.poll_id == poll_id, who).with_for_update()
    )
    at = utc(at)
    previous: list[int] = []
    if ballot is None:
        ballot = PollBallot(poll_id=poll_id, person_id=person_id, token=token)
        session.add(ballot)
    else:
        stored = utc(ballot.cast_at)
        if stored is not None and at is not None and at < stored:
            return Outcome.STALE
        previous = list(
            await session.scalars(
                select(PollChoice.position)
                .where(PollChoice.ballot_id == ballot.id)
                .order_by(PollChoice.position)
            )
        )
    ballot.platform = platform
    ballot.cast_at = at
    ballot.counted = counted
    await session.flush()
    if previous != chosen:
        await session.execute(delete(PollChoice).where(PollChoice.ballot_id == ballot.id))
        session.add_all(
            PollChoice(ballot_id=ballot.id, position=p, poll_id=poll_id) for p in chosen
        )
        await session.flush()
    if not chosen:
        return Outcome.RETRACTED if previous else Outcome.NOTHING
    if not previous:
        return Outcome.NEW
    return Outcome.SAME if previous == chosen else Outcome.CHANGED


async def choices_of(session: AsyncSession, poll_id: int, person_id: int) -> list[int]:
    rows = await session.scalars(
        select(PollChoice.position)
        .join(PollBallot, PollBallot.id == PollChoice.ballot_id)
        .where(PollBallot.poll_id == poll_id, PollBallot.person_id == person_id)
        .order_by(PollChoice.position)
    )
    return list(rows)


@dataclass
class Tally:
    counts: list[int]
    # Named polls: counted voters by network. Anonymous polls: private votes under None.
    voters_by_network: dict[str | None, int] = field(default_factory=dict)
    # Anonymous native polls: the voters each network reported.
    native_voters: dict[str, int] = field(default_factory=dict)
    not_counted: int = 0  # answers of people outside the AG

    @property
    def voters(self) -> int:
        return sum(self.voters_by_network.values()) + sum(self.native_voters.values())


async def tally(session: AsyncSession, poll_id: int, option_count: int) -> Tally:
    counts = [0] * option_count
    by_choice = (
        select(PollChoice.position, func.count())
        .join(PollBallot, PollBallot.id == PollChoice.ballot_id)
        .where(PollChoice.poll_id == poll_id, PollBallot.counted.is_(True))
        .group_by(PollChoice.position)
    )
    by_native = (
        select(PollNativeCount.position, func.sum(PollNativeCount.count))
        .join(PollMessage, PollMessage.id == PollNativeCount.message_id)
        .where(PollMessage.poll_id == poll_id)
        .group_by(PollNativeCount.position)
    )
    for query in (by_choice, by_native):
        for position, n in (await session.execute(query)).all():
            if 0 <= position < option_count:
                counts[position] += int(n or 0)
    result = Tally(counts)
    voters = (
        select(PollBallot.platform, PollBallot.counted, func.count(func.distinct(PollBallot.id)))
        .join(PollChoice, PollChoice.ballot_id == PollBallot.id)
        .where(PollBallot.poll_id == poll_id)
        .group_by(PollBallot.platform, PollBallot.counted)
    )
    for platform, counted, n in (await session.execute(voters)).all():
        if counted:
            result.voters_by_network[platform] = int(n)
        else:
            result.not_counted += int(n)
    native = (
        select(PollMessage.platform, func.sum(PollMessage.native_voters))
        .where(PollMessage.poll_id == poll_id, PollMessage.native_voters.is_not(None))
        .group_by(PollMessage.platform)
    )
    for network, reported in (await session.execute(native)).all():
        result.native_voters[network] = int(reported or 0)
    return result


async def voter_ids(session: AsyncSession, poll_id: int) -> set[int]:
    """People whose counted answer is in (named polls only)."""
    rows = await session.scalars(
        select(PollBallot.person_id)
        .join(PollChoice, PollChoice.ballot_id == PollBallot.id)
        .where(PollBallot.poll_id == poll_id, PollBallot.counted.is_(True))
        .distinct()
    )
    return {r for r in rows if r is not None}


@dataclass(frozen=True)
class BallotRow:
    name: str
    platform: str
    account: str
    positions: tuple[int, ...]
    cast_at: datetime | None
    counted: bool


async def named_ballots(session: AsyncSession, poll_id: int) -> list[BallotRow]:
    """Every answer of a named poll with the voter's account on the network they used."""
    ballots = list(
        await session.scalars(
            select(PollBallot)
            .where(PollBallot.poll_id == poll_id, PollBallot.person_id.is_not(None))
            .order_by(PollBallot.cast_at, PollBallot.id)
        )
    )
    chosen: dict[int, list[int]] = {}
    for ballot_id, position in (
        await session.execute(
            select(PollChoice.ballot_id, PollChoice.position)
            .where(PollChoice.poll_id == poll_id)
            .order_by(PollChoice.ballot_id, PollChoice.position)
        )
    ).all():
        chosen.setdefault(ballot_id, []).append(position)
    accounts: dict[tuple[int, str], Account] = {}
    person_ids = {b.person_id for b in ballots}
    for found in await session.scalars(
        select(Account).where(Account.person_id.in_(person_ids)).order_by(Account.id)
    ):
        accounts.setdefault((found.person_id, found.platform), found)
    out: list[BallotRow] = []
    for ballot in ballots:
        account = accounts.get((ballot.person_id or 0, ballot.platform or ""))
        if ballot.id not in chosen or account is None:
            continue
        out.append(
            BallotRow(
                account.display_name,
                account.platform,
                account.external_id,
                tuple(chosen[ballot.id]),
                utc(ballot.cast_at),
                ballot.counted,
            )
        )
    return out


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


async def ag_names(session: AsyncSession, ag_ids: Iterable[int]) -> dict[int, Ag]:
    ags = await session.scalars(select(Ag).where(Ag.id.in_(list(ag_ids))))
    return {ag.id: ag for ag in ags}
