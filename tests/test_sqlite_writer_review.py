"""Review of issue 18: `Database.statement` on a SQLite file (storage/sqlite_writer.py)
must do what the same statement does anywhere else, and one caller's statement must not
take down the others of its batch."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import bindparam, delete, event, text, update

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


async def test_a_statement_that_arrives_while_the_writer_closes_is_written_or_refused_cleanly(
    db: Database,
) -> None:
    # `close()` gave up the thread (`_thread = None`) before that thread had closed the
    # connection; a command's statement arriving meanwhile started a SECOND thread, which
    # took the same connection while the first thread closed it (ProgrammingError: Cannot
    # operate on a closed database). Now the close holds the write lock: the late statement
    # waits for it, then runs on a new thread and connection.
    writer = db._writer
    assert writer is not None
    await db.statement(*_add("first"))  # the thread exists; that flush is over
    loop = asyncio.get_running_loop()
    first_thread = writer._thread
    assert first_thread is not None
    busy, entered = threading.Event(), threading.Event()
    first_thread.call(loop, busy.wait, 5)  # a batch still under way in the thread

    def note(*_args: object) -> None:
        entered.set()

    closing = asyncio.create_task(writer.close())
    for _ in range(3):
        await asyncio.sleep(0)
    event.listen(writer.engine, "before_cursor_execute", note)
    try:
        late = asyncio.create_task(db.statement(*_add("late")))
        await asyncio.sleep(0.05)
        assert not entered.is_set()  # it waits for the close
        busy.set()
        await asyncio.wait_for(closing, 5)
        await asyncio.wait_for(late, 5)
        assert entered.is_set()
    finally:
        event.remove(writer.engine, "before_cursor_execute", note)
    assert await _names(db) == ["first", "late"]
    assert writer._thread is not first_thread


async def test_an_update_that_sets_a_column_to_null_runs_on_the_writer_as_anywhere_else(
    db: Database,
) -> None:
    # `.values(name=None)` is a bound NULL; the writer's compiled form drops every held
    # value that is None and then asks the caller for it ("a value is required for name").
    await db.statement(*_add("gone"))
    clear = update(T).where(T.c.name == bindparam("old")).values(name=None)
    outcome = await db.statement(clear, {"old": "gone"})
    assert outcome.rowcount == 1
    assert await _names(db) == [None]


__all__ = ["ADD"]
