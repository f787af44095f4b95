"""A command or job cancelled while it waits for the database leaves no task behind that
the event loop's shutdown would wait for forever (it hung `make test` at teardown)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core import IncomingMessage
from handlers.polls import lifecycle as poll_lifecycle
from handlers.polls import service as poll_service
from storage.db import Database
from tests.support.fake import BotHarness
from tests.support.poll_chat import Clock, setup_ag, start_poll

# Keeps SQLite's worker thread busy for a good while, so both cancels land during it.
SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
    "SELECT count(*) FROM c"
)


async def test_a_query_cancelled_twice_leaves_no_task_that_never_ends(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")

    async def slow_read() -> None:
        async with db.read() as session:
            await session.execute(text(SLOW))

    task = asyncio.create_task(slow_read())
    await asyncio.sleep(0.2)  # the query runs in SQLite's thread
    task.cancel()  # e.g. a time-out: SQLAlchemy starts a shielded close
    await asyncio.sleep(0.05)
    task.cancel()  # e.g. the loop's shutdown: the connection is stopped at once
    await asyncio.sleep(0.05)
    # What asyncio.run() does at its end: cancel every task left, wait for all of them.
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert left, "the shielded close should still be running"
    for each in left:
        each.cancel()
    _done, pending = await asyncio.wait(left, timeout=10)
    assert not pending, f"tasks that ignore cancellation: {pending}"
    await db.dispose()
    for thread in threading.enumerate():  # SQLite finishes the query before its thread ends
        if "connection_worker" in thread.name:
            await asyncio.to_thread(thread.join, 10)


async def test_stop_ends_every_task_the_app_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poll's close that hangs (a timer's job) and a command that hangs: `App.stop`
    still ends within its grace, and no task of the bot is left for the loop's shutdown."""
    before = asyncio.all_tasks()
    bot = await BotHarness.create(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    clock = Clock()
    bot.app.services.clock = clock
    await bot.app.start()
    group = await setup_ag(bot)
    await start_poll(group, "anna", '/poll "Wann?" "Di" "Mi" --for 1h')
    other_id = await start_poll(group, "anna", '/poll "Wo?" "Halle" "Leipzig"')

    hanging = asyncio.Event()

    async def hangs(*_args: object, **_kwargs: object) -> None:
        hanging.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(poll_lifecycle, "close_poll", hangs)
    monkeypatch.setattr(poll_service, "close_poll", hangs)
    clock.advance(hours=1)  # the timer closes the first poll: hangs
    await asyncio.wait_for(hanging.wait(), 5)
    hanging.clear()
    command = await bot.app.dispatcher.message(
        IncomingMessage(
            chat=group.ref,
            sender=bot.user("anna"),
            text=f"close {other_id}",
            message_id="x",
        )
    )
    await asyncio.wait_for(hanging.wait(), 5)

    await asyncio.wait_for(bot.app.stop(), 5)
    assert command.done()
    left = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()]
    assert [t for t in left if not t.done()] == []
