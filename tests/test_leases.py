"""Leases (storage/leases.py): of two processes taking one row, exactly one wins; a dead
holder's row is free again only once its lease has run out; on PostgreSQL processes
taking several rows at once get disjoint rows (SKIP LOCKED)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage import leases
from storage.cluster.models import OutboxMessage, OutboxStatus
from storage.db import Database

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
SENDING = {"status": OutboxStatus.SENDING.value}
OPEN = (OutboxMessage.status.in_((OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)),)


async def _rows(db: Database, n: int) -> list[int]:
    await db.upgrade()
    async with db.write() as session:
        rows = [OutboxMessage(platform="matrix", payload="{}", send_key=f"k{i}") for i in range(n)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def _take(db: Database, row_id: int, owner: str, now: datetime) -> bool:
    async with db.write() as session:
        return await leases.take(
            session, OutboxMessage, row_id, owner=owner, now=now, where=OPEN, values=SENDING
        )


async def test_one_of_two_owners_takes_a_row_and_a_dead_ones_lease_runs_out(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        (row_id,) = await _rows(db, 1)
        assert await _take(db, row_id, "a", NOW)
        assert not await _take(db, row_id, "b", NOW + timedelta(seconds=29))
        assert await _take(db, row_id, "a", NOW + timedelta(seconds=10))  # its own: renewed
        # `a` died: its lease (renewed at +10 s) runs out at +40 s, then `b` may take it.
        assert not await _take(db, row_id, "b", NOW + timedelta(seconds=39))
        assert await _take(db, row_id, "b", NOW + timedelta(seconds=41))
        async with db.read() as session:
            row = await session.get(OutboxMessage, row_id)
            assert row is not None and (row.lease_owner, row.status) == ("b", "sending")
        async with db.write() as session:
            assert await leases.renew(session, OutboxMessage, [row_id], owner="a", now=NOW) == 0
            released = await leases.release(
                session, OutboxMessage, [row_id], owner="b", values={"status": "sent"}
            )
            assert released == 1
        assert not await _take(db, row_id, "a", NOW + timedelta(hours=1))  # sent: not open
    finally:
        await db.dispose()


async def test_owners_taking_many_at_once_get_disjoint_rows(database_url: str) -> None:
    dbs = [Database(database_url) for _ in range(3)]
    try:
        ids = await _rows(dbs[0], 30)

        async def take_all(db: Database, owner: str) -> list[int]:
            got: list[int] = []
            while True:
                async with db.write() as session:
                    batch = await leases.take_many(
                        session,
                        OutboxMessage,
                        owner=owner,
                        now=NOW,
                        where=OPEN,
                        limit=4,
                        values=SENDING,
                    )
                    if batch:
                        await leases.release(
                            session, OutboxMessage, batch, owner=owner, values={"status": "sent"}
                        )
                if not batch:
                    return got
                got += batch
                await asyncio.sleep(0)

        taken = await asyncio.gather(*(take_all(db, f"n{i}") for i, db in enumerate(dbs)))
        flat = [row_id for batch in taken for row_id in batch]
        assert sorted(flat) == sorted(ids)  # every row once, none twice
        async with dbs[0].read() as session:
            statuses = set(await session.scalars(select(OutboxMessage.status)))
        assert statuses == {"sent"}
    finally:
        for db in dbs:
            await db.dispose()
