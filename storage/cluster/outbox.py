"""Queries of `outbox_message`: calls a process that is not the leader wants made on a
network only the leader is connected to (Matrix). See bot/outbox_queue.py."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.cluster.models import ERROR_MAX, SEND_KEY_MAX, OutboxMessage, OutboxStatus

OPEN = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
DONE = (OutboxStatus.SENT.value, OutboxStatus.FAILED.value)


@dataclass(frozen=True)
class Outcome:
    status: str
    payload: str
    last_error: str | None


def fit_key(send_key: str) -> str:
    """The key as the column holds it: a longer one keeps its start and ends in a hash of
    the whole key. Cut short instead, two keys differing only at the end (a command's
    replies in a room of a homeserver with a long name) were one row: the second call
    got the first one's result and was never made."""
    if len(send_key) <= SEND_KEY_MAX:
        return send_key
    digest = hashlib.sha256(send_key.encode()).hexdigest()
    return f"{send_key[: SEND_KEY_MAX - len(digest) - 1]}#{digest}"


async def enqueue(
    session: AsyncSession, platform: str, payload: str, send_key: str | None, now: datetime
) -> int:
    """The row of this call: a new one, or the one already queued under `send_key` (a
    call retried with its idempotency key is made once: an open row is joined, a sent one
    gives its result again). A row under the key that failed (given up, or cancelled
    because no leader took it) is queued again with this call."""
    if send_key is not None:
        send_key = fit_key(send_key)
        existing = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.send_key == send_key)
        )
        if existing is not None:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == existing,
                    OutboxMessage.status == OutboxStatus.FAILED.value,
                )
                .values(
                    status=OutboxStatus.PENDING.value,
                    payload=payload,
                    last_error=None,
                    lease_owner=None,
                    lease_until=None,
                    created_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            return int(existing)
    row = OutboxMessage(
        platform=platform,
        payload=payload,
        send_key=send_key,
        status=OutboxStatus.PENDING.value,
        attempts=0,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # queued by another process this instant
        existing = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.send_key == send_key)
        )
        assert existing is not None
        return int(existing)
    return int(row.id)


async def outcome(session: AsyncSession, row_id: int) -> Outcome | None:
    row = (
        await session.execute(
            select(OutboxMessage.status, OutboxMessage.payload, OutboxMessage.last_error).where(
                OutboxMessage.id == row_id
            )
        )
    ).one_or_none()
    return None if row is None else Outcome(row[0], row[1], row[2])


async def cancel_if_pending(session: AsyncSession, row_id: int, reason: str) -> bool:
    """Give a row up that no leader has taken yet; False if one has (or it is done)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING.value)
        .values(status=OutboxStatus.FAILED.value, last_error=reason[:ERROR_MAX])
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def take(
    session: AsyncSession,
    platform: str,
    *,
    owner: str,
    now: datetime,
    busy: Collection[int] = (),
    limit: int = 20,
) -> list[tuple[int, str, str | None]]:
    """Take the open rows of `platform` that nobody holds (or whose holder's lease ran
    out), oldest first: (id, payload, send key) each."""
    where = [OutboxMessage.platform == platform, OutboxMessage.status.in_(OPEN)]
    if busy:
        where.append(OutboxMessage.id.not_in(list(busy)))
    ids = await leases.take_many(
        session,
        OutboxMessage,
        owner=owner,
        now=now,
        where=where,
        values={
            "status": OutboxStatus.SENDING.value,
            "attempts": OutboxMessage.attempts + 1,
        },
        limit=limit,
    )
    if not ids:
        return []
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.send_key)
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.id)
    )
    return [(int(i), str(p), k) for i, p, k in rows]


async def finish(
    session: AsyncSession,
    row_id: int,
    *,
    owner: str,
    sent: bool,
    payload: str,
    error: str | None,
    now: datetime,
) -> bool:
    """Record the call's outcome, if the row is still ours (our lease was not lost)."""
    status = OutboxStatus.SENT.value if sent else OutboxStatus.FAILED.value
    values: dict[str, object] = {"status": status, "payload": payload}
    if sent:
        values["sent_at"] = now
    if error is not None:
        values["last_error"] = error[:ERROR_MAX]
    done = await leases.release(session, OutboxMessage, [row_id], owner=owner, values=values)
    return done == 1


async def renew(session: AsyncSession, ids: Sequence[int], *, owner: str, now: datetime) -> int:
    return await leases.renew(session, OutboxMessage, ids, owner=owner, now=now)


async def purge(session: AsyncSession, *, now: datetime, older_than: timedelta) -> int:
    """Delete done rows (sent or given up) older than `older_than`."""
    result = await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_(DONE), OutboxMessage.created_at < now - older_than
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def has_open(session: AsyncSession, platform: str) -> bool:
    return (
        await session.scalar(
            select(OutboxMessage.id)
            .where(OutboxMessage.platform == platform, OutboxMessage.status.in_(OPEN))
            .limit(1)
        )
    ) is not None
