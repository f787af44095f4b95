"""Read caches that the database itself keeps honest.

Every command needs the AG list and the sender's person; both change rarely, and on
SQLite each read costs several thread hand-offs. A `TableWatch` sees this engine's SQL:
any INSERT, UPDATE or DELETE on a watched table (ORM, core or raw SQL) moves its
generation on, once when the statement runs and once more when the transaction ends.
A cached value is used only while the generation is the one it was read at, and a read
that overlapped a write is not kept. Changes made by another process (a second bot on
the same database, someone with `psql`) are seen after at most `max_age` seconds.
The database stays the only state: a cache can be dropped at any time.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database

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
        self._flag = f"buendnisbot_wrote_{id(self)}"
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._transaction_ended)
        event.listen(engine, "rollback", self._transaction_ended)

    def bump(self) -> None:
        self.generation += 1

    def _before_execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        match = _WRITE.match(statement)
        if match and match.group(1).lower() in self.tables:
            conn.info[self._flag] = True
            self.bump()

    def _transaction_ended(self, conn: Any) -> None:
        if conn.info.pop(self._flag, False):
            self.bump()


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
