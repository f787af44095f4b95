"""Leases: who may send a row's message now, and until when.

Everything the bot sends once (a reminder, each of its deliveries, a notice, a poll's
result in a chat, a Matrix message queued by a standby) is a row with a status. Taking
such a row for sending is one conditional UPDATE that also writes a lease: this process
(`owner`, the node id of bot/node.py) holds it until `lease_until`. Of two processes only
one UPDATE matches, on SQLite and PostgreSQL alike, so even two leaders for a moment
cannot both send it. A process that dies holding a lease leaves the row `sending`; it may
be taken again only once the lease has run out (start-up resumes expired leases only,
never a live one of another process). A holder renews its lease while it works.

Several rows at once are taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL (processes
taking at the same moment get disjoint rows instead of waiting for each other); SQLite
has one writer at a time, so there the plain conditional UPDATE is enough.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.types import UtcDateTime

OWNER_MAX = 64
DEFAULT_LEASE = timedelta(seconds=30)
LEASE_ENV = "BUENDNISBOT_LEASE_SECONDS"


def lease_length(environ: Mapping[str, str] = os.environ) -> timedelta:
    """How long a taken row stays ours without a renewal: 30 s, or `BUENDNISBOT_LEASE_SECONDS`.
    The knob is for tests that kill a process and wait for its leases to run out (a few
    seconds instead of 30); in production a short lease risks a second send on Telegram
    whenever a renewal is late. Renewals (bot/lease_keeper.py) run at a third of it."""
    raw = environ.get(LEASE_ENV, "").strip()
    if not raw:
        return DEFAULT_LEASE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not 1 <= seconds <= 3600:  # also false for nan
        raise ValueError(f"{LEASE_ENV} must be a number of seconds from 1 to 3600, not {raw!r}")
    return timedelta(seconds=seconds)


LEASE = lease_length()  # read once, at import: every default below and every renewal follows it


class Leased:
    """Mixin: the two lease columns (`lease_owner`, `lease_until`)."""

    lease_owner: Mapped[str | None] = mapped_column(String(OWNER_MAX), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


def takeable(model: Any, owner: str, now: datetime) -> ColumnElement[bool]:
    """SQL: the row has no lease, an expired one, or one of `owner` itself."""
    return or_(model.lease_until.is_(None), model.lease_until <= now, model.lease_owner == owner)


def expired(model: Any, now: datetime) -> ColumnElement[bool]:
    """SQL: the row is free for anyone (no lease or an expired one): start-up resumes these."""
    return or_(model.lease_until.is_(None), model.lease_until <= now)


async def take(
    session: AsyncSession,
    model: Any,
    row_id: int,
    *,
    owner: str,
    now: datetime,
    where: Iterable[ColumnElement[bool]] = (),
    values: dict[str, Any] | None = None,
    ttl: timedelta = LEASE,
) -> bool:
    """Take one row: lease it to `owner` (and set `values`) if `where` holds and nobody
    else holds a live lease. Whether this call won it."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, takeable(model, owner, now), *where)
        .values(lease_owner=owner, lease_until=now + ttl, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def take_many(
    session: AsyncSession,
    model: Any,
    *,
    owner: str,
    now: datetime,
    where: Iterable[ColumnElement[bool]] = (),
    values: dict[str, Any] | None = None,
    limit: int = 100,
    ttl: timedelta = LEASE,
    order_by: Sequence[Any] = (),
) -> list[int]:
    """Take up to `limit` rows matching `where`; their ids. Rows another process is taking
    at this moment are skipped on PostgreSQL (SKIP LOCKED), not waited for."""
    conditions = [takeable(model, owner, now), *where]
    query = select(model.id).where(*conditions).order_by(*(order_by or (model.id,))).limit(limit)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(await session.scalars(query))
    if not ids:
        return []
    # RETURNING: only the rows this UPDATE took (another process may have been first).
    taken = await session.scalars(
        update(model)
        .where(model.id.in_(ids), *conditions)
        .values(lease_owner=owner, lease_until=now + ttl, **(values or {}))
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(taken)


async def renew(
    session: AsyncSession,
    model: Any,
    ids: Sequence[int],
    *,
    owner: str,
    now: datetime,
    ttl: timedelta = LEASE,
) -> int:
    """Extend our leases on `ids` (only those still ours); how many were."""
    if not ids:
        return 0
    result = await session.execute(
        update(model)
        .where(model.id.in_(list(ids)), model.lease_owner == owner)
        .values(lease_until=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def release(
    session: AsyncSession,
    model: Any,
    ids: Sequence[int],
    *,
    owner: str,
    values: dict[str, Any] | None = None,
) -> int:
    """Give our leases on `ids` up (with `values`, e.g. the final status); how many."""
    if not ids:
        return 0
    result = await session.execute(
        update(model)
        .where(model.id.in_(list(ids)), model.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
