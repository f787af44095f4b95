"""A person's AGs and roles (`/my`), kept in memory between writes of the membership and
AG tables (see storage/cache.py): on SQLite the read is a trip to the database's thread,
and on a busy machine each trip waits for the scheduler twice (a few ms, most of what
`!my` cost on Matrix)."""

from __future__ import annotations

import time
from collections.abc import Callable

from storage import repo
from storage.cache import TableWatch, WatchedCache
from storage.db import Database
from storage.models import Ag


class MembershipCache:
    def __init__(
        self,
        db: Database,
        *,
        max_age: float = 30.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._cache: WatchedCache[int, list[tuple[Ag, str]]] = WatchedCache(
            TableWatch(db, ["membership", "ag"]), max_age=max_age, size=size, clock=clock
        )

    async def of(self, person_id: int) -> list[tuple[Ag, str]]:
        """The person's AGs (by slug) with their role there, as detached snapshots: read
        them, do not add them to a session."""

        async def load() -> list[tuple[Ag, str]]:
            async with self._db.read() as session:
                return await repo.memberships_of(session, person_id)

        return list(await self._cache.get(person_id, load))
