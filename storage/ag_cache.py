"""The list of AGs, kept in memory between writes (see storage/cache.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from storage import repo
from storage.cache import TableWatch, WatchedCache
from storage.db import Database
from storage.models import Ag, Chat


class AgCache:
    def __init__(
        self,
        db: Database,
        *,
        max_age: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._cache: WatchedCache[str, list[Ag]] = WatchedCache(
            TableWatch(db, ["ag"]), max_age=max_age, size=1, clock=clock
        )

    async def all(self, *, include_archived: bool = False) -> list[Ag]:
        """Every AG by slug, the archived ones only when asked for. The objects are
        detached snapshots: read them, do not add them to a session."""
        rows = await self._cache.get("all", self._load)
        return list(rows) if include_archived else [ag for ag in rows if not ag.archived]

    async def _load(self) -> list[Ag]:
        async with self._db.read() as session:
            return await repo.all_ags(session, include_archived=True)


class AgChatsCache:
    """The chats linked to each AG, kept between writes of the chat and link tables: every
    `/join` asks for them (the way into the AG's chats), most AGs have none or a few."""

    def __init__(
        self,
        db: Database,
        *,
        max_age: float = 30.0,
        size: int = 1_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._cache: WatchedCache[int, list[Chat]] = WatchedCache(
            TableWatch(db, ["chat", "ag_chat"]), max_age=max_age, size=size, clock=clock
        )

    async def of(self, ag_id: int) -> list[Chat]:
        """The AG's linked chats as detached snapshots: read them, do not change them."""

        async def load() -> list[Chat]:
            async with self._db.read() as session:
                return await repo.chats_of_ag(session, ag_id)

        return list(await self._cache.get(ag_id, load))
