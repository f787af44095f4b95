"""The transactions of `/connect` and `/disconnect`: storing a code, redeeming it (show
what a link would do, then link on confirmation) and splitting an account off again.

Codes are stored only as a keyed hash (storage/connect/models.py). A code belongs to the
account that asked for it, is valid for `CODE_VALID` and works once; typing it reserves
it for the typing account, which alone may confirm. After `MISSES_ALLOWED` codes that do
not exist within `MISS_WINDOW`, every code is refused for that account for a while.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.connect.merge import count_accounts, merge, split_off
from storage.connect.models import ConnectCode, ConnectMiss
from storage.models import Account, Base, Person
from storage.polls.ballots import TokenKeys

CODE_VALID = timedelta(minutes=10)
MISSES_ALLOWED = 5
MISS_WINDOW = timedelta(hours=1)


class Outcome(enum.Enum):
    ASK = "ask"
    LINKED = "linked"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    SAME_NETWORK = "same-network"
    ALREADY = "already"
    NETWORK_TAKEN = "network-taken"
    TOO_MANY = "too-many"


@dataclass(frozen=True)
class Holder:
    """An account as it was read in the transaction (still usable after it ends)."""

    platform: str
    external_id: str
    display_name: str
    username: str | None


@dataclass(frozen=True)
class Side:
    """One side of a link as the person who types the code is shown it."""

    account: Holder
    ags: list[tuple[str, str]]  # (AG slug, role)
    card: bool


@dataclass(frozen=True)
class Redeemed:
    outcome: Outcome
    person_id: int  # the typing account's person after the transaction
    sides: tuple[Side, Side] | None = None  # (the code's owner, the typing account)


def holder(account: Account) -> Holder:
    return Holder(account.platform, account.external_id, account.display_name, account.username)


async def store_code(
    session: AsyncSession, platform: str, external_id: str, code_hash: str, now: datetime
) -> None:
    """A new code for the account; its earlier codes and all expired ones go."""
    account = await repo.find_account(session, platform, external_id)
    assert account is not None
    await session.execute(
        delete(ConnectCode).where(
            (ConnectCode.account_id == account.id) | (ConnectCode.expires_at <= now)
        )
    )
    session.add(
        ConnectCode(account_id=account.id, code_hash=code_hash, expires_at=now + CODE_VALID)
    )
    await session.flush()


async def _count_misses(session: AsyncSession, account_id: int, since: datetime) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ConnectMiss)
            .where(ConnectMiss.account_id == account_id, ConnectMiss.at > since)
        )
        or 0
    )


async def _add_miss(session: AsyncSession, account_id: int, now: datetime, since: datetime) -> None:
    """Note a wrong code; misses from before `since` no longer count and go."""
    await session.execute(delete(ConnectMiss).where(ConnectMiss.at <= since))
    session.add(ConnectMiss(account_id=account_id, at=now))
    await session.flush()


async def _side(session: AsyncSession, account: Account) -> Side:
    card = Base.metadata.tables.get("card")
    has_card = card is not None and (
        await session.scalar(select(card.c.person_id).where(card.c.person_id == account.person_id))
        is not None
    )
    ags = [(ag.slug, role) for ag, role in await repo.memberships_of(session, account.person_id)]
    return Side(holder(account), ags, has_card)


async def redeem(
    session: AsyncSession,
    platform: str,
    external_id: str,
    person_id: int,
    code_hash: str,
    now: datetime,
    *,
    confirmed: bool,
    keys: TokenKeys | None,
) -> Redeemed:
    """The account types a code: refuse it, show what a link would do (and reserve the
    code for this account), or, confirmed by the account it was shown to, link."""
    mine = await repo.find_account(session, platform, external_id)
    assert mine is not None
    since = now - MISS_WINDOW
    if await _count_misses(session, mine.id, since) >= MISSES_ALLOWED:
        return Redeemed(Outcome.TOO_MANY, person_id)
    found = await session.scalar(
        select(ConnectCode).where(ConnectCode.code_hash == code_hash).with_for_update()
    )
    if found is None:
        await _add_miss(session, mine.id, now, since)
        return Redeemed(Outcome.UNKNOWN, person_id)
    if found.used or found.claimed_by not in (None, mine.id):
        return Redeemed(Outcome.USED, person_id)
    if found.expires_at <= now:
        return Redeemed(Outcome.EXPIRED, person_id)
    owner = await session.get(Account, found.account_id)
    assert owner is not None
    if owner.platform == platform:
        return Redeemed(Outcome.SAME_NETWORK, person_id)
    if owner.person_id == person_id:
        return Redeemed(Outcome.ALREADY, person_id)
    keep = owner.person_id
    theirs = {a.platform for a in await repo.accounts_of(session, keep)}
    ours = {a.platform for a in await repo.accounts_of(session, person_id)}
    if theirs & ours:
        return Redeemed(Outcome.NETWORK_TAKEN, person_id)
    sides = (await _side(session, owner), await _side(session, mine))
    if not confirmed or found.claimed_by != mine.id:
        # Shown what a link would do: from now on only this account may confirm,
        # for CODE_VALID from the first time it was shown.
        if found.claimed_by is None:
            found.claimed_by = mine.id
            found.expires_at = now + CODE_VALID
        return Redeemed(Outcome.ASK, person_id, sides)
    found.used = True
    await session.flush()
    await merge(session, keep, person_id, keys)
    return Redeemed(Outcome.LINKED, keep, sides)


async def person_language(session: AsyncSession, person_id: int) -> str | None:
    person = await session.get(Person, person_id)
    return person.language if person else None


async def disconnect(
    session: AsyncSession, platform: str, external_id: str, person_id: int, keys: TokenKeys | None
) -> tuple[int, list[Holder]] | None:
    """Split the account off its person: returns its new person and the accounts it was
    linked with on other networks (None: it was linked with none)."""
    if await count_accounts(session, person_id) < 2:
        return None
    account = await repo.find_account(session, platform, external_id)
    assert account is not None
    others = [holder(a) for a in await repo.accounts_of(session, person_id)]
    new = await split_off(session, account.id, keys)
    return new, [a for a in others if a.platform != platform]
