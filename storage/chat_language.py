"""A group's or room's own language (`/lang en` in the group), kept in memory between
writes of the chat table (see storage/cache.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.cache import TableWatch, WatchedCache
from storage.db import Database
from storage.models import Chat


async def chat_language(session: AsyncSession, platform: str, external_id: str) -> str | None:
    return await session.scalar(
        select(Chat.language).where(Chat.platform == platform, Chat.external_id == external_id)
    )


async def set_chat_language(
    session: AsyncSession, platform: str, external_id: str, title: str | None, language: str
) -> None:
    """Store the chat's language (the chat gets its row if it had none yet)."""
    chat = await repo.ensure_chat(session, platform, external_id, title, False)
    chat.language = language


class ChatLanguageCache:
    def __init__(
        self,
        db: Database,
        *,
        max_age: float = 30.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._cache: WatchedCache[tuple[str, str], str | None] = WatchedCache(
            TableWatch(db, ["chat"]), max_age=max_age, size=size, clock=clock
        )

    async def lookup(self, platform: str, external_id: str) -> str | None:
        """The language set for the chat, or None (then `chat_languages` or the bot's)."""

        async def load() -> str | None:
            async with self._db.read() as session:
                return await chat_language(session, platform, external_id)

        return await self._cache.get((platform, external_id), load)
