"""The flood limiter counts a send until its request came back: Telegram counts it when it
arrives, which on a busy machine is later than the moment it was planned for."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.transports.telegram.flood import SlidingWindowLimiter


async def test_the_send_one_window_later_waits_for_the_slow_first_one_to_come_back() -> None:
    limiter = SlidingWindowLimiter(overall=(3, 0.3), private_chat=(100, 0.3), group=(100, 0.3))
    loop = asyncio.get_running_loop()
    started: dict[int, float] = {}
    came_back: dict[int, float] = {}

    async def send(i: int) -> None:
        started[i] = loop.time()
        if i == 0:
            await asyncio.sleep(0.2)  # the first request is slow to arrive
        came_back[i] = loop.time()

    async def one(i: int) -> Any:
        return await limiter.process_request(
            send, (i,), {}, "sendMessage", {"chat_id": 1000 + i}, None
        )

    await asyncio.gather(*(one(i) for i in range(4)))
    assert started[1] - started[0] < 0.05  # three go at once
    # The fourth goes one window after the slow first one came back, not after it began.
    assert started[3] >= came_back[0] + 0.3
