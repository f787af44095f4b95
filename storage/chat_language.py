"""A group's or room's own language (`/lang en` in the group), kept in memory between
writes of the chat table (see storage/cache.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.cache import PerChatCache
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


class ChatLanguageCache(PerChatCache[str | None]):
    """The language set for a chat, or None (then `chat_languages` or the bot's)."""

    def __init__(self, db: Database, **options: Any) -> None:
        super().__init__(db, ["chat"], chat_language, **options)
