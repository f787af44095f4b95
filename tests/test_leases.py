"""Leases (storage/leases.py): of two processes taking one row, exactly one wins; a dead
holder's row is free again only once its lease has run out; on PostgreSQL processes
taking several rows at once get disjoint rows (SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
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


def test_the_lease_is_30_seconds_unless_the_environment_sets_another() -> None:
    assert leases.LEASE == leases.DEFAULT_LEASE == timedelta(seconds=30)
    assert leases.lease_length({}) == timedelta(seconds=30)
    assert leases.lease_length({leases.LEASE_ENV: " 4 "}) == timedelta(seconds=4)
    assert leases.lease_length({leases.LEASE_ENV: "2.5"}) == timedelta(seconds=2.5)
    for bad in ("0", "-3", "abc", "nan", "inf", "3601"):
        with pytest.raises(ValueError, match=f"BUENDNISBOT_LEASE_SECONDS must be .* not '{bad}'"):
            leases.lease_length({leases.LEASE_ENV: bad})


def test_a_process_started_with_a_short_lease_takes_and_renews_at_its_pace() -> None:
    """What tests/test_reminders_crash.py and the cluster's fan-out test rely on: a killed
    process's rows come free after the knob's seconds, and its renewals (the lease keeper's
    and the outbox queue's, a third of it) keep up with it."""
    probe = (
        "import inspect; from storage import leases; import bot.lease_keeper as k; "
        "print(leases.LEASE.total_seconds(), k.RENEW_EVERY, "
        "*(inspect.signature(f).parameters['ttl'].default.total_seconds() "
        "for f in (leases.take, leases.take_many, leases.renew)))"
    )
    env = {**os.environ, leases.LEASE_ENV: "6"}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["6.0", "2.0", "6.0", "6.0", "6.0"]
