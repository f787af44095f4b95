"""Notices with two bot processes on one database (issue 17): a notice another live
process is sending is taken neither by a start nor by the leader's rescan; once that
process is gone and its lease ran out, the rescan sends each notice once; a Terminumfrage
started on a process whose timers do not run gets its nudge planned by the leader's
rescan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.context import Services
from bot.core import ChatRef, SentRef
from bot.rich import Rich
from handlers.nudges import claims
from handlers.nudges.schedule import nudge_due, nudge_job
from storage.leases import LEASE
from storage.notices import rows
from storage.notices.models import NoticeKind
from tests.support.fake import BotHarness, FakeTransport
from tests.support.meetings import Ag2
from tests.test_nudges import NUDGE_AT, datepoll_nudge, start_datepoll, with_members


class Hanging(FakeTransport):
    """Once `armed`, hangs in every private message (a process about to die while sending)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.hanging = asyncio.Event()

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        if chat.is_direct and self.armed:
            self.hanging.set()
            await asyncio.Event().wait()
        return await super().send(chat, message, key=key)


@dataclass
class Pair:
    ag2: Ag2
    a: BotHarness
    b: BotHarness


@pytest.fixture
async def pair(database_url: str) -> AsyncIterator[Pair]:
    a = await BotHarness.create(database_url, transport=Hanging())
    b = await BotHarness.create(database_url)
    try:
        ag2 = await with_members(a)
        b.app.services.clock = ag2.clock
        yield Pair(ag2, a, b)
    finally:
        await a.close()
        await b.close()


async def run_hooks(services: Services, *, start: bool) -> None:
    registry = services.registry
    for hook in registry.start_hooks if start else registry.rescan_hooks:
        await hook(services)


def nudges_to(bot: BotHarness) -> list[str]:
    return sorted(s.chat.id for s in bot.transport.sent if s.text.startswith("🔔"))


async def test_a_notice_under_way_elsewhere_is_sent_once_after_its_holder_died(
    pair: Pair,
) -> None:
    sid, poll_id = await start_datepoll(pair.ag2)
    pair.ag2.clock.set(NUDGE_AT)
    hanging = pair.a.transport
    assert isinstance(hanging, Hanging)
    hanging.armed = True
    task = asyncio.create_task(nudge_due(pair.a.app.services, "datepoll", poll_id))
    await asyncio.wait_for(hanging.hanging.wait(), 10)
    # Bot A holds both nudges (Ben's and Carl's) and is writing them. Bot B starts, and
    # leads for a while: it sends nothing A holds.
    await run_hooks(pair.b.app.services, start=True)
    await run_hooks(pair.b.app.services, start=False)
    assert nudges_to(pair.b) == []
    # A dies; once its leases ran out, B's rescan sends each nudge, once.
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    pair.ag2.clock.advance(seconds=LEASE.total_seconds() - 1)
    await run_hooks(pair.b.app.services, start=False)
    assert nudges_to(pair.b) == []
    pair.ag2.clock.advance(seconds=2)
    await run_hooks(pair.b.app.services, start=False)
    await run_hooks(pair.b.app.services, start=False)
    assert nudges_to(pair.b) == ["dm-ben", "dm-carl"]
    assert {s.text for s in pair.b.transport.sent if s.text.startswith("🔔")} == {
        datepoll_nudge(sid)
    }
    async with pair.b.app.services.db.read() as session:
        found = await rows.of_subject(session, NoticeKind.NUDGE, f"datepoll:{poll_id}")
    assert [(n.status, n.attempts, n.lease_owner) for n in found] == [("sent", 2, None)] * 2


async def test_a_datepoll_started_on_another_process_gets_its_nudge_planned_by_the_rescan(
    pair: Pair,
) -> None:
    # Bot B takes the command (a webhook replica): its timers do not run.
    ag2_on_b = Ag2(pair.b, pair.ag2.clock, pair.b.group("ag2-gruppe"), pair.b.dm("anna"),
                   pair.b.dm("ben"))  # fmt: skip
    _sid, poll_id = await start_datepoll(ag2_on_b)
    leader = pair.a.app.services.timers
    assert leader.due(nudge_job("datepoll", poll_id)) is None
    await run_hooks(pair.a.app.services, start=False)
    assert leader.due(nudge_job("datepoll", poll_id)) == NUDGE_AT


class Slow(FakeTransport):
    """Once `armed`, waits in every private message until `go` is set (a slow network)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.waiting, self.go = asyncio.Event(), asyncio.Event()

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        if chat.is_direct and self.armed:
            self.waiting.set()
            await self.go.wait()
        return await super().send(chat, message, key=key)


async def test_a_notice_slow_to_send_keeps_its_lease(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A nudge whose send takes longer than the lease (a Matrix send retrying for a
    minute) stays with its sender: the leader's rescan at B does not send it again."""
    monkeypatch.setattr(claims, "RENEW_EVERY", 0.05)
    a = await BotHarness.create(database_url, transport=Slow())
    b = await BotHarness.create(database_url)
    try:
        ag2 = await with_members(a)
        b.app.services.clock = ag2.clock
        _sid, poll_id = await start_datepoll(ag2)
        ag2.clock.set(NUDGE_AT)
        slow = a.transport
        assert isinstance(slow, Slow)
        slow.armed = True
        task = asyncio.create_task(nudge_due(a.app.services, "datepoll", poll_id))
        await asyncio.wait_for(slow.waiting.wait(), 10)
        for _ in range(3):  # 60 s pass while A is still sending (and renewing)
            ag2.clock.advance(seconds=LEASE.total_seconds() * 2 / 3)
            await asyncio.sleep(0.3)
            await run_hooks(b.app.services, start=False)
        slow.go.set()
        await task
        assert sorted(nudges_to(a) + nudges_to(b)) == ["dm-ben", "dm-carl"]
    finally:
        await a.close()
        await b.close()
