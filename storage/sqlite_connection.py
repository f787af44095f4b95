"""aiosqlite connections that cost as few hand-offs to their worker thread as SQLAlchemy's
calls allow, and whose worker thread can be stopped more than once.

Hand-offs: aiosqlite answers each call of SQLAlchemy's (make a cursor, execute, fetch the
rows, close the cursor, commit or roll back) with a trip to its thread and back, two
wake-ups of the event loop each; a known member's `/join` took four, `/my` five. Here a
statement is one trip (the thread makes the cursor, executes, fetches every row and
closes the cursor; the rows are handed out from memory), and a commit or rollback with
no transaction open (SQLite opens one only at the first write) is none, exactly what
sqlite3 itself would do then. So a transaction of one statement is two trips (the
statement, the commit) and `/my` one. (The command path's one-statement transactions, a
known member's `/join` and `/leave`, go to the writer instead: storage/sqlite_writer.py.)
tests/test_sqlite_handoffs.py counts them.

Stopping: when a task is cancelled while it waits for SQLite, SQLAlchemy closes the
connection in a shielded task; if the waiting task is cancelled a second time (a time-out,
then the event loop's shutdown), it also stops the connection's worker thread at once. The
shielded close then asks the thread, which has already ended, to stop again, and aiosqlite
hands back a future that nothing will ever complete. The event loop's shutdown
(`asyncio.run`, pytest's runner) waits for that task forever. Here a second stop is
answered at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import aiosqlite
from aiosqlite.context import Result

_Outcome = tuple[list[Any], Any, int, int | None]


class OneTripCursor(aiosqlite.Cursor):
    """A cursor whose statement is one trip to the thread: rows are fetched there."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn, None)  # type: ignore[arg-type]  # made in the thread
        self._rows: deque[Any] = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    def _trip(self, call: Callable[..., Any], *args: Any) -> _Outcome:
        """In the worker thread: run, read everything, close."""
        connection = self._conn._conn
        cursor = connection.cursor()
        try:
            call(cursor, *args)
            description = cursor.description
            rows = cursor.fetchall() if description else []
            outcome = rows, description, cursor.rowcount, cursor.lastrowid
        finally:
            cursor.close()
        return outcome

    async def _run(self, call: Callable[..., Any], *args: Any) -> OneTripCursor:
        outcome: _Outcome = await self._execute(self._trip, call, *args)
        rows, self._description, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        return await self._run(
            sqlite3.Cursor.execute, sql, [] if parameters is None else parameters
        )

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        return await self._run(sqlite3.Cursor.executemany, sql, parameters)

    async def executescript(self, sql_script: str) -> OneTripCursor:
        return await self._run(sqlite3.Cursor.executescript, sql_script)

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(len(self._rows), self._arraysize if size is None else size)
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        rows, self._rows = list(self._rows), deque()
        return rows

    async def close(self) -> None:
        self._rows = deque()  # the sqlite3 cursor was closed in the thread

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    @property
    def description(self) -> Any:
        return self._description

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn._conn


class StopOnceConnection(aiosqlite.Connection):
    # Calls handed to the thread, and calls it finished (one writer each): while they
    # differ, the thread may be opening a transaction right now (a cancelled wait).
    _queued = 0
    _finished = 0

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def counted() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                self._finished += 1

        self._queued += 1
        return await super()._execute(counted)

    def _idle(self) -> bool:
        """Whether no transaction is open and the thread has nothing of ours under way."""
        conn = self._connection
        return conn is not None and self._queued == self._finished and not conn.in_transaction

    def cursor(self) -> Result[aiosqlite.Cursor]:
        """A cursor without a trip to the thread (it makes its sqlite3 cursor there)."""

        async def made() -> aiosqlite.Cursor:
            return OneTripCursor(self)

        return Result(made())

    async def commit(self) -> None:
        """No trip when no transaction is open: sqlite3 would do nothing either."""
        if self._idle():
            return
        await super().commit()

    async def rollback(self) -> None:
        """No trip when no transaction is open (a read session's end)."""
        if self._idle():
            return
        await super().rollback()

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
