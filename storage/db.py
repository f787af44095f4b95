"""Engine, sessions and migrations.

Writes on SQLite are serialised in-process by an asyncio lock: SQLite allows one writer,
and a deferred transaction that upgrades to a write lock while another writes fails
with "database is locked" instead of waiting. Readers in WAL mode never wait.

A PostgreSQL server that cannot be reached (stopped, restarting, network down) shows up
as `DatabaseUnavailable` from `read()`, `write()` and `run()`, whatever the driver raised:
callers answer it with a short apology or try again later, without a stack trace. The
pool recovers by itself: connections are pinged before use, and a broken one makes
SQLAlchemy discard the whole pool's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import sqlite_connection
from storage.sqlite_writer import Outcome, SqliteWriter

if TYPE_CHECKING:
    from sqlalchemy.sql import Executable

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")

# How long opening a PostgreSQL connection may take (asyncpg waits 60 s by default):
# when the server's host does not answer at all, people get the apology this soon.
CONNECT_TIMEOUT = 5.0

# SQLSTATEs of a server that is gone or going away: class 08 (connection exception),
# admin shutdown, crash shutdown, "cannot connect now" (starting up or shutting down).
_GONE_STATES = frozenset({"57P01", "57P02", "57P03"})
_REASON_MAX = 200


class TableWrites(Protocol):
    """What the caches keep per database (storage/cache.py `Writes`): told of the writes
    its engine's events do not see (the SQLite writer's)."""

    def bump(self, tables: Iterable[str]) -> None: ...


class DatabaseUnavailable(Exception):
    """The database server cannot be reached right now; the work was not done.

    The transaction under way was rolled back by the server (should the connection break
    during COMMIT itself, the server decided). The same work may succeed a moment later.
    The text names the driver's error, never SQL or parameters.
    """


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def prepare_sqlite_path(url: str) -> None:
    """Create the folder of a file-based SQLite database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


PING_SECONDS = 2.0  # `/healthz`: a database slower than this counts as down


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        prepare_sqlite_path(url)
        # Query parameters never reach logs or error texts: they can hold people's names.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if not self.is_sqlite:
            # pre-ping: a connection the server dropped while idle (restart, outage) is
            # replaced at checkout instead of failing the next command.
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
            if parsed.get_driver_name() == "asyncpg" and "timeout" not in parsed.query:
                kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT}
        else:
            # Sessions end their transaction before a connection goes back to the pool;
            # the pool's own rollback on return would be a second thread hand-off for
            # every session on aiosqlite.
            kwargs["pool_reset_on_return"] = None
            if parsed.get_driver_name() == "aiosqlite":
                kwargs["connect_args"] = {"async_creator_fn": sqlite_connection.connect}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock()
        # The single-statement transactions of the command path (`statement`) on a file
        # of SQLite: one connection in a thread of its own, batches committed together.
        self._writer: SqliteWriter | None = None
        if parsed.get_driver_name() == "aiosqlite" and parsed.database not in (
            None,
            "",
            ":memory:",
        ):
            self._writer = SqliteWriter(parsed, self._write_lock, _sqlite_pragmas)
        # This database's writes to tables that caches watch (storage/cache.py), made at
        # the first watch.
        self.writes: TableWrites | None = None

    def sharing(self) -> Database:
        """Another Database on this one's connection pool, dialect and compiled statements,
        with event listeners of its own (SQLAlchemy's option engine). Tests that start a
        fresh bot for each of a thousand cases use it, so no case compiles every
        statement again; the write lock is shared, as both write the same database."""
        twin = object.__new__(Database)
        twin.__dict__.update(self.__dict__)  # url, the write lock, whatever comes later
        twin.engine = self.engine.execution_options()
        twin.sessions = async_sessionmaker(twin.engine, expire_on_commit=False)
        twin.writes = None  # its caches watch its own engine's events
        return twin

    @property
    def sql_engines(self) -> list[Engine]:
        """Every engine that runs this database's SQL (the pool's, and the SQLite writer's
        of `statement`), for whoever listens to the SQL itself (tests, tracing)."""
        engines = [self.engine.sync_engine]
        if self._writer is not None:
            engines.append(self._writer.engine)
        return engines

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._unavailable_as_error(), self.sessions() as session:
            await self._connect(session)
            yield session

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on any error (a
        transaction of one statement is cheaper as `statement`)."""
        lock = self._write_lock if self.is_sqlite else contextlib.nullcontext()
        async with (
            self._unavailable_as_error(),
            lock,
            self.sessions() as session,
            session.begin(),
        ):
            await self._connect(session)
            yield session

    async def _connect(self, session: AsyncSession) -> None:
        """Take the session's connection now, not at its first query, so that a server
        that refuses connections is told apart from errors of the work itself.

        asyncpg lets the socket's OSError (connection refused, timeout, unknown host)
        through SQLAlchemy unwrapped; raised here, it can only mean the server.
        SQLite is left alone: its file is local, and a locked or unreadable one is a
        fault of its own, not an outage to wait out.
        """
        if self.is_sqlite:
            return
        try:
            await session.connection()
        except OSError as exc:
            raise DatabaseUnavailable(_describe(exc)) from exc

    @contextlib.asynccontextmanager
    async def _unavailable_as_error(self) -> AsyncIterator[None]:
        """Turn the driver's ways of saying "the server is gone" into DatabaseUnavailable."""
        try:
            yield
        except DBAPIError as exc:
            if self.is_sqlite or not is_server_gone(exc):
                raise
            raise DatabaseUnavailable(_describe(exc.orig)) from exc

    async def run(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        *,
        attempts: int = 4,
    ) -> T:
        """Run `work` in a write transaction, retried on races (unique keys, serialisation)."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.write() as session:
                    return await work(session)
            except IntegrityError:
                if attempt == attempts:
                    raise
                log.debug("integrity race, retrying (attempt %d)", attempt)
            except DBAPIError as exc:
                if attempt == attempts or not _is_retryable(exc):
                    raise
                log.debug("transient database error, retrying (attempt %d)", attempt)
            await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    async def statement(
        self, statement: Executable, params: dict[str, Any] | None = None, *, attempts: int = 4
    ) -> Outcome:
        """Run one INSERT, UPDATE or DELETE (RETURNING allowed) as a transaction of its
        own and return what it did, once committed.

        For the command path's one-statement transactions (a known member's `/join`): on
        a SQLite file it goes to the one writer (storage/sqlite_writer.py: one trip to
        its thread, committed together with the statements waiting at the same moment);
        elsewhere it is one connection's transaction, without an ORM session. Retried on
        transient errors (deadlocks, serialisation); a constraint's error is raised.
        Never inside a `write()` block: on SQLite both wait for the one write lock.
        An INSERT names its key: one whose key the database makes has it returned
        (implicit RETURNING) on PostgreSQL, where the row count then says nothing."""
        for attempt in range(1, attempts + 1):
            try:
                if self._writer is not None:
                    return await self._through_writer(statement, params)
                return await self._on_connection(statement, params)
            except DBAPIError as exc:
                if isinstance(exc, IntegrityError) or attempt == attempts or not _is_retryable(exc):
                    raise
                log.debug("transient database error, retrying (attempt %d)", attempt)
            await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    async def _through_writer(
        self, statement: Executable, params: dict[str, Any] | None
    ) -> Outcome:
        assert self._writer is not None
        # The writer's connection is not this engine's, so its events do not reach the
        # caches: they are told here, as the statement goes and once it is committed.
        tables = _written_tables(statement)
        if self.writes is not None:
            self.writes.bump(tables)
        try:
            return await self._writer.execute(statement, params)
        finally:
            if self.writes is not None:
                self.writes.bump(tables)

    async def _on_connection(self, statement: Executable, params: dict[str, Any] | None) -> Outcome:
        async with self._unavailable_as_error():
            try:
                async with self.engine.begin() as conn:
                    result = await conn.execute(statement, params)
                    if result.returns_rows:
                        rows = tuple(tuple(row) for row in result)
                        return Outcome(len(rows), rows)
                    return Outcome(result.rowcount)
            except OSError as exc:  # asyncpg's refused or timed-out connection
                raise DatabaseUnavailable(_describe(exc)) from exc

    async def ping(self) -> bool:
        """Whether the database answers a trivial query in time (for `/healthz`)."""
        try:
            async with asyncio.timeout(PING_SECONDS), self.read() as session:
                await session.execute(sql_text("SELECT 1"))
        except (TimeoutError, OSError, DatabaseUnavailable, DBAPIError):
            return False
        return True

    async def upgrade(self) -> None:
        """Apply all Alembic migrations on this engine's connection."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade_on)

    async def dispose(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        await self.engine.dispose()


def is_server_gone(exc: DBAPIError) -> bool:
    """Whether the error means the connection to the server is lost or refused (as opposed
    to an error in the statement, a constraint, a lock or a timeout of the query).

    SQLAlchemy marks errors it recognises as a disconnect (`connection_invalidated`, the
    connection is then discarded, and so are the pool's older ones); the SQLSTATE catches
    what a server says while it starts up or shuts down.
    """
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(state, str) and (state.startswith("08") or state in _GONE_STATES)


def _describe(error: BaseException | None) -> str:
    """The driver's error in one short line, for a log warning."""
    if error is None:
        return "unknown error"
    # SQLAlchemy's asyncpg adapter raises its own Error "from" asyncpg's: name the latter.
    named = error.__cause__ if error.__cause__ is not None else error
    text = " ".join(str(error).split())
    return f"{type(named).__name__}: {text}"[:_REASON_MAX]


def _written_tables(statement: Executable) -> frozenset[str]:
    """The table an INSERT, UPDATE or DELETE writes."""
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    if not isinstance(name, str):
        raise TypeError("Database.statement takes an INSERT, UPDATE or DELETE")
    return frozenset({name.lower()})


def _is_retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "deadlock" in text or "could not serialize" in text or "database is locked" in text


def alembic_config(url: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _upgrade_on(connection: Connection) -> None:
    if set(MigrationContext.configure(connection).get_current_heads()) == set(_heads()):
        # Already at the newest migration: alembic's no-op upgrade would still load
        # env.py and every migration file (~20 ms; every test's bot starts here).
        return
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _heads() -> tuple[str, ...]:
    versions = MIGRATIONS_DIR / "versions"
    return _heads_of(versions.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _heads_of(_versions_mtime_ns: int) -> tuple[str, ...]:
    """The newest revision(s) of the migration scripts, read once per change of the folder."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())
