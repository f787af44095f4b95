"""aiosqlite connections whose worker thread can be stopped more than once.

When a task is cancelled while it waits for SQLite, SQLAlchemy closes the connection in a
shielded task; if the waiting task is cancelled a second time (a time-out, then the event
loop's shutdown), it also stops the connection's worker thread at once. The shielded
close then asks the thread, which has already ended, to stop again, and aiosqlite hands
back a future that nothing will ever complete. The event loop's shutdown (`asyncio.run`,
pytest's runner) waits for that task forever. Here a second stop is answered at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiosqlite


class StopOnceConnection(aiosqlite.Connection):
    def stop(self) -> asyncio.Future[Any] | None:
        if self._running:
            future: asyncio.Future[Any] | None = super().stop()
            return future
        try:
            done = asyncio.get_running_loop().create_future()
        except RuntimeError:
            return None  # no loop: nobody awaits it
        done.set_result(None)
        return done


def connect(database: str, **kwargs: Any) -> StopOnceConnection:
    """What `aiosqlite.connect` does, with the connection above; for SQLAlchemy's
    `async_creator_fn` (it passes the database path and the sqlite3 options)."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    connection = StopOnceConnection(connector, 64)
    connection._thread.daemon = True  # as SQLAlchemy sets it for aiosqlite's own
    return connection
