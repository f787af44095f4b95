"""The Matrix sync position a new leader resumes from (bot/transports/matrix/position.py):
saved only once every command of its sync has been handled, never past an unfinished one,
and stopping the saver never cancels a command."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from bot.transports.matrix import position
from bot.transports.matrix.position import Continuity


class Saved:
    def __init__(self, start: str | None = None) -> None:
        self.values: list[str] = []
        self.start = start

    async def load(self) -> str | None:
        return self.start

    async def save(self, token: str) -> None:
        self.values.append(token)


async def test_a_position_is_saved_after_its_commands_and_never_past_an_unfinished_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(position, "SAVE_EVERY", 0.0)
    saved = Saved()
    continuity = Continuity()
    continuity.positions = saved
    slow_done = asyncio.Event()

    async def command(done: asyncio.Event | None) -> None:
        if done is not None:
            await done.wait()

    fast = asyncio.create_task(command(None))
    continuity.track(fast)
    continuity.batch_done("s1")
    slow = asyncio.create_task(command(slow_done))
    continuity.track(slow)
    continuity.batch_done("s2")
    continuity.track(asyncio.create_task(command(None)))
    continuity.batch_done("s3")
    for _ in range(50):
        await asyncio.sleep(0.01)
    assert saved.values == ["s1"]  # s2's command still runs: neither s2 nor s3

    await continuity.stop()
    assert not slow.cancelled() and not slow.done()  # the command goes on
    assert saved.values == ["s1"]  # nothing past the unfinished command
    slow_done.set()
    await slow


async def test_a_resumed_sync_answers_only_events_younger_than_five_minutes() -> None:
    continuity = Continuity()
    assert await continuity.resume_from() is None  # no shared store: backlog unanswered
    continuity.positions = Saved("s9")
    assert await continuity.resume_from() == "s9"
    now_ms = int(time.time() * 1000)
    assert continuity.fresh(SimpleNamespace(server_timestamp=now_ms - 60_000))
    assert not continuity.fresh(SimpleNamespace(server_timestamp=now_ms - 6 * 60_000))
