"""SQLite's one writer: the single-statement transactions of many commands, run in one
trip to one thread and committed together (group commit).

SQLite takes one writer at a time, and the Database already lets one write run at a time
in this process (its write lock). What a write costs on the command path is not SQLite's
work (some 20 µs for `/join`) but the way there: an ORM session, a connection from the
pool, and the trips to aiosqlite's thread, each two wake-ups of the event loop. A command
whose whole transaction is one statement (a known member's `/join`, a member's `/leave`)
hands it to `SqliteWriter.execute` instead:

- One connection (SQLAlchemy's synchronous engine on the same file, the same pragmas)
  lives in one thread of its own.
- A statement whose values are all given (no Python-side default to compute) and that
  returns no rows is compiled once, on the event loop, to its SQL and the order and type
  conversions of its parameters (`_Plain`): in the thread it is sqlite3 alone, which
  leaves the interpreter to the event loop while it works. Any other statement runs
  through SQLAlchemy in the thread (defaults, RETURNING rows converted).
- Statements that arrive while a batch is under way wait for the next one; a batch is
  one trip: every statement in order, then one COMMIT. So under load the trips and the
  commits are shared, and alone a statement is one trip with its commit.
- A statement that fails is undone alone where SQLite undoes only it (a constraint, an
  error in the statement itself): its caller gets the error, the others their results.
  An error that ends the transaction (the disk, a broken connection, a ROLLBACK conflict
  clause) fails the whole batch: nothing of it is committed, and every caller gets it.
- Each caller gets its outcome only after the COMMIT: a reply still follows its commit.
  A caller cancelled before its batch began is left out of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import sqlite3
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

log = logging.getLogger(__name__)

MAX_BATCH = 200  # statements in one transaction at most (a burst is split)


@dataclass(frozen=True)
class Outcome:
    """What a statement did: rows it changed, and what it returned (RETURNING)."""

    rowcount: int
    rows: tuple[tuple[Any, ...], ...] = ()

    def scalar(self) -> Any:
        """The first column of the first row returned, or None."""
        return self.rows[0][0] if self.rows else None


@dataclass(frozen=True)
class _Plain:
    """A statement as sqlite3 takes it: its SQL, and how to order and convert the values."""

    sql: str
    names: tuple[str, ...]
    convert: tuple[Callable[[Any], Any] | None, ...]
    defaults: Mapping[str, Any]  # values the statement itself holds (`role != 'lead'`)

    def values(self, params: Mapping[str, Any] | None) -> tuple[Any, ...]:
        given = {**self.defaults, **(params or {})}
        missing = [name for name in self.names if name not in given]
        if missing:  # as SQLAlchemy would refuse it
            raise InvalidRequestError(f"a value is required for {', '.join(missing)}")
        return tuple(
            given[name] if convert is None else convert(given[name])
            for name, convert in zip(self.names, self.convert, strict=True)
        )


def _plain(statement: Executable, dialect: Dialect) -> _Plain | None:
    """The statement compiled for sqlite3, or None where SQLAlchemy must run it."""
    if not isinstance(statement, ClauseElement):
        return None
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        return None
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.effective_returning:
        return None
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None  # an IN list: rendered only as SQLAlchemy executes it
    names = tuple(compiled.positiontup)
    convert = tuple(compiled.binds[name].type.bind_processor(dialect) for name in names)
    # The values the statement holds, NULL included; a bound parameter without one is
    # the caller's to give.
    held = {
        name: value
        for name, value in compiled.construct_params(_check=False).items()
        if not compiled.binds[name].required
    }
    return _Plain(compiled.string, names, convert, held)


@dataclass
class _Waiting:
    statement: Executable | _Plain
    params: Mapping[str, Any] | tuple[Any, ...] | None
    future: asyncio.Future[Outcome]


class SqliteWriter:
    """The one connection that runs `execute`'s statements, in a thread of its own."""

    def __init__(
        self,
        url: URL,
        lock: asyncio.Lock,
        on_connect: Callable[[Any, Any], None],
    ) -> None:
        self.engine: Engine = create_engine(
            url.set(drivername="sqlite"),
            poolclass=StaticPool,  # one connection, used by the one thread below
            connect_args={"check_same_thread": False},
            hide_parameters=True,
        )
        event.listen(self.engine, "connect", on_connect)
        self._lock = lock
        self._thread: _Thread | None = None  # started at the first batch
        self._connection: Connection | None = None
        self._waiting: list[_Waiting] = []
        self._flushing: asyncio.Task[None] | None = None
        self.batches = 0  # trips to the thread so far (the tests count them)
        # Statements compiled for sqlite3 (None: SQLAlchemy runs it), per statement object.
        self._plain: weakref.WeakKeyDictionary[Executable, _Plain | None] = (
            weakref.WeakKeyDictionary()
        )

    async def execute(self, statement: Executable, params: Mapping[str, Any] | None) -> Outcome:
        """Run `statement` in a transaction of its own (shared with whatever statements
        wait at the same moment) and return its outcome once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        try:
            plain = self._plain[statement]
        except KeyError:
            plain = self._plain[statement] = _plain(statement, self.engine.dialect)
        if plain is None:
            self._waiting.append(_Waiting(statement, params, future))
        else:  # converted here, on the loop: the thread runs sqlite3 only
            self._waiting.append(_Waiting(plain, plain.values(params), future))
        flushing = self._flushing
        if flushing is None or flushing.done() or flushing.get_loop() is not loop:
            self._flushing = asyncio.create_task(self._flush(), name="sqlite-writer")
        return await future

    async def _flush(self) -> None:
        """Run what waits, batch after batch, until nothing does."""
        loop = asyncio.get_running_loop()
        while self._waiting:
            async with self._lock:
                batch = [w for w in self._waiting[:MAX_BATCH] if not w.future.cancelled()]
                del self._waiting[:MAX_BATCH]
                if not batch:
                    continue
                if self._thread is None:  # the first batch, or the first after a close
                    self._thread = _Thread()
                thread = self._thread
                work = [(w.statement, w.params) for w in batch]
                self.batches += 1
                try:
                    # The callers hear of their outcome as the thread's answer arrives, in
                    # the same turn of the loop; the lock is held until then.
                    await thread.call(loop, self._run, work, then=functools.partial(_settle, batch))
                except BaseException as exc:
                    # The flush itself was cancelled (the loop ends): the batch still ends
                    # in the thread (COMMIT or ROLLBACK), but nobody will hear of it.
                    _settle(batch, _copy(exc))
                    if isinstance(exc, asyncio.CancelledError):
                        raise

    def _run(self, work: Sequence[tuple[Any, Any]]) -> list[Outcome | BaseException]:
        """In the writer's thread: each statement in order, then one COMMIT."""
        conn = self._connection
        if conn is None:
            conn = self._connection = self.engine.connect()
        raw = conn.connection.dbapi_connection
        assert raw is not None
        outcomes: list[Outcome | BaseException] = []
        try:
            for statement, params in work:
                begun = raw.in_transaction
                try:
                    if isinstance(statement, _Plain):
                        outcomes.append(self._run_plain(conn, raw, statement, params))
                    else:
                        outcomes.append(_run_full(conn, statement, params))
                except DBAPIError as exc:
                    if exc.connection_invalidated or (begun and not raw.in_transaction):
                        raise  # SQLite rolled the batch back (the disk, a ROLLBACK conflict)
                    outcomes.append(exc)  # SQLite undid this statement alone
            if conn.in_transaction():
                conn.commit()
            raw.commit()  # sqlite3's own transaction, opened by the plain statements
        except BaseException:
            self._discard()
            raise
        return outcomes

    def _run_plain(
        self, conn: Connection, raw: Any, plain: _Plain, values: tuple[Any, ...]
    ) -> Outcome:
        """One compiled statement on the sqlite3 connection; its error raised as SQLAlchemy
        raises it. The engine's cursor events see it as any other statement (tracing, tests)."""
        events = self.engine.dispatch
        cursor = raw.cursor()
        try:
            if events.before_cursor_execute:
                events.before_cursor_execute(conn, cursor, plain.sql, values, None, False)
            cursor.execute(plain.sql, values)
            if events.after_cursor_execute:
                events.after_cursor_execute(conn, cursor, plain.sql, values, None, False)
            return Outcome(cursor.rowcount)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                plain.sql, None, exc, sqlite3.Error, hide_parameters=True
            ) from exc
        finally:
            with contextlib.suppress(sqlite3.Error):  # a connection closed under it
                cursor.close()

    def _discard(self) -> None:
        """After an error of the connection itself: roll back, start anew next time."""
        conn, self._connection = self._connection, None
        if conn is None:
            return
        try:
            conn.rollback()
            conn.close()
        except Exception:
            log.debug("sqlite writer: the broken connection did not close cleanly")
        self.engine.dispose()

    async def close(self) -> None:
        """Finish what waits, then close the connection and end the thread. The writer
        may be used again after (a new connection, a new thread)."""
        flushing = self._flushing
        if flushing is not None and flushing.get_loop() is asyncio.get_running_loop():
            await asyncio.gather(flushing, return_exceptions=True)
        # Under the write lock: no batch runs while the connection closes, and one that
        # comes meanwhile starts a new thread and connection after it.
        async with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            await thread.call(asyncio.get_running_loop(), self._close_connection)
            thread.stop()

    def _close_connection(self) -> None:
        conn, self._connection = self._connection, None
        if conn is not None:
            conn.close()
        self.engine.dispose()


def _run_full(conn: Connection, statement: Executable, params: Any) -> Outcome:
    """A statement SQLAlchemy runs (defaults to compute, RETURNING rows to convert)."""
    result = conn.execute(statement, params)
    if result.returns_rows:  # RETURNING: sqlite3's rowcount says 0 here
        rows = tuple(tuple(row) for row in result)
        return Outcome(len(rows), rows)
    return Outcome(result.rowcount)


class _Thread:
    """The writer's one thread. Handing it work never blocks the event loop (a C queue;
    a pool executor takes locks the busy thread may hold), and its answer comes back
    with one wake-up of the loop. A daemon, as aiosqlite's: a process that ends without
    closing the database is not kept alive by it (SQLite's commits are atomic)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="sqlite-writer", daemon=True)
        self._thread.start()

    def call(
        self,
        loop: asyncio.AbstractEventLoop,
        fn: Callable[..., Any],
        *args: Any,
        then: Callable[[Any], None] | None = None,
    ) -> asyncio.Future[Any]:
        """`fn(*args)` in the thread; a future of its result. `then` gets the result (or
        the exception) on the loop first, in the same turn."""
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put((loop, future, fn, args, then))
        return future

    def stop(self) -> None:
        """End the thread once the work handed to it is done."""
        self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, fn, args, then = job
            try:
                got: Any = fn(*args)
            except BaseException as exc:
                got = exc
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_answer, future, got, then)


def _answer(future: asyncio.Future[Any], got: Any, then: Callable[[Any], None] | None) -> None:
    """On the loop: the thread's answer to whoever waits for it."""
    if then is not None:
        then(got)
    if not future.done():
        if isinstance(got, BaseException):
            future.set_exception(got)
        else:
            future.set_result(got)


def _settle(batch: Sequence[_Waiting], got: list[Outcome | BaseException] | BaseException) -> None:
    """Each caller's outcome (or the whole batch's error), unless it stopped waiting."""
    for i, waiting in enumerate(batch):
        if waiting.future.done():
            continue
        outcome = got if isinstance(got, BaseException) else got[i]
        if isinstance(outcome, BaseException):
            waiting.future.set_exception(outcome)
        else:
            waiting.future.set_result(outcome)


def _copy(exc: BaseException) -> BaseException:
    """The batch's error for one caller (a cancelled batch is an error, not a cancel)."""
    if isinstance(exc, asyncio.CancelledError):
        return RuntimeError("the write was cut short while the bot stopped")
    return exc
