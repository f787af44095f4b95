"""Notice rows: written once per (kind, subject, person), claimed by exactly one process,
marked when done. See storage/notices/models.py for why they are rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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


async def claim(session: AsyncSession, notice_id: int, *, resume: bool = False) -> bool:
    """`pending` -> `sending` in one statement, so of two processes only one wins.
    `resume` also takes a row left in `sending` by a crash (at start-up only)."""
    allowed = OPEN if resume else (NoticeStatus.PENDING.value,)
    result = await session.execute(
        update(Notice)
        .where(Notice.id == notice_id, Notice.status.in_(allowed))
        .values(status=NoticeStatus.SENDING.value, attempts=Notice.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def mark(session: AsyncSession, notice_id: int, status: NoticeStatus, now: datetime) -> None:
    sent_at = now if status == NoticeStatus.SENT else None
    await session.execute(
        update(Notice)
        .where(Notice.id == notice_id)
        .values(status=status.value, sent_at=sent_at)
        .execution_options(synchronize_session=False)
    )


async def unfinished(session: AsyncSession) -> list[Notice]:
    """Notices not yet sent or given up (to resume at start-up)."""
    return list(
        await session.scalars(select(Notice).where(Notice.status.in_(OPEN)).order_by(Notice.id))
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
