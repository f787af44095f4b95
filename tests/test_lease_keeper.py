"""`kept`: a lease renewed while a send runs; at the block's end a renewal under way is let
finish, not cut off in the middle of its statement (bot/lease_keeper.py)."""

from __future__ import annotations

import asyncio

import pytest

from bot import lease_keeper
from bot.lease_keeper import kept


async def test_a_renewal_under_way_at_the_end_is_let_finish() -> None:
    started, finish = asyncio.Event(), asyncio.Event()
    outcomes: list[str] = []

    async def renew() -> bool:
        started.set()
        try:
            await finish.wait()
        except asyncio.CancelledError:
            outcomes.append("cut off")
            raise
        outcomes.append("done")
        return True

    async def block() -> None:
        async with kept(renew, what="test", every=0.01):
            await started.wait()  # a renewal is under way as the block ends

    ending = asyncio.create_task(block())
    await asyncio.sleep(0.05)
    assert not ending.done()  # waits for the renewal
    finish.set()
    await asyncio.wait_for(ending, 5)
    assert outcomes == ["done"]


async def test_renewals_run_while_the_block_runs_and_stop_with_it() -> None:
    calls = 0

    async def renew() -> bool:
        nonlocal calls
        calls += 1
        return True

    async with kept(renew, what="test", every=0.01):
        await asyncio.sleep(0.1)
    seen = calls
    assert seen >= 3
    await asyncio.sleep(0.05)
    assert calls == seen


async def test_a_renewal_that_hangs_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lease_keeper, "FINISH", 0.1)
    started = asyncio.Event()

    async def renew() -> bool:
        started.set()
        await asyncio.Event().wait()  # the database never answers
        return True

    async with asyncio.timeout(5):
        async with kept(renew, what="test", every=0.01):
            await started.wait()
