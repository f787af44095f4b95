"""Keeping to Telegram's flood limits without ever provoking RetryAfter.

Telegram allows about 30 messages a second overall, 1 a second to one private chat and
20 a minute to one group. PTB's AIORateLimiter uses leaky buckets, which let a full bucket
through at once and then refill: up to 59 sends land in the first second and Telegram
answers RetryAfter, which pauses every send. Here each limit is a sliding window: a send
gets the earliest moment at which the window still has room, so a burst of 30 goes at
once and the 31st exactly one window later, never earlier. A send counts until its request
has come back (Telegram counts it when it arrives, which may be later than we started it
on a busy machine): the send one window after it waits for that moment, not the planned one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

OVERALL = (30, 1.0)
PRIVATE_CHAT = (1, 1.0)
GROUP = (20, 60.0)
MARGIN = 0.01  # seconds of slack against clock differences
MAX_CHAT_WINDOWS = 4096


class Slot:
    """One send's moment in a window: planned, then moved to when its request came back."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at

    def done(self, now: float) -> None:
        self.at = max(self.at, now)


class Window:
    """At most `count` sends within any `seconds` (plus the margin)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = count
        self.span = seconds + MARGIN
        self.moments: deque[Slot] = deque(maxlen=count)

    def reserve(self, now: float) -> tuple[Slot, Slot | None]:
        """A slot at the earliest moment from `now` on with room, taken at once so that
        concurrent callers get successive moments, and the slot it must stay a window
        behind (None: room at once)."""
        at, behind = now, None
        if len(self.moments) == self.count:
            behind = self.moments[0]
            at = max(at, behind.at + self.span)
        slot = Slot(at)
        self.moments.append(slot)
        return slot, behind

    async def wait(self, now: float) -> Slot:
        """Reserve, then wait for the moment (again if the send behind came back later)."""
        slot, behind = self.reserve(now)
        await _until(slot.at)
        while behind is not None and behind.at + self.span > _now():
            slot.at = behind.at + self.span
            await _until(slot.at)
        return slot

    def idle(self, now: float) -> bool:
        return not self.moments or self.moments[-1].at + self.span <= now


class SlidingWindowLimiter(BaseRateLimiter[int]):
    def __init__(
        self,
        *,
        overall: tuple[int, float] = OVERALL,
        private_chat: tuple[int, float] = PRIVATE_CHAT,
        group: tuple[int, float] = GROUP,
        max_retries: int = 5,
    ) -> None:
        self.overall = Window(*overall)
        self.private_chat = private_chat
        self.group = group
        self.max_retries = max_retries
        self._chats: dict[int | str, Window] = {}
        self._open = asyncio.Event()
        self._open.set()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat(self, chat_id: int | str, now: float) -> Window:
        window = self._chats.get(chat_id)
        if window is None:
            if len(self._chats) >= MAX_CHAT_WINDOWS:
                for key in [k for k, w in self._chats.items() if w.idle(now)]:
                    del self._chats[key]
            private = isinstance(chat_id, int) and chat_id > 0
            window = self._chats[chat_id] = Window(*(self.private_chat if private else self.group))
        return window

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Wait for room in the chat's and the overall window, then send; a RetryAfter
        (the limits are Telegram's estimate, not a contract) pauses all sends and retries."""
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        chat_id: Any = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)
        loop = asyncio.get_running_loop()
        for attempt in range(retries + 1):
            await self._open.wait()
            slots: tuple[Slot, ...] = ()
            if chat_id is not None:
                chat_slot = await self._chat(chat_id, loop.time()).wait(loop.time())
                slots = (chat_slot, await self.overall.wait(loop.time()))
            try:
                try:
                    return await callback(*args, **kwargs)
                finally:
                    for slot in slots:
                        slot.done(loop.time())
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                self._open.clear()
                try:
                    await asyncio.sleep(seconds + 0.1)
                finally:
                    self._open.set()
        raise AssertionError("unreachable")


def _now() -> float:
    return asyncio.get_running_loop().time()


async def _until(moment: float) -> None:
    delay = moment - _now()
    if delay > 0:
        await asyncio.sleep(delay)
