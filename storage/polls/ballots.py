"""Ballots and the tally. Each function takes the session of the caller's transaction.

The tally is computed by the database (GROUP BY over choices and native totals), never
by loading every ballot into Python: 10,000 votes take milliseconds (benchmarks/polls.py).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account
from storage.polls.models import PollBallot, PollChoice, PollMessage, PollNativeCount
from storage.polls.polls import utc


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


class TokenKeys(Protocol):
    """The keyed hashes of anonymous ballots (handlers/polls/secret.py `VoterKeys`)."""

    def account(self, poll_id: int, platform: str, external_id: str) -> str: ...

    def legacy(self, poll_id: int, person_id: int) -> str: ...


async def tokens_of(
    session: AsyncSession, keys: TokenKeys, poll_id: int, person_id: int
) -> list[str]:
    """Every hash a ballot of this person in this anonymous poll may be stored under:
    one per account of theirs, and the person-keyed hash of ballots from before."""
    accounts = (
        await session.execute(
            select(Account.platform, Account.external_id)
            .where(Account.person_id == person_id)
            .order_by(Account.id)
        )
    ).all()
    return [keys.account(poll_id, p, e) for p, e in accounts] + [keys.legacy(poll_id, person_id)]


async def drop_ballots(session: AsyncSession, ballot_ids: Collection[int]) -> None:
    if ballot_ids:
        ids = list(ballot_ids)
        await session.execute(delete(PollChoice).where(PollChoice.ballot_id.in_(ids)))
        await session.execute(delete(PollBallot).where(PollBallot.id.in_(ids)))


async def cast(
    session: AsyncSession,
    poll_id: int,
    options: Iterable[int],
    *,
    person_id: int | None = None,
    account_id: int | None = None,
    token: str | None = None,
    tokens: Collection[str] = (),
    platform: str | None = None,
    at: datetime | None = None,
    counted: bool = True,
) -> Outcome:
    """Store a voter's answer, replacing their earlier one; empty `options` retracts.

    Named ballots carry `person_id`, `account_id` (the account voting now), `platform`
    and `at`; the earlier ballot is the person's or the account's (should they be two,
    left from data written before one ballot per account held, they become one). An
    answer older than the stored one is ignored. Anonymous ballots carry only `token`
    (the voting account's hash); `tokens` are the hashes of the person's other accounts,
    whose ballot this one replaces and takes over.
    """
    if token is None:
        if person_id is None or account_id is None:
            raise ValueError("a named ballot needs person_id and account_id")
        who = or_(PollBallot.person_id == person_id, PollBallot.account_id == account_id)
    elif person_id is not None or account_id is not None:
        raise ValueError("an anonymous ballot carries only a token")
    else:
        who = PollBallot.token.in_({token, *tokens})
    found = list(
        await session.scalars(
            select(PollBallot)
            .where(PollBallot.poll_id == poll_id, who)
            .order_by(PollBallot.id)
            .with_for_update()
        )
    )
    chosen = sorted(set(options))
    at = utc(at)
    # The ballot kept: the person's own, else the first found; the others are merged in.
    found.sort(key=lambda b: (b.person_id != person_id or person_id is None, b.token != token))
    times = [t for b in found if (t := utc(b.cast_at)) is not None]
    if times and at is not None and at < max(times):
        return Outcome.STALE
    ballot = found[0] if found else None
    previous: list[int] = []
    if ballot is None:
        ballot = PollBallot(poll_id=poll_id)
        session.add(ballot)
    else:
        await drop_ballots(session, [b.id for b in found[1:]])
        await session.flush()
        previous = list(
            await session.scalars(
                select(PollChoice.position)
                .where(PollChoice.ballot_id == ballot.id)
                .order_by(PollChoice.position)
            )
        )
    ballot.person_id, ballot.account_id, ballot.token = person_id, account_id, token
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
    """One answer for the export; `name`, `account` are None once the voter was forgotten."""

    name: str | None
    platform: str | None
    account: str | None
    positions: tuple[int, ...]
    cast_at: datetime | None
    counted: bool


async def named_ballots(session: AsyncSession, poll_id: int) -> list[BallotRow]:
    """Every answer of a named poll (each one the tally counts), with the account that
    cast it; answers of forgotten people are in it without a name."""
    ballots = list(
        await session.scalars(
            select(PollBallot)
            .where(PollBallot.poll_id == poll_id)
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
    person_ids = {b.person_id for b in ballots if b.person_id is not None}
    account_ids = {b.account_id for b in ballots if b.account_id is not None}
    by_id: dict[int, Account] = {}
    by_person: dict[int, Account] = {}
    for found in await session.scalars(
        select(Account)
        .where(or_(Account.person_id.in_(person_ids), Account.id.in_(account_ids)))
        .order_by(Account.id)
    ):
        by_id[found.id] = found
        by_person.setdefault(found.person_id, found)
    out: list[BallotRow] = []
    for ballot in ballots:
        if ballot.id not in chosen:
            continue
        # Ballots from before account_id was recorded: the person's first account.
        account = by_id.get(ballot.account_id or 0) or by_person.get(ballot.person_id or 0)
        out.append(
            BallotRow(
                account.display_name if account else None,
                ballot.platform,
                account.external_id if account else None,
                tuple(chosen[ballot.id]),
                utc(ballot.cast_at),
                ballot.counted,
            )
        )
    return out
