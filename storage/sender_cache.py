"""Who sent a command (person, language, reachable in private), kept in memory until
any account or person is written (see storage/cache.py)."""

from __future__ import annotations

from typing import Any

from storage import repo
from storage.cache import PerChatCache
from storage.db import Database
from storage.repo import KnownSender


class SenderCache(PerChatCache[KnownSender | None]):
    """The sender's person, or None before their first command."""

    def __init__(self, db: Database, **options: Any) -> None:
        super().__init__(db, ["account", "person"], repo.known_sender, **options)
