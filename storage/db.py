"""Engine, sessions and migrations.

Writes on SQLite are serialised in-process by an asyncio lock: SQLite allows one writer,
and a deferred transaction that upgrades to a write lock while another writes fails
with "database is locked" instead of waiting. Readers in WAL mode never wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")


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


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        prepare_sqlite_path(url)
        # Query parameters never reach logs or error texts: they can hold people's names.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on any error."""
        lock = self._write_lock if self.is_sqlite else contextlib.nullcontext()
        async with lock, self.sessions() as session, session.begin():
            yield session

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 4) -> T:
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

    async def upgrade(self) -> None:
        """Apply all Alembic migrations on this engine's connection."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade_on)

    async def dispose(self) -> None:
        await self.engine.dispose()


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
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
