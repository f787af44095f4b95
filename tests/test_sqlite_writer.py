"""`Database.statement`: a transaction of one statement. On a SQLite file it goes to the
one writer (storage/sqlite_writer.py), which runs the statements waiting at the same
moment in one trip to its thread and commits them together; each caller learns its
outcome only after the COMMIT, a constraint's error stays its own caller's, and any other
error leaves the whole batch unwritten."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, delete, insert, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.dml import Insert

from storage.cache import TableWatch
from storage.db import Database

META = MetaData()
T = Table("t", META, Column("id", Integer, primary_key=True), Column("name", String, unique=True))
# The key given: an INSERT whose key the database makes returns it (implicit RETURNING)
# on PostgreSQL, where the rowcount then says nothing.
_IDS = iter(range(1, 1_000_000))


def _add(name: str) -> tuple[Insert, dict[str, Any]]:
    return ADD, {"id": next(_IDS), "name": name}


ADD = insert(T).values(id=bindparam("id"), name=bindparam("name"))
GONE = Table("gone", MetaData(), Column("id", Integer, primary_key=True))


async def _db(url: str) -> Database:
    db = Database(url)
    async with db.write() as session:
        await session.execute(text("DROP TABLE IF EXISTS t"))
        key = "INTEGER" if db.is_sqlite else "SERIAL"
        await session.execute(text(f"CREATE TABLE t (id {key} PRIMARY KEY, name TEXT UNIQUE)"))
    return db


async def _names(db: Database) -> list[str]:
    async with db.read() as session:
        return list((await session.execute(text("SELECT name FROM t ORDER BY id"))).scalars())


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    return await _db(f"sqlite+aiosqlite:///{tmp_path}/w.db")


async def test_statements_of_one_moment_share_a_trip_and_each_is_committed_before_it_returns(
    db: Database,
) -> None:
    writer = db._writer
    assert writer is not None
    seen_after_return: list[bool] = []

    async def add(name: str) -> int:
        outcome = await db.statement(*_add(name))
        async with db.read() as session:  # another connection: only committed rows
            found = await session.scalar(
                text("SELECT count(*) FROM t WHERE name = :n"), {"n": name}
            )
        seen_after_return.append(found == 1)
        return outcome.rowcount

    try:
        counts = await asyncio.gather(*(add(f"n{i}") for i in range(50)))
        assert counts == [1] * 50
        assert seen_after_return == [True] * 50
        assert writer.batches < 50  # shared trips (the first alone, the rest together)
        assert sorted(await _names(db)) == sorted(f"n{i}" for i in range(50))
    finally:
        await db.dispose()


async def test_a_constraint_error_is_its_own_callers_and_the_others_are_written(
    db: Database,
) -> None:
    try:
        await db.statement(*_add("taken"))
        results = await asyncio.gather(
            db.statement(*_add("a")),
            db.statement(*_add("taken")),
            db.statement(*_add("b")),
            return_exceptions=True,
        )
        assert isinstance(results[1], IntegrityError)
        assert [r.rowcount for r in (results[0], results[2])] == [1, 1]  # type: ignore[union-attr]
        assert await _names(db) == ["taken", "a", "b"]
    finally:
        await db.dispose()


async def test_an_error_of_the_statement_itself_is_its_own_callers(db: Database) -> None:
    try:
        results = await asyncio.gather(
            db.statement(*_add("a")),
            db.statement(delete(GONE)),  # no such table: SQLite undoes this statement alone
            db.statement(*_add("b")),
            return_exceptions=True,
        )
        assert isinstance(results[1], OperationalError)
        assert [r.rowcount for r in (results[0], results[2])] == [1, 1]  # type: ignore[union-attr]
        assert await _names(db) == ["a", "b"]
    finally:
        await db.dispose()


async def test_an_error_that_ends_the_transaction_leaves_the_whole_batch_unwritten(
    db: Database,
) -> None:
    """A ROLLBACK conflict clause ends the transaction as a full disk would: nothing of the
    batch is written, every caller hears so, and the next batch works."""
    rolls_back = insert(T).prefix_with("OR ROLLBACK").values(id=bindparam("id"), name="taken")
    try:
        await db.statement(*_add("taken"))
        results = await asyncio.gather(
            db.statement(*_add("a")),
            db.statement(rolls_back, {"id": 999}),  # UNIQUE(name): the transaction ends
            db.statement(*_add("b")),
            return_exceptions=True,
        )
        assert all(isinstance(r, IntegrityError) for r in results), results
        assert await _names(db) == ["taken"]
        assert (await db.statement(*_add("c"))).rowcount == 1
        assert await _names(db) == ["taken", "c"]
    finally:
        await db.dispose()


async def test_a_caller_cancelled_before_its_batch_began_is_left_out(db: Database) -> None:
    slow = insert(T).from_select(
        ["name"],
        text(
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300000) "
            "SELECT 'n' || i FROM c"
        ).columns(),
    )
    try:
        first = asyncio.create_task(db.statement(slow))
        await asyncio.sleep(0.01)  # the first batch is under way in the thread
        second = asyncio.create_task(db.statement(*_add("never")))
        await asyncio.sleep(0)
        second.cancel()
        assert (await first).rowcount == 300000
        with pytest.raises(asyncio.CancelledError):
            await second
        async with db.read() as session:
            assert await session.scalar(text("SELECT count(*) FROM t WHERE name = 'never'")) == 0
    finally:
        await db.dispose()


async def test_returning_rows_and_the_caches_of_the_table_are_told(db: Database) -> None:
    watch = TableWatch(db, ["t"])
    try:
        before = watch.generation
        await db.statement(*_add("x"))
        assert watch.generation > before
        gone = await db.statement(delete(T).where(T.c.name == "x").returning(T.c.name))
        assert (gone.rowcount, gone.rows, gone.scalar()) == (1, (("x",),), "x")
        nothing = await db.statement(delete(T).where(T.c.name == "x").returning(T.c.name))
        assert (nothing.rowcount, nothing.scalar()) == (0, None)
    finally:
        await db.dispose()


async def test_the_writer_works_again_after_the_database_was_disposed(db: Database) -> None:
    """Tests reuse one Database across bots (tests/support/cells.py): dispose, then go on."""
    await db.statement(*_add("before"))
    await db.dispose()
    try:
        await db.statement(*_add("after"))
        assert await _names(db) == ["before", "after"]
    finally:
        await db.dispose()


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_a_statement_on_either_database(database_url: str) -> None:
    db = await _db(database_url)
    try:
        assert (await db.statement(*_add("a"))).rowcount == 1
        with pytest.raises(IntegrityError):
            await db.statement(*_add("a"))
        gone = await db.statement(delete(T).returning(T.c.name))
        assert gone.rows == (("a",),)
        assert await _names(db) == []
    finally:
        async with db.write() as session:
            await session.execute(text("DROP TABLE t"))
        await db.dispose()
