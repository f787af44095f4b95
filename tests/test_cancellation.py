"""A command or job cancelled while it waits for the database leaves no task behind that
the event loop's shutdown would wait for forever (it hung `make test` at teardown)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import text

from storage.db import Database

# Keeps SQLite's worker thread busy for a good while, so both cancels land during it.
SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
    "SELECT count(*) FROM c"
)


async def test_a_query_cancelled_twice_leaves_no_task_that_never_ends(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")

    async def slow_read() -> None:
        async with db.read() as session:
            await session.execute(text(SLOW))

    task = asyncio.create_task(slow_read())
    await asyncio.sleep(0.2)  # the query runs in SQLite's thread
    task.cancel()  # e.g. a time-out: SQLAlchemy starts a shielded close
    await asyncio.sleep(0.05)
    task.cancel()  # e.g. the loop's shutdown: the connection is stopped at once
    await asyncio.sleep(0.05)
    # What asyncio.run() does at its end: cancel every task left, wait for all of them.
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert left, "the shielded close should still be running"
    for each in left:
        each.cancel()
    _done, pending = await asyncio.wait(left, timeout=10)
    assert not pending, f"tasks that ignore cancellation: {pending}"
    await db.dispose()
    for thread in threading.enumerate():  # SQLite finishes the query before its thread ends
        if "connection_worker" in thread.name:
            await asyncio.to_thread(thread.join, 10)
