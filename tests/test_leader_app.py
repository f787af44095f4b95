"""Two Apps in one test process on one PostgreSQL database (fake networks): only the
leader runs the scheduler and the rescan hooks; what a standby plans waits; a leader whose
lock connection the server ends stops its duties at once and the standby takes over."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import asyncpg
import pytest

import bot.app as app_module
from bot.context import Services
from bot.leader import asyncpg_dsn
from tests.support.fake import BotHarness

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]


async def until(check: object, within: float = 10.0) -> float:
    """Seconds until `check()` holds."""
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < within, "did not happen in time"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_only_the_leader_runs_timers_and_rescans_and_a_cut_leader_steps_down(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "RESCAN_SECONDS", 0.1)
    first = await BotHarness.create(postgres_url)
    second = await BotHarness.create(postgres_url)
    rescans = {"first": 0, "second": 0}

    def counting(name: str) -> object:
        async def rescan(_services: Services) -> None:
            rescans[name] += 1

        return rescan

    first.app.services.registry.rescan_hooks.append(counting("first"))  # type: ignore[arg-type]
    second.app.services.registry.rescan_hooks.append(counting("second"))  # type: ignore[arg-type]
    ran: list[str] = []

    async def job(name: str) -> None:
        ran.append(name)

    try:
        await first.app.start()
        await second.app.start()
        one, two = first.app.services, second.app.services
        assert (one.leading, two.leading) == (True, False)
        assert (one.timers.running, two.timers.running) == (True, False)
        # A standby plans, but does not run what it planned (the leader's rescan finds it).
        two.timers.at("standby-job", two.now() + timedelta(milliseconds=50), job, "second")
        one.timers.at("leader-job", one.now() + timedelta(milliseconds=50), job, "first")
        await until(lambda: rescans["first"] >= 3 and ran == ["first"])
        await asyncio.sleep(0.3)
        assert rescans["second"] == 0 and ran == ["first"]

        # The server ends the leader's lock session (as on a restart or a cut network).
        leadership = first.app.leadership
        assert leadership is not None and leadership._conn is not None
        pid = leadership._conn.get_server_pid()
        admin = await asyncpg.connect(asyncpg_dsn(postgres_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        cut_at = time.monotonic()
        await until(lambda: not one.leading, within=5)
        stepped_down = time.monotonic() - cut_at
        assert not one.timers.running
        took_over = await until(lambda: two.leading, within=5)
        assert two.timers.running
        counted = rescans["first"]
        await until(lambda: rescans["second"] >= 2)
        assert rescans["first"] == counted  # the old leader rescans no more
        assert stepped_down < 3.0, stepped_down
        assert took_over < 5.0, took_over
    finally:
        await first.app.stop()
        await second.app.stop()


async def test_a_stop_while_taking_over_ends_even_if_a_duty_swallows_the_cancel(
    postgres_url: str,
) -> None:
    """SIGTERM can hit a standby in the middle of taking over (a rolling restart stops the
    processes one after the other); a start-up step whose clean-up turns the cancellation
    into an error of its own must not keep the process alive."""
    first = await BotHarness.create(postgres_url)
    second = await BotHarness.create(postgres_url)
    entered = asyncio.Event()

    async def stubborn(_services: Services) -> None:
        entered.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise RuntimeError("a driver's clean-up failed") from None

    second.app.services.registry.start_hooks.append(stubborn)
    try:
        await first.app.start()
        await second.app.start()
        await first.app.stop()
        await asyncio.wait_for(entered.wait(), 10)  # the standby is taking over
        started = time.monotonic()
        await asyncio.wait_for(second.app.stop(), 10)
        assert time.monotonic() - started < 3
        assert not second.app.services.leading
    finally:
        await first.app.stop()
        await second.app.stop()


async def test_a_leader_cut_off_while_taking_over_steps_down_without_finishing_it(
    postgres_url: str,
) -> None:
    """The start-up steps can take minutes (resuming every interrupted send). A leader
    whose lock session ends meanwhile stops at once, as it does later: otherwise the
    standby leads too, and both receive, for as long as the steps run."""
    first = await BotHarness.create(postgres_url)
    second = await BotHarness.create(postgres_url)
    entered = asyncio.Event()

    async def slow(_services: Services) -> None:
        entered.set()
        await asyncio.sleep(30)

    first.app.services.registry.start_hooks.append(slow)
    try:
        starting = asyncio.create_task(first.app.start())
        await asyncio.wait_for(entered.wait(), 10)
        await second.app.start()
        one, two = first.app.services, second.app.services
        assert (one.leading, two.leading) == (True, False)
        leadership = first.app.leadership
        assert leadership is not None and leadership._conn is not None
        admin = await asyncpg.connect(asyncpg_dsn(postgres_url))
        try:
            pid = leadership._conn.get_server_pid()
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        stepped_down = await until(lambda: not one.leading, within=10)
        assert not one.timers.running
        await until(lambda: two.leading, within=5)
        assert stepped_down < 3.0, stepped_down
        await asyncio.wait_for(starting, 5)
    finally:
        await first.app.stop()
        await second.app.stop()
