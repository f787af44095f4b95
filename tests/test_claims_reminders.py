"""Reminders with two bot processes on one database (issue 17): each delivery goes out
once however many processes fire a reminder at once; a process that dies mid fan-out
keeps the reminder to itself until its lease runs out, then another one sends only what
is missing; start-up and the leader's rescan never take a live lease; a reminder planned
by a process whose timers do not run is sent by the leader's rescan.

Two `BotHarness`es share the database (SQLite and PostgreSQL), each with its own node
id and its own recording network, and one clock; the tests call the engine's work
(`fire`, `start`, the rescan hooks) instead of waiting for timers.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import pytest

from bot.context import Services
from bot.core import ChatRef, SentRef
from bot.rich import Rich
from handlers.reminders.engine import ReminderEngine, engine
from handlers.reminders.text import compose_reminder
from storage.leases import LEASE
from tests.support.fake import BotHarness, FakeTransport
from tests.support.meetings import Ag2, ag2_with_lead, deliveries, reminders, use_transport

MEETINGS = ("03.12.2026", "04.12.2026", "05.12.2026")  # 18:00 each


class Pair:
    """Two bots on one database: `a` set up AG 2, `b` is a second process."""

    def __init__(self, setup: Ag2, b: BotHarness) -> None:
        self.setup, self.a, self.b = setup, setup.bot, b

    def sends(self) -> Counter[tuple[str, str]]:
        """(chat, first line) of every reminder either bot sent, counted."""
        seen: Counter[tuple[str, str]] = Counter()
        for bot in (self.a, self.b):
            for sent in bot.transport.sent:
                if sent.text.startswith("⏰"):
                    seen[(sent.chat.id, sent.text.splitlines()[1])] += 1
        return seen


@pytest.fixture
async def pair(database_url: str) -> AsyncIterator[Pair]:
    a = await BotHarness.create(database_url)
    b = await BotHarness.create(database_url)
    try:
        setup = await ag2_with_lead(a)
        b.app.services.clock = setup.clock
        assert a.app.services.node_id != b.app.services.node_id
        # Five targets: three linked groups, Anna and Ben privately.
        for name in ("ag2-b", "ag2-c"):
            await a.group(name).say("anna", "/link ag2")
        await setup.anna.say("anna", "/remind on")
        await setup.ben.say("ben", "/remind on")
        yield Pair(setup, b)
    finally:
        await a.close()
        await b.close()


async def run_rescan(services: Services) -> None:
    """What the leader's rescan loop does once."""
    for hook in services.registry.rescan_hooks:
        await hook(services)


async def test_two_bots_firing_at_once_send_each_delivery_once(pair: Pair) -> None:
    """The issue's finding: 3 meetings × 3 reminders × 5 targets, every due reminder
    fired by both bots at the same moment: 15 messages per round of three reminders
    (one per meeting and target), 45 in all, none twice."""
    setup = pair.setup
    assert await setup.anna.say("anna", "/reminders ag2 2d 1d 1h")
    for i, day in enumerate(MEETINGS, 1):
        await setup.anna.say("anna", f"/meeting ag2 {day} 18:00 Treffen {i}")
    rows = await reminders(pair.a)
    assert len(rows) == 9
    by_offset: dict[int, list[int]] = {}
    for row in rows:
        by_offset.setdefault(row.offset_seconds, []).append(row.id)
    for offset in sorted(by_offset, reverse=True):
        before = sum(pair.sends().values())
        for reminder_id in by_offset[offset]:
            due = next(r.due_at for r in rows if r.id == reminder_id)
            setup.clock.set(due)
            await asyncio.gather(
                engine(pair.a.app.services).fire(reminder_id),
                engine(pair.b.app.services).fire(reminder_id),
            )
        assert sum(pair.sends().values()) - before == 15
    sends = pair.sends()
    assert len(sends) == 45 and set(sends.values()) == {1}
    assert {(d.status, d.attempts) for d in await deliveries(pair.a)} == {("sent", 1)}
    assert {r.status for r in await reminders(pair.a)} == {"sent"}
    assert {(r.lease_owner, r.lease_until) for r in await reminders(pair.a)} == {(None, None)}


class Stalling(FakeTransport):
    """Sends `before` messages, then hangs in the next one until `go` is set (a slow
    network, or a process about to die)."""

    def __init__(self, before: int) -> None:
        super().__init__()
        self.before = before
        self.hanging, self.go = asyncio.Event(), asyncio.Event()
        self.after_send: Callable[[int], None] = lambda _n: None

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        if len(self.sent) >= self.before and not self.go.is_set():
            self.hanging.set()
            await self.go.wait()
        sent = await super().send(chat, message, key=key)
        self.after_send(len(self.sent))
        return sent


async def stall_mid_fan_out(
    pair: Pair, renew_every: float | None = None, seconds_per_send: float = 0
) -> tuple[asyncio.Task[None], Stalling, int, datetime]:
    """Bot A fires the day-before reminder one target at a time; its network hangs after
    two sends. The task, the network, the reminder and its due time."""
    setup = pair.setup
    await setup.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Treffen")
    first = (await reminders(pair.a))[0]
    setup.clock.set(first.due_at)
    services = pair.a.app.services
    services.reminders = ReminderEngine(services, compose_reminder, parallel=1)
    if renew_every is not None:
        engine(services).sender.renew_every = renew_every
    stalling = Stalling(before=2)
    stalling.after_send = lambda _n: setup.clock.advance(seconds=seconds_per_send)
    use_transport(pair.a, stalling)
    task = engine(services).spawn(first.id)
    assert task is not None
    await asyncio.wait_for(stalling.hanging.wait(), 10)
    return task, stalling, first.id, first.due_at


async def die_mid_fan_out(pair: Pair, seconds_per_send: float = 0) -> tuple[int, datetime]:
    """Bot A dies after two sends (its task cancelled, its rows left `sending` with its
    leases). The reminder and its due time."""
    services = pair.a.app.services
    task, _stalling, reminder_id, due = await stall_mid_fan_out(
        pair, seconds_per_send=seconds_per_send
    )
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    rows = await deliveries(pair.a)
    assert sorted(d.status for d in rows) == ["pending", "pending", "sending", "sent", "sent"]
    assert {d.lease_owner for d in rows if d.status == "sending"} == {services.node_id}
    return reminder_id, due


@pytest.mark.parametrize("resume_by", ["rescan", "start"])
async def test_a_dead_holders_reminder_waits_for_its_lease_then_only_the_rest_goes_out(
    pair: Pair, resume_by: str
) -> None:
    reminder_id, due = await die_mid_fan_out(pair)
    setup, b = pair.setup, engine(pair.b.app.services)
    # While A's lease lives: neither a firing, nor a start, nor a rescan takes it.
    setup.clock.set(due + LEASE - timedelta(seconds=1))
    await b.fire(reminder_id)
    await b.start()
    await run_rescan(pair.b.app.services)
    await b.wait_idle()
    assert [s for s in pair.b.transport.sent if s.text.startswith("⏰")] == []
    # The start looks again when A's lease runs out (A may have died just before).
    assert pair.b.app.services.timers.due(f"reminder:{reminder_id}") == due + LEASE
    # A is gone: once the lease ran out, B sends the three deliveries not yet `sent`
    # (the one A was sending goes again, with its key) and nothing A sent.
    setup.clock.set(due + LEASE + timedelta(seconds=1))
    if resume_by == "rescan":
        await run_rescan(pair.b.app.services)
    else:
        third = await BotHarness.create(pair.a.app.settings.database_url)
        try:
            third.app.services.clock = setup.clock
            use_transport(third, pair.b.transport)
            await engine(third.app.services).start()
            await engine(third.app.services).wait_idle()
        finally:
            await third.close()
    await b.wait_idle()
    by_a = {s.chat.id for s in pair.a.transport.sent if s.text.startswith("⏰")}
    by_b = [s.chat.id for s in pair.b.transport.sent if s.text.startswith("⏰")]
    assert len(by_a) == 2 and len(by_b) == 3 and not by_a & set(by_b)
    assert sorted(by_a | set(by_b)) == ["ag2-b", "ag2-c", "ag2-gruppe", "dm-anna", "dm-ben"]
    rows = await deliveries(pair.a)
    assert sorted(d.attempts for d in rows) == [1, 1, 1, 1, 2]
    assert {d.status for d in rows} == {"sent"}
    assert (await reminders(pair.a))[0].status == "sent"


async def test_a_delivery_taken_after_the_last_renewal_is_resumed_with_the_rest(
    pair: Pair,
) -> None:
    """A takes its third delivery 10 s after it claimed the reminder, then dies: the
    reminder's lease lasts as long as that delivery's, so whoever resumes it finds every
    delivery free (not the reminder free and one delivery still held)."""
    reminder_id, due = await die_mid_fan_out(pair, seconds_per_send=5)
    b = engine(pair.b.app.services)
    pair.setup.clock.set(due + LEASE + timedelta(seconds=1))
    await b.fire(reminder_id)
    assert [s for s in pair.b.transport.sent if s.text.startswith("⏰")] == []
    pair.setup.clock.set(due + LEASE + timedelta(seconds=11))
    await b.fire(reminder_id)
    assert len([s for s in pair.b.transport.sent if s.text.startswith("⏰")]) == 3
    assert {d.status for d in await deliveries(pair.a)} == {"sent"}


async def test_the_holder_renews_its_leases_while_a_long_fan_out_runs(pair: Pair) -> None:
    task, stalling, reminder_id, due = await stall_mid_fan_out(pair, renew_every=0.01)
    pair.setup.clock.set(due + timedelta(seconds=25))
    await asyncio.sleep(0.2)  # A renews: its leases now run to about +55 s
    pair.setup.clock.set(due + LEASE + timedelta(seconds=10))
    await engine(pair.b.app.services).fire(reminder_id)
    await run_rescan(pair.b.app.services)
    await engine(pair.b.app.services).wait_idle()
    assert pair.b.transport.sent == []
    stalling.go.set()
    await task
    sent = sorted(s.chat.id for s in stalling.sent if s.text.startswith("⏰"))
    assert sent == ["ag2-b", "ag2-c", "ag2-gruppe", "dm-anna", "dm-ben"]
    assert {(d.status, d.lease_owner) for d in await deliveries(pair.a)} == {("sent", None)}


async def test_a_stopping_process_gives_its_leases_up_for_the_next_at_once(pair: Pair) -> None:
    await die_mid_fan_out(pair)
    await engine(pair.a.app.services).stop(grace=0)
    b = engine(pair.b.app.services)
    await b.start()  # the same instant: no waiting for the lease
    await b.wait_idle()
    assert len([s for s in pair.b.transport.sent if s.text.startswith("⏰")]) == 3
    assert (await reminders(pair.a))[0].status == "sent"


async def test_a_reminder_planned_by_a_process_without_timers_is_sent_by_the_rescan(
    pair: Pair,
) -> None:
    setup = pair.setup
    leader = engine(pair.a.app.services)
    await leader.start()
    # Bot B (not leading: its engine and timers do not run) plans the meeting.
    await pair.b.dm("anna").say("anna", "/meeting ag2 03.12.2026 18:00 Treffen")
    first = (await reminders(pair.a))[0]
    assert first.id not in leader.scheduled()
    setup.clock.set(first.due_at - timedelta(minutes=1))
    await run_rescan(pair.a.app.services)
    assert first.id in leader.scheduled()  # a job at its due time
    leader._remove_job(first.id)  # as if the job ran late: the next rescan fires it
    setup.clock.set(first.due_at + timedelta(seconds=5))
    await run_rescan(pair.a.app.services)
    await leader.wait_idle()
    sent = [s.chat.id for s in pair.a.transport.sent if s.text.startswith("⏰")]
    assert sorted(sent) == ["ag2-b", "ag2-c", "ag2-gruppe", "dm-anna", "dm-ben"]
    assert [s for s in pair.b.transport.sent if s.text.startswith("⏰")] == []
