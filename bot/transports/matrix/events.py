"""What the poll and button halves of the Matrix transport share: reading an event back
from the homeserver (decrypted), small caches, per-key ordering and transaction ids.

Reading back is what lets the bot understand votes and reactions after a restart without
a database: the bot's own poll or button message holds everything needed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import nio

from bot.transports.matrix.text import transaction_id

if TYPE_CHECKING:
    from bot.transports.matrix.host import MatrixHost

log = logging.getLogger(__name__)

CACHE_SIZE = 1024  # polls and button messages remembered (misses read the homeserver)
READ_BUDGET = 10.0  # seconds reading one event back may take (rate limits, outages)

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def items(self) -> list[tuple[K, V]]:
        return list(self._items.items())


def sub_key(kind: str, key: str | None) -> str:
    """The transaction id of one of several events sent for one `key`.

    Synapse deduplicates by (room, device, txn id) whatever the event type, so the poll,
    its end, a file and its caption each need their own id.
    """
    return transaction_id(None if key is None else f"{kind}:{key}")


def timestamp(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def type_and_content(event: Any) -> tuple[str, dict[str, Any]]:
    """Event type and content; for a decrypted event the inner ones."""
    source = getattr(event, "source", None) or {}
    content = source.get("content")
    kind = str(source.get("type") or getattr(event, "type", ""))
    return kind, content if isinstance(content, dict) else {}


class EventReader:
    def __init__(self, transport: MatrixHost) -> None:
        self.t = transport

    async def read(self, room_id: str, event_id: str) -> Any | None:
        """One event, decrypted if need be; None if the homeserver or the keys fail us."""
        try:
            resp = await self.t.retrying(
                lambda: self.t.client.room_get_event(room_id, event_id),
                nio.RoomGetEventResponse,
                "read event",
                budget=READ_BUDGET,
            )
        except RuntimeError as exc:
            log.warning("matrix: cannot read event %s: %s", event_id, exc)
            return None
        return self.readable(resp.event)

    def readable(self, event: Any) -> Any | None:
        """The event itself, or decrypted; None if its key is missing."""
        if not isinstance(event, nio.MegolmEvent):
            return event
        try:
            return self.t.client.decrypt_event(event)
        except (nio.EncryptionError, AssertionError):
            log.debug("matrix: cannot decrypt %s", event.event_id)
            return None


class Serial:
    """Work as background tasks, in order per key (one poll's responses, one message's
    reactions), so a person's answers reach the Inbox in the order they gave them.

    Tasks start in the order they are made and an asyncio lock serves its waiters first
    come first, so taking the key's lock first thing keeps the order.
    """

    def __init__(self, spawn: Callable[[Awaitable[Any], str], None]) -> None:
        self._spawn = spawn
        self._queues: dict[str, tuple[asyncio.Lock, int]] = {}

    def run(self, key: str, work: Callable[[], Awaitable[None]], name: str) -> None:
        lock, pending = self._queues.get(key) or (asyncio.Lock(), 0)
        self._queues[key] = (lock, pending + 1)

        async def ordered() -> None:
            try:
                async with lock:
                    await work()
            finally:
                left = self._queues[key][1]
                if left <= 1:
                    del self._queues[key]
                else:
                    self._queues[key] = (lock, left - 1)

        self._spawn(ordered(), name)
