"""Timed closes and restarts: the close job, jobs rebuilt from the database, votes cast
while the bot was down, and a close cut short that is finished at the next start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from bot.core import PollVote, UserRef
from handlers.polls import lifecycle as poll_lifecycle
from handlers.polls.lifecycle import close_due, resume_polls
from storage.db import DatabaseUnavailable
from tests.support.fake import BotHarness
from tests.support.poll_chat import (
    START,
    Clock,
    counts_of,
    last_poll,
    native_vote,
    poll_row,
    setup_ag,
    start_poll,
)

WANN = '/poll "Wann?" "Di" "Mi" "Do"'


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'restart.db'}"


@pytest.fixture
async def first(db_url: str) -> AsyncIterator[BotHarness]:
    """The bot before the restart, at START."""
    harness = await BotHarness.create(db_url)
    harness.app.services.clock = Clock()
    yield harness
    await harness.close()


async def restarted(db_url: str, clock: Clock) -> BotHarness:
    """A new bot on the same database, started like `App.start` does (transports, then
    the start-up steps), without a running scheduler so that nothing fires by itself."""
    harness = await BotHarness.create(db_url)
    harness.app.services.clock = clock
    for hook in harness.app.services.registry.start_hooks:
        await hook(harness.app.services)
    return harness


def job_ids(bot: BotHarness) -> list[str]:
    return bot.app.services.timers.ids("poll-close:")


async def test_a_timed_poll_gets_a_close_job_and_the_job_closes_it(first: BotHarness) -> None:
    clock = first.app.services.clock
    assert isinstance(clock, Clock)
    group = await setup_ag(first)
    short_id = await start_poll(group, "anna", WANN + " --for 1h")
    poll = await poll_row(first, short_id)
    assert job_ids(first) == [f"poll-close:{poll.id}"]
    assert first.app.services.timers.due(f"poll-close:{poll.id}") == START + timedelta(hours=1)

    await close_due(first.app.services, poll.id)  # too early: nothing happens
    assert (await poll_row(first, short_id)).closed_at is None

    clock.advance(hours=1)
    await close_due(first.app.services, poll.id)

    assert (await poll_row(first, short_id)).closed_at is not None
    assert len(first.transport.closed_polls) == 1
    assert group.last().startswith(f"Endergebnis: Wann? ({short_id})")
    assert job_ids(first) == []


async def test_closing_by_hand_removes_the_job(first: BotHarness) -> None:
    group = await setup_ag(first)
    short_id = await start_poll(group, "anna", WANN + " --for 1d")

    await group.say("anna", f"/close {short_id}")

    assert job_ids(first) == []


async def test_a_restart_rebuilds_the_close_job_and_resends_nothing(
    first: BotHarness, db_url: str
) -> None:
    group = await setup_ag(first)
    short_id = await start_poll(group, "anna", WANN + " --for 2d")
    poll = await poll_row(first, short_id)
    await first.close()

    second = await restarted(db_url, Clock(START + timedelta(hours=1)))
    try:
        assert job_ids(second) == [f"poll-close:{poll.id}"]
        assert second.transport.polls == [] and second.transport.sent == []
    finally:
        await second.close()


async def test_votes_cast_while_the_bot_was_down_are_counted_after_the_restart(
    first: BotHarness, db_url: str
) -> None:
    group = await setup_ag(first)
    short_id = await start_poll(group, "anna", WANN)
    sent, _ = last_poll(first.transport)
    native_id = sent.native_id or ""
    await native_vote(first, native_id, "ben", 0, at=START)
    await first.close()

    second = await restarted_with_network_votes(
        db_url,
        native_id,
        [
            # ben changed his vote while the bot was down, carl voted for the first time.
            PollVote("fake", native_id, user("ben"), (2,), at=START + timedelta(minutes=5)),
            PollVote("fake", native_id, user("carl"), (1,), at=START + timedelta(minutes=6)),
        ],
    )
    try:
        assert await counts_of(second, short_id) == [0, 1, 1]
    finally:
        await second.close()


async def test_an_overdue_poll_counts_late_votes_then_closes_at_start(
    first: BotHarness, db_url: str
) -> None:
    group = await setup_ag(first)
    short_id = await start_poll(group, "anna", WANN + " --for 1h")
    native_id = last_poll(first.transport)[0].native_id or ""
    await first.close()

    second = await restarted_with_network_votes(
        db_url,
        native_id,
        [
            PollVote("fake", native_id, user("ben"), (0,), at=START + timedelta(minutes=30)),
            # Cast after the deadline: not counted.
            PollVote("fake", native_id, user("carl"), (1,), at=START + timedelta(minutes=90)),
        ],
        clock=Clock(START + timedelta(hours=3)),
    )
    try:
        assert (await poll_row(second, short_id)).closed_at is not None
        assert await counts_of(second, short_id) == [1, 0, 0]
        assert len(second.transport.closed_polls) == 1
        [result] = [s.text for s in second.transport.sent if s.chat.id == "ag2-gruppe"]
        assert result.startswith(f"Endergebnis: Wann? ({short_id})")
        assert job_ids(second) == []
    finally:
        await second.close()


async def test_a_close_cut_short_is_finished_once_at_the_next_start(
    first: BotHarness, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = await setup_ag(first)
    short_id = await start_poll(group, "anna", WANN)

    async def network_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("network down")

    monkeypatch.setattr(first.transport, "close_poll", network_down)
    await group.say("anna", f"/close {short_id}")
    assert (await poll_row(first, short_id)).closed_at is not None
    assert not any(s.text.startswith("Endergebnis") for s in first.transport.sent)
    await first.close()
    monkeypatch.undo()

    second = await restarted(db_url, Clock(START + timedelta(hours=1)))
    try:
        assert len(second.transport.closed_polls) == 1
        results = [s.text for s in second.transport.sent if s.text.startswith("Endergebnis")]
        assert len(results) == 1
        for hook in second.app.services.registry.start_hooks:  # a third start: nothing new
            await hook(second.app.services)
        assert len(second.transport.closed_polls) == 1
        assert len([s for s in second.transport.sent if s.text.startswith("Endergebnis")]) == 1
    finally:
        await second.close()


async def test_resume_is_a_registered_start_hook() -> None:
    from bot.app import build_registry

    assert resume_polls in build_registry().start_hooks


def user(who: str) -> UserRef:
    return UserRef("fake", who, who.title(), username=who)


async def restarted_with_network_votes(
    db_url: str, native_id: str, votes: list[PollVote], *, clock: Clock | None = None
) -> BotHarness:
    harness = await BotHarness.create(db_url)
    harness.app.services.clock = clock or Clock(START + timedelta(hours=1))
    harness.transport.network_votes[native_id] = votes
    for hook in harness.app.services.registry.start_hooks:
        await hook(harness.app.services)
    return harness


async def test_a_real_start_of_the_app_resumes_polls(first: BotHarness, db_url: str) -> None:
    """`App.start` (running scheduler, transports, start-up steps) on the same database."""
    group = await setup_ag(first)
    short_id = await start_poll(group, "anna", WANN + " --for 2d")
    native_id = last_poll(first.transport)[0].native_id or ""
    poll = await poll_row(first, short_id)
    await first.close()

    second = await BotHarness.create(db_url)
    second.app.services.clock = Clock(START + timedelta(hours=1))
    second.transport.network_votes[native_id] = [
        PollVote("fake", native_id, user("carl"), (2,), at=START + timedelta(minutes=10))
    ]
    await second.app.start()
    try:
        assert job_ids(second) == [f"poll-close:{poll.id}"]
        assert await counts_of(second, short_id) == [0, 0, 1]
    finally:
        await second.app.stop()


@pytest.mark.parametrize("fails_in", ["view_by_id", "tally_of"])
async def test_a_deadline_during_a_database_outage_closes_once_when_it_is_back(
    first: BotHarness, monkeypatch: pytest.MonkeyPatch, fails_in: str
) -> None:
    """The outage hits before the close (`view_by_id`) or after the poll is marked
    closed, before the result (`tally_of`): either way the job comes back and the result
    is posted once."""
    services = first.app.services
    clock = services.clock
    assert isinstance(clock, Clock)
    group = await setup_ag(first)
    short_id = await start_poll(group, "anna", WANN + " --for 1h")
    poll = await poll_row(first, short_id)
    clock.advance(hours=1)

    real = getattr(poll_lifecycle, fails_in)

    async def unavailable(*args: object, **kwargs: object) -> object:
        raise DatabaseUnavailable("ConnectionRefusedError: connection refused")

    monkeypatch.setattr(poll_lifecycle, fails_in, unavailable)
    await close_due(services, poll.id)
    retry = services.timers.due(f"poll-close:{poll.id}")
    assert retry == clock() + timedelta(seconds=poll_lifecycle.CLOSE_RETRY_SECONDS)
    assert not any(s.text.startswith("Endergebnis") for s in first.transport.sent)

    monkeypatch.setattr(poll_lifecycle, fails_in, real)
    await close_due(services, poll.id)
    await close_due(services, poll.id)  # a stray second run changes nothing
    assert (await poll_row(first, short_id)).closed_at is not None
    assert len(first.transport.closed_polls) == 1
    results = [s.text for s in first.transport.sent if s.text.startswith("Endergebnis")]
    assert len(results) == 1


@pytest.mark.parametrize("offset", [timedelta(days=-400), timedelta(days=400)])
async def test_a_running_app_closes_a_poll_when_its_own_clock_reaches_the_deadline(
    db_url: str, offset: timedelta
) -> None:
    """One clock: `App.start` runs the real scheduler, the services' clock is a test's,
    far before or after the machine's date. The close comes when that clock passes the
    deadline, once; before, nothing (before issue 10 it closed or spun on the real clock)."""
    bot = await BotHarness.create(db_url)
    clock = Clock(START + offset)
    bot.app.services.clock = clock
    await bot.app.start()
    try:
        group = await setup_ag(bot)
        short_id = await start_poll(group, "anna", WANN + " --for 2d")
        clock.advance(days=1, hours=23)
        await asyncio.sleep(0.5)
        assert (await poll_row(bot, short_id)).closed_at is None

        clock.advance(hours=1)
        for _ in range(100):
            if (await poll_row(bot, short_id)).closed_at is not None:
                break
            await asyncio.sleep(0.05)
        closed_at = (await poll_row(bot, short_id)).closed_at
        assert closed_at is not None  # SQLite gives it back naive, in UTC
        assert closed_at.replace(tzinfo=UTC) == START + offset + timedelta(days=2)
        await asyncio.sleep(0.3)
        results = [s.text for s in bot.transport.sent if s.text.startswith("Endergebnis")]
        assert len(results) == 1
        assert job_ids(bot) == []
    finally:
        await bot.app.stop()
