"""Review of issue 18: `Database.statement` on a SQLite file (storage/sqlite_writer.py)
must do what the same statement does anywhere else, and one caller's statement must not
take down the others of its batch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from storage.db import Database
from tests.test_sqlite_writer import ADD, T, _add, _db, _names


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    return await _db(f"sqlite+aiosqlite:///{tmp_path}/w.db")


async def test_a_delete_with_an_in_list_runs_on_the_writer_as_anywhere_else(db: Database) -> None:
    # `col.in_([...])` compiles to an expanding parameter (`__[POSTCOMPILE_...]`), which
    # only SQLAlchemy's execution renders; handed to sqlite3 as it is, it is a syntax error.
    for name in ("a", "b", "c"):
        await db.statement(*_add(name))
    async with db.read() as session:
        ids = list((await session.execute(text("SELECT id FROM t WHERE name != 'c'"))).scalars())
    outcome = await db.statement(delete(T).where(T.c.id.in_(ids)))
    assert outcome.rowcount == 2
    assert await _names(db) == ["c"]


async def test_an_in_list_statement_does_not_fail_the_other_callers_of_its_batch(
    db: Database,
) -> None:
    # Two commands of the same moment: one `/join`-like INSERT, one DELETE with an IN list.
    # The INSERT's caller must get its row, whatever becomes of the other statement.
    results = await asyncio.gather(
        db.statement(*_add("kept")),
        db.statement(delete(T).where(T.c.id.in_([999_999]))),
        return_exceptions=True,
    )
    assert not isinstance(results[0], BaseException), results[0]
    assert await _names(db) == ["kept"]


async def test_a_statement_waiting_for_the_write_lock_while_the_writer_closes_is_not_lost(
    db: Database,
) -> None:
    # Shutdown while a command's write waits behind another transaction (a `write()` block
    # holds the lock): `close()` stops the thread the waiting flush already chose, so the
    # statement is queued behind the thread's end and its caller never wakes; the flush
    # keeps the write lock for ever.
    writer = db._writer
    assert writer is not None
    await db.statement(*_add("first"))  # the thread exists; that flush is over
    await db._write_lock.acquire()
    closing = asyncio.create_task(writer.close())
    late = asyncio.create_task(db.statement(*_add("late")))
    for _ in range(5):
        await asyncio.sleep(0)
    db._write_lock.release()
    await asyncio.wait_for(closing, 5)
    await asyncio.wait_for(late, 5)  # hangs: TimeoutError
    assert await _names(db) == ["first", "late"]
    await asyncio.wait_for(db._write_lock.acquire(), 5)
    db._write_lock.release()


__all__ = ["ADD"]
