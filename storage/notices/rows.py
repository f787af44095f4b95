"""Notice rows: written once per (kind, subject, person), claimed by exactly one process
with a lease (storage/leases.py), marked when done. See storage/notices/models.py for why
they are rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.notices.models import Notice, NoticeStatus

OPEN = (NoticeStatus.PENDING.value, NoticeStatus.SENDING.value)


async def want(
    session: AsyncSession, kind: str, subject: str, person_ids: Iterable[int]
) -> list[int]:
    """Write a pending notice for each person who has none of this kind and subject yet;
    returns the ids of the rows written now (a person noticed before gets nothing new:
    at most once per poll and person, whatever the state of the earlier one)."""
    wanted = set(person_ids)
    if not wanted:
        return []
    have = set(
        await session.scalars(
            select(Notice.person_id).where(
                Notice.kind == kind,
                Notice.subject == subject,
                Notice.person_id.in_(wanted),
            )
        )
    )
    rows = [Notice(kind=kind, subject=subject, person_id=p) for p in sorted(wanted - have)]
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def claim(
    session: AsyncSession,
    notice_id: int,
    *,
    owner: str,
    now: datetime,
    resume: bool = False,
    free_only: bool = False,
) -> bool:
    """`pending` -> `sending` with a lease to `owner`, in one statement, so of two
    processes only one wins. `resume` also takes a row left `sending` whose lease ran out
    (a holder that died) or that `owner` holds itself (its own retry); `free_only` (a
    rescan) never takes `owner`'s own live lease: that notice is under way here."""
    allowed = OPEN if resume else (NoticeStatus.PENDING.value,)
    where: list[ColumnElement[bool]] = [Notice.status.in_(allowed)]
    if free_only:
        where.append(leases.expired(Notice, now))
    return await leases.take(
        session,
        Notice,
        notice_id,
        owner=owner,
        now=now,
        where=where,
        values={"status": NoticeStatus.SENDING.value, "attempts": Notice.attempts + 1},
    )


async def hold(
    session: AsyncSession, notice_id: int, *, owner: str, now: datetime, ttl: timedelta
) -> None:
    """Keep a notice that could not go out now (a network down) to `owner` for `ttl`:
    then it is tried again (by its holder, or a rescan if the holder is gone)."""
    await leases.renew(session, Notice, [notice_id], owner=owner, now=now, ttl=ttl)


async def mark(session: AsyncSession, notice_id: int, status: NoticeStatus, now: datetime) -> None:
    """Record the outcome; the lease ends with it."""
    sent_at = now if status == NoticeStatus.SENT else None
    await session.execute(
        update(Notice)
        .where(Notice.id == notice_id)
        .values(status=status.value, sent_at=sent_at, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def unfinished(session: AsyncSession, now: datetime) -> list[Notice]:
    """Notices not yet sent or given up and held by nobody (to resume at start-up: a live
    lease is another process still sending it)."""
    return list(
        await session.scalars(
            select(Notice)
            .where(Notice.status.in_(OPEN), leases.expired(Notice, now))
            .order_by(Notice.id)
        )
    )


async def of_subject(session: AsyncSession, kind: str, subject: str) -> list[Notice]:
    return list(
        await session.scalars(
            select(Notice).where(Notice.kind == kind, Notice.subject == subject).order_by(Notice.id)
        )
    )


async def of_person(session: AsyncSession, person_id: int) -> list[dict[str, object]]:
    """For `/mydata`."""
    rows = await session.scalars(
        select(Notice).where(Notice.person_id == person_id).order_by(Notice.id)
    )
    return [
        {
            "kind": row.kind,
            "about": row.subject,
            "status": row.status,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        }
        for row in rows
    ]


async def forget(session: AsyncSession, person_id: int) -> None:
    await session.execute(delete(Notice).where(Notice.person_id == person_id))


async def merge(session: AsyncSession, keep: int, absorb: int) -> None:
    """Two accounts became one person: a notice either of them got counts for both (the
    kept person's row stays where both have one)."""
    mine = {
        (row.kind, row.subject)
        for row in await session.scalars(select(Notice).where(Notice.person_id == keep))
    }
    for row in list(await session.scalars(select(Notice).where(Notice.person_id == absorb))):
        if (row.kind, row.subject) in mine:
            await session.delete(row)
    await session.flush()
    await session.execute(update(Notice).where(Notice.person_id == absorb).values(person_id=keep))
