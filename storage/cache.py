"""Read caches that the database itself keeps honest.

Every command needs the AG list and the sender's person; both change rarely, and on
SQLite each read costs several thread hand-offs. A `TableWatch` sees this engine's SQL:
any INSERT, UPDATE or DELETE on a watched table (ORM, core or raw SQL) moves its
generation on, once when the statement runs and once more when the transaction ends.
A cached value is used only while the generation is the one it was read at, and a read
that overlapped a write is not kept. The database stays the only state: a cache can be
dropped at any time.

Other processes on the same PostgreSQL (replicas, a standby): a transaction that wrote a
watched table sends `NOTIFY buendnisbot_cache, '<tag> <tables>'` as it commits (in the
transaction, so only if it commits), and each process's listener (storage/notify.py)
moves the generation of its watches of those tables: another process's `/lang en` is
seen at once. When the listener (re)connects, notifications may have been missed, so
every cache is dropped. Writes nobody announces (someone with `psql`) are seen after at
most `max_age` seconds, as on a database without a listener.
"""

from __future__ import annotations

import re
import secrets
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.notify import CACHE, Listener

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_WRITE = re.compile(
    r'\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+"?(\w+)"?', re.IGNORECASE
)


class TableWatch:
    """A generation number that changes whenever one of `tables` is written."""

    def __init__(self, db: Database, tables: Iterable[str]) -> None:
        self.tables = frozenset(t.lower() for t in tables)
        self.generation = 0
        writes_of(db).add(self)

    def bump(self) -> None:
        self.generation += 1


class Writes:
    """One engine's writes to watched tables: bumps the watches of this process, and on
    PostgreSQL tells the other processes as the transaction commits."""

    def __init__(self, db: Database) -> None:
        self.watches: weakref.WeakSet[TableWatch] = weakref.WeakSet()
        # The tables any watch names, kept as watches come (read at every write statement).
        self.watched: frozenset[str] = frozenset()
        self.tag = secrets.token_hex(4)  # this process's own notifications are skipped
        self._postgres = not db.is_sqlite
        self._flag = f"buendnisbot_wrote_{id(self)}"
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._committing)
        event.listen(engine, "rollback", self._rolled_back)

    def add(self, watch: TableWatch) -> None:
        self.watches.add(watch)
        self.watched |= watch.tables

    def bump(self, tables: Iterable[str]) -> None:
        written = set(tables)
        for watch in list(self.watches):
            if watch.tables & written:
                watch.bump()

    def drop_all(self) -> None:
        """Every cache of this engine: after the listener (re)connected."""
        for watch in list(self.watches):
            watch.bump()

    def remote(self, payload: str) -> None:
        """A notification of another process's commit: `<tag> <table>,<table>`."""
        tag, _, tables = payload.partition(" ")
        if tag != self.tag:
            self.bump(t for t in tables.split(",") if t)

    def _before_execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        match = _WRITE.match(statement)
        if match is None:
            return
        table = match.group(1).lower()
        if table in self.watched:
            conn.info.setdefault(self._flag, set()).add(table)
            self.bump([table])

    def _committing(self, conn: Any) -> None:
        """Before COMMIT: the NOTIFY goes with the transaction (sent only if it commits)."""
        tables = conn.info.pop(self._flag, None)
        if not tables:
            return
        if self._postgres:
            # Through SQLAlchemy (not the bare cursor): a lost connection becomes the usual
            # DBAPIError, which the Database turns into DatabaseUnavailable.
            conn.exec_driver_sql(
                "SELECT pg_notify($1, $2)", (CACHE, f"{self.tag} {','.join(sorted(tables))}")
            )
        self.bump(tables)

    def _rolled_back(self, conn: Any) -> None:
        tables = conn.info.pop(self._flag, None)
        if tables:
            self.bump(tables)


def writes_of(db: Database) -> Writes:
    """The one `Writes` of a database (made at its first watch, kept on the Database)."""
    if not isinstance(db.writes, Writes):
        db.writes = Writes(db)
    return db.writes


def listen_for_writes(db: Database, listener: Listener) -> None:
    """Let other processes' commits reach this process's caches, and drop them all
    whenever the listener (re)connects."""
    writes = writes_of(db)
    listener.on(CACHE, writes.remote)
    listener.on_connect(writes.drop_all)


@dataclass
class _Entry(Generic[V]):
    value: V
    generation: int
    read_at: float


class WatchedCache(Generic[K, V]):
    """Values by key, each valid while the watched tables are unwritten (and for at
    most `max_age` seconds); the least recently used go beyond `size` entries."""

    def __init__(
        self,
        watch: TableWatch,
        *,
        max_age: float = 30.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.watch = watch
        self._max_age = max_age
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.generation == self.watch.generation
            and self._clock() - entry.read_at <= self._max_age
        ):
            self._entries.move_to_end(key)
            return entry.value
        generation = self.watch.generation
        value = await load()
        if generation == self.watch.generation:
            self._entries[key] = _Entry(value, generation, self._clock())
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.pop(key, None)
        return value

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class PerChatCache(Generic[V]):
    """What one read gives for a (network, id) pair, a sender or a chat's language, kept
    while `tables` are unwritten (see `WatchedCache`)."""

    def __init__(
        self,
        db: Database,
        tables: Iterable[str],
        read: Callable[[AsyncSession, str, str], Awaitable[V]],
        *,
        max_age: float = 30.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._read = read
        self._cache: WatchedCache[tuple[str, str], V] = WatchedCache(
            TableWatch(db, tables), max_age=max_age, size=size, clock=clock
        )

    async def lookup(self, platform: str, external_id: str) -> V:
        async def load() -> V:
            async with self._db.read() as session:
                return await self._read(session, platform, external_id)

        return await self._cache.get((platform, external_id), load)

    def __len__(self) -> int:
        return len(self._cache)
