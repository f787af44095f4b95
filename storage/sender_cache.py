"""Who sent a command (person, language, reachable in private), kept in memory until
any account or person is written (see storage/cache.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from storage import repo
from storage.cache import TableWatch, WatchedCache
from storage.db import Database
from storage.repo import KnownSender


class SenderCache:
    def __init__(
        self,
        db: Database,
        *,
        max_age: float = 30.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._cache: WatchedCache[tuple[str, str], KnownSender | None] = WatchedCache(
            TableWatch(db, ["account", "person"]), max_age=max_age, size=size, clock=clock
        )

    async def lookup(self, platform: str, external_id: str) -> KnownSender | None:
        """The sender's person, or None before their first command that needed one."""

        async def load() -> KnownSender | None:
            async with self._db.read() as session:
                return await repo.known_sender(session, platform, external_id)

        return await self._cache.get((platform, external_id), load)

    def __len__(self) -> int:
        return len(self._cache)
