"""Ballots and the tally. Each function takes the session of the caller's transaction.

The tally is computed by the database (GROUP BY over choices and native totals), never
by loading every ballot into Python: 10,000 votes take milliseconds (benchmarks/polls.py).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account
from storage.poll_models import PollBallot, PollChoice, PollMessage, PollNativeCount
from storage.polls_repo import utc


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
