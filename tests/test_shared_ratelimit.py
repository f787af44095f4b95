"""The spam protection shared by processes on one PostgreSQL (webhook replicas): a
person's commands reach one process or the other at random; the bucket is one
(`rate_bucket`, bot/commands/ratelimit.py), so a flood split across two bots gets the
burst answered, one "slow down", then silence, exactly as one bot would. SQLite (one
process) keeps its buckets in memory and writes no row."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from storage.cluster.models import RateBucket
from tests.support.fake import BotHarness

SLOW_DOWN = "Langsam bitte – zu viele Befehle. Versuch es in einer Minute wieder."
AGS = "Die AGs des Bündnisses:"

pytestmark = pytest.mark.postgres


class Clock(ManualClock):
    def __init__(self) -> None:
        super().__init__(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


async def limited_bot(url: str, clock: Clock) -> BotHarness:
    """A bot with the default limit of a configuration file: 20 a minute, burst 5."""
    harness = await BotHarness.create(url)
    services = harness.app.services
    services.settings = dataclasses.replace(
        services.settings, commands_per_minute=20, command_burst=5
    )
    services.clock = clock
    return harness


@pytest.fixture
async def two_bots(postgres_url: str) -> AsyncIterator[tuple[BotHarness, BotHarness, Clock]]:
    clock = Clock()
    one = await limited_bot(postgres_url, clock)
    two = await limited_bot(postgres_url, clock)
    yield one, two, clock
    await one.close()
    await two.close()


async def spread(bots: tuple[BotHarness, ...], who: str, times: int, seed: int) -> list[str]:
    """`times` commands of `who`, each to a bot picked at random (a load balancer)."""
    pick = random.Random(seed)
    replies: list[str] = []
    for _ in range(times):
        bot = pick.choice(bots)
        replies += [r.split("\n")[0] for r in await bot.group().say(who, "/ags")]
    return replies


async def test_a_flood_split_across_two_bots_is_limited_as_if_one(
    two_bots: tuple[BotHarness, BotHarness, Clock],
) -> None:
    one, two, _ = two_bots

    replies = await spread((one, two), "mallory", 40, seed=17)

    assert replies == [AGS] * 5 + [SLOW_DOWN]
    assert len(one.transport.sent) and len(two.transport.sent), "both bots took commands"


async def test_the_shared_bucket_refills_with_the_clock(
    two_bots: tuple[BotHarness, BotHarness, Clock],
) -> None:
    one, two, clock = two_bots
    await spread((one, two), "mallory", 10, seed=1)

    clock.advance(3)  # 20 a minute: one command every 3 seconds
    assert await spread((two,), "mallory", 1, seed=2) == [AGS]
    assert await spread((one, two), "mallory", 3, seed=3) == [], "no second notice"

    clock.advance(15)  # full again: a clean start, with its own notice
    assert await spread((one, two), "mallory", 7, seed=4) == [AGS] * 5 + [SLOW_DOWN]
    assert await spread((one, two), "ben", 2, seed=5) == [AGS] * 2, "others are not held up"


async def test_concurrent_commands_on_two_bots_take_each_token_once(
    two_bots: tuple[BotHarness, BotHarness, Clock],
) -> None:
    """Twenty commands at the same moment, ten on each bot: five run, one is told."""

    one, two, _ = two_bots
    bots = [(one, two)[i % 2] for i in range(20)]
    await asyncio.gather(*(bot.group().say("mallory", "/ags") for bot in bots))

    replies = [s.text.split("\n")[0] for bot in (one, two) for s in bot.transport.sent]
    assert sorted(replies) == sorted([AGS] * 5 + [SLOW_DOWN])


async def test_two_hosts_whose_clocks_differ_by_20_s_limit_a_flood_once(
    postgres_url: str,
) -> None:
    """The buckets are refilled by the processes' clocks. With the second host 20 s
    ahead, a flood split across both must not get 20 s of refill (here: the full
    burst) at every switch from one to the other: `at` never goes back."""
    behind, ahead = Clock(), Clock()
    ahead.advance(20)
    one = await limited_bot(postgres_url, behind)
    two = await limited_bot(postgres_url, ahead)
    try:
        replies = [r.split("\n")[0] for r in await one.group().say("mallory", "/ags")]
        for i in range(39):
            bot = (two, one)[i % 2]
            replies += [r.split("\n")[0] for r in await bot.group().say("mallory", "/ags")]
        # The first switch to the host ahead refills 20 s (the one token spent), once.
        assert replies == [AGS] * 6 + [SLOW_DOWN]
    finally:
        await one.close()
        await two.close()


async def test_anonymous_admins_share_one_bucket_per_chat_across_bots(
    two_bots: tuple[BotHarness, BotHarness, Clock],
) -> None:
    """All or nothing over two buckets: the chat's bucket runs dry, the sender's keeps
    the tokens it did not spend."""
    one, two, _ = two_bots
    for bot in (one, two):
        bot.user = _anonymous(bot.user)  # type: ignore[method-assign]
    replies = await spread((one, two), "channel1", 3, seed=6)
    replies += await spread((one, two), "channel2", 5, seed=7)

    assert replies == [AGS] * 5 + [SLOW_DOWN]
    async with one.app.services.db.read() as session:
        tokens = await session.scalar(
            select(RateBucket.tokens).where(RateBucket.key == "fake:channel2")
        )
    assert tokens is not None and tokens >= 2, "the refused inputs took nothing"


def _anonymous(user):  # type: ignore[no-untyped-def]
    def anonymous(who: str, platform: str = "fake"):  # type: ignore[no-untyped-def]
        return dataclasses.replace(user(who, platform), anonymous=True)

    return anonymous


async def test_sqlite_keeps_the_buckets_in_memory(sqlite_url: str) -> None:
    clock = Clock()
    bot = await limited_bot(sqlite_url, clock)
    try:
        replies = await spread((bot,), "mallory", 8, seed=8)
        assert replies == [AGS] * 5 + [SLOW_DOWN]
        assert bot.app.dispatcher.shared_rate_limit is None
        async with bot.app.services.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(RateBucket)) == 0
    finally:
        await bot.close()


async def test_without_the_database_each_process_counts_on_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database does not answer (nothing listens on the port): the flood is still
    limited, in this process's memory, with one warning, and the database is not asked
    again at every input."""
    from bot.commands.ratelimit import SharedRateLimit
    from storage.db import Database

    clock = Clock()
    db = Database("postgresql+asyncpg://bot@127.0.0.1:1/nowhere")
    limit = SharedRateLimit(db, clock)
    try:
        verdicts = [await limit.check("fake", "mallory", 20, 5) for _ in range(8)]
        assert verdicts == ["run"] * 5 + ["warn", "drop", "drop"]
        warnings = [r for r in caplog.records if r.name == "bot.commands.ratelimit"]
        assert [r.levelname for r in warnings] == ["WARNING"]
        assert limit._alone_until > 0
    finally:
        await limit.close()
        await db.dispose()


async def test_buckets_idle_for_an_hour_are_deleted(postgres_url: str) -> None:
    from datetime import timedelta

    from storage.cluster import buckets
    from storage.db import Database

    db = Database(postgres_url)
    await db.upgrade()
    now = Clock()()
    try:
        async with db.engine.begin() as conn:
            await buckets.take(conn, "fake:old", now=now, per_minute=20, burst=5)
            await buckets.take(
                conn, "fake:new", now=now + timedelta(minutes=50), per_minute=20, burst=5
            )
            gone = await buckets.prune(
                conn, now=now + timedelta(hours=1, minutes=1), older_than=timedelta(hours=1)
            )
        assert gone == 1
        async with db.read() as session:
            assert list(await session.scalars(select(RateBucket.key))) == ["fake:new"]
    finally:
        await db.dispose()
