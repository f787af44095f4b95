"""Nudges and the lead's notices exactly once through restarts and outages (issue 15):
the jobs are rebuilt from the database at start, a notice caught in `sending` by a crash
is resumed with its send key `notice:<id>`, a database outage delays a nudge."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from handlers.nudges import schedule, sender
from handlers.nudges.schedule import nudge_due
from storage.db import DatabaseUnavailable
from storage.notices import rows
from storage.notices.models import Notice, NoticeKind, subject_of
from tests.support.fake import BotHarness
from tests.support.meetings import START, Clock, KeyedTransport
from tests.test_nudges import NUDGE_AT, Inbox, datepoll_nudge, person, start_datepoll, with_members


@pytest.fixture
def db_url(tmp_path: Path, sqlite_url: str) -> str:
    return sqlite_url


async def bot_on(db_url: str, transport: KeyedTransport, clock: Clock) -> BotHarness:
    harness = await BotHarness.create(db_url, transport=transport)
    harness.app.services.clock = clock
    return harness


async def restart(db_url: str, transport: KeyedTransport, clock: Clock) -> BotHarness:
    """A new bot on the same database and network, started as `App.start` does (the
    start-up steps; no running scheduler, so nothing fires by itself)."""
    harness = await bot_on(db_url, transport, clock)
    for hook in harness.app.services.registry.start_hooks:
        await hook(harness.app.services)
    return harness


async def statuses(bot: BotHarness) -> list[tuple[str, str]]:
    async with bot.app.services.db.read() as session:
        found = await rows.of_subject(session, NoticeKind.NUDGE, "datepoll:1")
    return [(n.kind, n.status) for n in found]


async def test_a_nudge_sent_before_a_restart_is_not_sent_again(db_url: str) -> None:
    network = KeyedTransport()
    first = await bot_on(db_url, network, Clock())
    ag2 = await with_members(first)
    sid, poll_id = await start_datepoll(ag2)
    ag2.clock.set(NUDGE_AT)
    await nudge_due(first.app.services, "datepoll", poll_id)
    await first.close()
    second = await restart(db_url, network, Clock(NUDGE_AT + timedelta(hours=1)))
    try:
        inbox = Inbox(second)
        for hook in second.app.services.registry.start_hooks:  # and a third start
            await hook(second.app.services)
        assert inbox.people() == []
        assert [s.text for s in network.sent if s.chat.id == "dm-ben"][-1] == datepoll_nudge(sid)
        assert network.keys.count("notice:1") == 1 and network.dropped == 0
        assert second.app.services.timers.due(f"nudge:datepoll:{poll_id}") is None
    finally:
        await second.close()


async def test_a_nudge_due_while_the_bot_was_down_comes_once_at_start(db_url: str) -> None:
    network = KeyedTransport()
    first = await bot_on(db_url, network, Clock())
    ag2 = await with_members(first)
    sid, _ = await start_datepoll(ag2)
    await first.close()
    second = await restart(db_url, network, Clock(NUDGE_AT + timedelta(hours=2)))
    try:
        inbox = Inbox(second)
        assert inbox.people() == []  # what the start did is before the inbox
        dms = [s.text for s in network.sent if s.chat.id.startswith("dm-") and "🔔" in s.text]
        assert dms == [datepoll_nudge(sid), datepoll_nudge(sid)]  # Ben and Carl, once each
        for hook in second.app.services.registry.start_hooks:
            await hook(second.app.services)
        assert inbox.people() == []
    finally:
        await second.close()


async def test_a_notice_caught_in_sending_is_resumed_with_its_key(db_url: str) -> None:
    network = KeyedTransport()
    first = await bot_on(db_url, network, Clock())
    ag2 = await with_members(first)
    sid, poll_id = await start_datepoll(ag2)
    services = first.app.services
    ben, carl = await person(first, "ben"), await person(first, "carl")
    subject = subject_of("datepoll", poll_id)
    ids = await services.db.run(lambda s: rows.want(s, NoticeKind.NUDGE, subject, [ben, carl]))
    # The crash: Ben's nudge was claimed and reached the network, Carl's was only written.
    owner, now = services.node_id, services.now()
    assert await services.db.run(lambda s: rows.claim(s, ids[0], owner=owner, now=now))
    network._delivered.add(sender.send_key(ids[0]))
    await first.close()
    second = await restart(db_url, network, Clock(START + timedelta(hours=1)))
    try:
        assert network.dropped == 1  # Ben's resend, dropped by the network's key
        assert network.keys == [*network.keys[:-1], sender.send_key(ids[1])]
        assert [s.text for s in network.sent if s.chat.id == "dm-carl"][-1] == datepoll_nudge(sid)
        async with second.app.services.db.read() as session:
            found = [await session.get(Notice, i) for i in ids]
        assert [n.status for n in found if n] == ["sent", "sent"]
        assert [n.attempts for n in found if n] == [2, 1]
    finally:
        await second.close()


async def test_the_deadline_passed_while_down_tells_the_lead_once(db_url: str) -> None:
    network = KeyedTransport()
    first = await bot_on(db_url, network, Clock())
    ag2 = await with_members(first)
    sid, _ = await start_datepoll(ag2)
    await first.close()
    second = await restart(db_url, network, Clock(START.replace(day=30, hour=18)))
    try:
        told = [s.text for s in network.sent if s.chat.id == "dm-anna" and "⏰" in s.text]
        assert len(told) == 1 and told[0].startswith(f"⏰ Die Antwortfrist der Terminumfrage {sid}")
        # The nudge was due too, but the deadline has passed: answering is over.
        assert not [s for s in network.sent if "🔔" in s.text]
        for hook in second.app.services.registry.start_hooks:
            await hook(second.app.services)
        assert len([s for s in network.sent if "⏰" in s.text]) == 1
    finally:
        await second.close()


async def test_a_database_outage_at_the_nudge_time_delays_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = KeyedTransport()
    first = await bot_on(db_url, network, Clock())
    try:
        ag2 = await with_members(first)
        sid, poll_id = await start_datepoll(ag2)
        services = first.app.services
        ag2.clock.set(NUDGE_AT)
        real = schedule.subjects.load

        async def unavailable(*args: object, **kwargs: object) -> None:
            raise DatabaseUnavailable("ConnectionRefusedError: connection refused")

        monkeypatch.setattr(schedule.subjects, "load", unavailable)
        await nudge_due(services, "datepoll", poll_id)
        retry = services.timers.due(f"nudge:datepoll:{poll_id}")
        assert retry == NUDGE_AT + timedelta(seconds=schedule.RETRY_SECONDS)
        monkeypatch.setattr(schedule.subjects, "load", real)
        ag2.clock.set(retry)
        inbox = Inbox(first)
        await nudge_due(services, "datepoll", poll_id)
        assert inbox.of("ben") == [datepoll_nudge(sid)]
    finally:
        await first.close()


async def test_everyone_answered_missed_by_a_crash_is_told_at_start(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.vote import commands as vote_command
    from tests.support.meetings import ag2_with_lead
    from tests.test_nudges import start_poll

    async def crashed(*args: object) -> None:
        """The process died after the vote was stored, before the check."""

    network = KeyedTransport()
    first = await bot_on(db_url, network, Clock())
    ag2 = await ag2_with_lead(first, Clock())
    sid, _ = await start_poll(ag2)
    monkeypatch.setattr(vote_command, "answered", crashed)
    await first.dm("ben").say("ben", f"/vote {sid} 1")
    await first.dm("anna").say("anna", f"/vote {sid} 2")
    assert not [s for s in network.sent if s.text.startswith("✅")]
    await first.close()
    monkeypatch.undo()
    second = await restart(db_url, network, Clock(START + timedelta(hours=1)))
    try:
        told = [s for s in network.sent if s.text.startswith("✅ Alle 2 Mitglieder")]
        assert [s.chat.id for s in told] == ["dm-anna"]
        for hook in second.app.services.registry.start_hooks:
            await hook(second.app.services)
        assert len([s for s in network.sent if s.text.startswith("✅")]) == 1
    finally:
        await second.close()
