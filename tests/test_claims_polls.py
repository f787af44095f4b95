"""Poll closes with two bot processes on one database (issue 17): two processes ending
one poll at once post one result per chat (each chat's end is taken with a lease), and
the leader's rescan plans the close of a poll another process started."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.context import Services
from bot.core import ChatRef, SentRef
from bot.rich import Rich
from handlers.polls import lifecycle
from handlers.polls.lifecycle import close_due
from storage.leases import LEASE
from tests.support.fake import BotHarness, Chat, FakeTransport
from tests.support.poll_chat import START, Clock, poll_row, setup_ag, start_poll

WANN = '/poll "Wann?" "Di" "Mi" "Do" --for 1h'


class Pausing(FakeTransport):
    """Once `armed`, pauses in the first result it posts until `go` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.paused, self.go = asyncio.Event(), asyncio.Event()

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        if self.armed and (key or "").startswith("poll-result:"):
            self.armed = False
            self.paused.set()
            await self.go.wait()
        return await super().send(chat, message, key=key)


@dataclass
class Pair:
    a: BotHarness
    b: BotHarness
    group: Chat
    clock: Clock


@pytest.fixture
async def pair(database_url: str) -> AsyncIterator[Pair]:
    a = await BotHarness.create(database_url, transport=Pausing())
    b = await BotHarness.create(database_url)
    clock = Clock()
    a.app.services.clock = b.app.services.clock = clock
    try:
        group = await setup_ag(a, groups=(a.group("ag2-gruppe"), a.group("ag2-zweitgruppe")))
        yield Pair(a, b, group, clock)
    finally:
        await a.close()
        await b.close()


async def rescan(services: Services) -> None:
    for hook in services.registry.rescan_hooks:
        await hook(services)


def results(*bots: BotHarness) -> Counter[str]:
    return Counter(
        s.chat.id for bot in bots for s in bot.transport.sent if s.text.startswith("Endergebnis")
    )


async def _a_posting_the_result(pair: Pair) -> tuple[asyncio.Task[None], Pausing, int]:
    """A poll due to close; bot A closes it and is held posting the result in the first
    chat: A's closing, its held transport, and the poll's id."""
    short_id = await start_poll(pair.group, "anna", WANN)
    poll = await poll_row(pair.a, short_id)
    pair.clock.advance(hours=1)
    pausing = pair.a.transport
    assert isinstance(pausing, Pausing)
    pausing.armed = True
    closing = asyncio.create_task(close_due(pair.a.app.services, poll.id))
    await asyncio.wait_for(pausing.paused.wait(), 10)
    return closing, pausing, poll.id


async def test_two_bots_closing_one_poll_post_one_result_per_chat(pair: Pair) -> None:
    # Bot A closes the poll and is posting the result in the first chat ...
    closing, pausing, poll_id = await _a_posting_the_result(pair)
    # ... while bot B's close job fires, B starts and B's rescans run.
    await close_due(pair.b.app.services, poll_id)
    for hook in pair.b.app.services.registry.start_hooks:
        await hook(pair.b.app.services)
    await rescan(pair.b.app.services)
    pausing.go.set()
    await closing
    await rescan(pair.a.app.services)
    assert results(pair.a, pair.b) == Counter({"ag2-gruppe": 1, "ag2-zweitgruppe": 1})
    closed = [sent.chat.id for bot in (pair.a, pair.b) for sent, _ in bot.transport.closed_polls]
    assert sorted(closed) == ["ag2-gruppe", "ag2-zweitgruppe"]


async def test_the_rescan_plans_the_close_of_a_poll_started_on_another_process(
    pair: Pair,
) -> None:
    # Bot B takes the command (a webhook replica): its timers do not run.
    short_id = await start_poll(pair.b.group("ag2-gruppe"), "anna", WANN)
    poll = await poll_row(pair.a, short_id)
    job = f"poll-close:{poll.id}"
    assert pair.a.app.services.timers.due(job) is None
    await rescan(pair.a.app.services)
    assert pair.a.app.services.timers.due(job) == START + timedelta(hours=1)


async def test_a_result_slow_to_post_keeps_its_lease(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result that takes longer than the lease to post (a Telegram group's flood
    window of 20 a minute, a Matrix send retrying for a minute) stays with its poster:
    the leader's rescan at B must not post it a second time."""
    monkeypatch.setattr(lifecycle, "END_RENEW_EVERY", 0.05)
    closing, pausing, _poll_id = await _a_posting_the_result(pair)
    for _ in range(3):  # 60 s pass while A is still posting (and renewing)
        pair.clock.advance(seconds=LEASE.total_seconds() * 2 / 3)
        await asyncio.sleep(0.3)
        await rescan(pair.b.app.services)
    pausing.go.set()
    await closing
    assert results(pair.a, pair.b) == Counter({"ag2-gruppe": 1, "ag2-zweitgruppe": 1})
