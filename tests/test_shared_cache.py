"""Caches across processes on one PostgreSQL (storage/cache.py, storage/notify.py): a
commit that wrote a watched table NOTIFYs the others, whose listener drops what they
kept of it, so another process's `/lang en` counts at once, not after 30 s. A rolled
back write tells nobody. When the listener's connection is killed, every cache is
dropped and it reconnects. SQLite (one process) listens to nothing."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import text, update

from bot.context import Services
from storage.db import Database
from storage.models import Ag
from tests.support.fake import BotHarness

AGS_DE = "Die AGs des Bündnisses:"
AGS_EN = "The alliance's AGs:"
WAIT = 5.0  # upper bound for a notification to arrive (it takes milliseconds)


async def listening_bot(url: str) -> BotHarness:
    harness = await BotHarness.create(url)
    await harness.app.services.listener.start()
    await asyncio.wait_for(harness.app.services.listener.connected.wait(), WAIT)
    return harness


async def close(bot: BotHarness) -> None:
    await bot.app.services.listener.stop()
    await bot.close()


@pytest.fixture
async def two_bots(postgres_url: str) -> AsyncIterator[tuple[BotHarness, BotHarness]]:
    one = await listening_bot(postgres_url)
    two = await listening_bot(postgres_url)
    yield one, two
    await close(one)
    await close(two)


async def first_line(bot: BotHarness, chat: str, who: str, command: str) -> str:
    chat_of = bot.dm(who) if chat == "dm" else bot.group(chat)
    return (await chat_of.say(who, command))[0].split("\n")[0]


async def eventually(condition: Callable[[], Awaitable[bool] | bool]) -> None:
    """Wait (bounded by WAIT) until `condition` holds: the notification arrived."""
    async with asyncio.timeout(WAIT):
        while True:
            result = condition()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(0.01)


async def changes(generation: Callable[[], int], before: int) -> None:
    """Wait until a watch's generation moved on."""
    await eventually(lambda: generation() != before)


def chat_watch(services: Services) -> int:
    return services.chat_languages._cache.watch.generation


def sender_watch(services: Services) -> int:
    return services.senders._cache.watch.generation


pytestmark = pytest.mark.postgres


async def test_lang_on_one_bot_is_read_by_the_other_at_once(
    two_bots: tuple[BotHarness, BotHarness],
) -> None:
    one, two = two_bots
    assert await first_line(two, "dm", "ben", "/ags") == AGS_DE  # bot 2 keeps Ben's German
    before = sender_watch(two.app.services)

    assert await one.dm("ben").say("ben", "/lang en") == [
        "From now on I'll write to you in English."
    ]

    await changes(lambda: sender_watch(two.app.services), before)
    assert await first_line(two, "dm", "ben", "/ags") == AGS_EN


async def test_a_group_language_set_on_one_bot_counts_on_the_other(
    two_bots: tuple[BotHarness, BotHarness],
) -> None:
    one, two = two_bots
    assert await first_line(two, "gruppe", "ben", "/ags") == AGS_DE
    before = chat_watch(two.app.services)

    assert await one.group().say("admin", "/sprache en") == [
        "From now on I'll write in English in this chat."
    ]

    await changes(lambda: chat_watch(two.app.services), before)
    assert await first_line(two, "gruppe", "ben", "/ags") == AGS_EN


async def test_the_ag_list_renamed_on_one_bot_is_current_on_the_other(
    two_bots: tuple[BotHarness, BotHarness],
) -> None:
    one, two = two_bots
    assert "ag2" in [ag.slug for ag in await two.app.services.ags.all()]
    assert await one.dm("admin").say("admin", "/ag archive ag2")

    async def archived() -> bool:
        return "ag2" not in [ag.slug for ag in await two.app.services.ags.all()]

    await eventually(archived)


async def test_a_rolled_back_write_tells_nobody(
    two_bots: tuple[BotHarness, BotHarness],
) -> None:
    one, two = two_bots
    await two.app.services.ags.all()
    watch = two.app.services.ags._cache.watch
    before = watch.generation

    with pytest.raises(RuntimeError):
        async with one.app.services.db.write() as session:
            await session.execute(update(Ag).where(Ag.slug == "ag1").values(name="Nie"))
            raise RuntimeError("changed my mind")
    # A later commit of another table is the marker that the listener had its chance.
    marker = two.app.services.senders._cache.watch
    mark = marker.generation
    await one.dm("zoe").say("zoe", "/lang en")
    await changes(lambda: marker.generation, mark)

    assert watch.generation == before, "no notification for a transaction that rolled back"
    assert [ag.name for ag in await two.app.services.ags.all() if ag.slug == "ag1"] != ["Nie"]


async def test_a_killed_listener_drops_every_cache_and_comes_back(
    two_bots: tuple[BotHarness, BotHarness],
) -> None:
    one, two = two_bots
    listener = two.app.services.listener
    assert await first_line(two, "dm", "ben", "/ags") == AGS_DE
    generation = sender_watch(two.app.services)
    pid = listener.backend_pid
    assert pid is not None

    async with one.app.services.db.write() as session:
        assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    await eventually(lambda: listener.connections >= 2 and listener.connected.is_set())
    assert sender_watch(two.app.services) > generation, "caches dropped at the reconnection"
    assert listener.backend_pid != pid

    # And it listens again: a change on bot 1 reaches bot 2 at once.
    assert await first_line(two, "dm", "ben", "/ags") == AGS_DE
    before = sender_watch(two.app.services)
    await one.dm("ben").say("ben", "/lang en")
    await changes(lambda: sender_watch(two.app.services), before)
    assert await first_line(two, "dm", "ben", "/ags") == AGS_EN


async def test_sqlite_has_no_listener_and_no_notify(sqlite_url: str) -> None:
    bot = await BotHarness.create(sqlite_url)
    try:
        listener = bot.app.services.listener
        await listener.start()
        assert not listener.enabled and not listener.connected.is_set()
        assert await bot.dm("ben").say("ben", "/lang en") == [
            "From now on I'll write to you in English."
        ]
        assert await first_line(bot, "dm", "ben", "/ags") == AGS_EN
        assert listener.connections == 0
    finally:
        await listener.stop()
        await bot.close()


async def test_notify_is_a_no_op_on_sqlite(sqlite_url: str) -> None:
    from storage.notify import notify

    db = Database(sqlite_url)
    try:
        async with db.write() as session:
            await notify(session, "buendnisbot_plan", "x")
    finally:
        await db.dispose()


async def test_a_channel_listened_to_later_is_heard_and_only_after_commit(
    two_bots: tuple[BotHarness, BotHarness],
) -> None:
    """`services.listener.on` works while listening already (the leader's parts register
    as they start); `notify` in a transaction is delivered when, and only if, it commits."""
    from storage.notify import PLAN, notify

    one, two = two_bots
    heard: list[str] = []
    two.app.services.listener.on(PLAN, heard.append)
    await asyncio.sleep(0.2)  # the LISTEN goes out in the background

    with pytest.raises(RuntimeError):
        async with one.app.services.db.write() as session:
            await notify(session, PLAN, "never")
            raise RuntimeError("rolled back")
    async with one.app.services.db.write() as session:
        await notify(session, PLAN, "reminder 7")

    await eventually(lambda: heard == ["reminder 7"])
