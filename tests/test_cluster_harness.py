"""The offline Bot API over HTTP (tests/support/cluster.py) behaves like Telegram towards a
client that goes away: a long poll whose process was stopped or killed is abandoned, so
stopping the server does not wait out the poll's time-out (PTB asks for 10 s; each test of
test_cluster.py used to spend that long in its teardown)."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from tests.support.cluster import TOKEN, TelegramHttp


async def test_a_long_poll_whose_client_went_away_does_not_hold_up_the_stop() -> None:
    api = TelegramHttp()
    await api.start()
    url = f"{api.base_url}/bot{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as session:
        polling = asyncio.create_task(session.post(url, json={"offset": 0, "timeout": 600}))
        await api.api.wait_called("getUpdates")
        assert not polling.done()  # it waits for updates, as Telegram's long poll does
        polling.cancel()  # the bot process is gone: its connection closes
        with contextlib.suppress(asyncio.CancelledError):
            await polling
    # A hang here (the 600 s poll waited out) fails through the time-out, not a timing.
    async with asyncio.timeout(30):
        await api.stop()
