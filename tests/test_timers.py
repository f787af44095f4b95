"""The timers run on the services' clock: a test's clock is the scheduler's clock, a job
never runs before its instant on that clock, never spins, and ends when the bot stops.

Real APScheduler underneath, real waiting of at most a second or so per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import Clock, Listener, ManualClock, SystemClock
from bot.timers import MIN_DELAY, Timers

# Far from the real now on purpose: the machine's date must not matter.
LONG_AGO = datetime(2001, 3, 25, 0, 30, tzinfo=UTC)
FAR_AHEAD = datetime(2093, 10, 25, 0, 30, tzinfo=UTC)


class Runs:
    def __init__(self) -> None:
        self.at: list[datetime] = []
        self.event = asyncio.Event()

    async def __call__(self, clock: ManualClock) -> None:
        self.at.append(clock())
        self.event.set()

    async def wait(self, seconds: float = 5.0) -> None:
        await asyncio.wait_for(self.event.wait(), seconds)
        self.event.clear()


class UnannouncedClock(ManualClock):
    """A clock that jumps without telling anyone (the machine's clock set back), and
    counts how often it is read."""

    reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return super().__call__()

    def on_move(self, listener: Listener) -> Callable[[], None]:
        return lambda: None


MakeTimers = Callable[[Clock], Timers]


@pytest.fixture
async def timers() -> AsyncIterator[MakeTimers]:
    made: list[Timers] = []

    def make(clock: Clock) -> Timers:
        made.append(Timers(clock))
        return made[-1]

    yield make
    for each in made:
        await each.stop()


@pytest.mark.parametrize("start", [LONG_AGO, FAR_AHEAD])
async def test_a_job_runs_when_the_test_clock_reaches_its_instant(
    timers: MakeTimers, start: datetime
) -> None:
    clock = ManualClock(start)
    runs = Runs()
    t = timers(clock)
    t.start()
    t.at("job", start + timedelta(days=2), runs, clock)
    await asyncio.sleep(0.3)
    assert runs.at == [], "ran on the machine's clock, not the test's"

    clock.advance(days=1, hours=23)
    await asyncio.sleep(0.3)
    assert runs.at == []

    clock.advance(hours=1)
    await runs.wait()
    assert runs.at == [start + timedelta(days=2)]
    assert t.ids() == []


async def test_jobs_planned_before_the_start_run_at_the_start_if_due(timers: MakeTimers) -> None:
    clock = ManualClock(LONG_AGO)
    runs = Runs()
    t = timers(clock)
    t.at("overdue", LONG_AGO - timedelta(hours=1), runs, clock)
    t.at("later", LONG_AGO + timedelta(hours=1), runs, clock)
    await asyncio.sleep(0.1)
    assert runs.at == [], "nothing runs before start()"
    t.start()
    await runs.wait()
    assert runs.at == [LONG_AGO]
    assert t.ids() == ["later"]
    assert t.due("later") == LONG_AGO + timedelta(hours=1)


async def test_a_job_that_comes_up_early_waits_without_spinning(timers: MakeTimers) -> None:
    """The clock is set back behind the timers' back after the job was handed over: the
    job comes up, finds its instant still ahead and waits for it (the loop of issue 10)."""
    clock = UnannouncedClock(FAR_AHEAD)
    runs = Runs()
    t = timers(clock)
    t.start()
    t.at("close", FAR_AHEAD, runs, clock)  # due now
    clock.set(FAR_AHEAD - timedelta(hours=2))  # ...and not yet, unannounced
    reads_before = clock.reads
    await asyncio.sleep(MIN_DELAY.total_seconds() * 1.5)
    assert runs.at == []
    assert clock.reads - reads_before < 10, "the job spins"
    assert t.due("close") == FAR_AHEAD


async def test_cancel_and_replace(timers: MakeTimers) -> None:
    clock = ManualClock(LONG_AGO)
    runs = Runs()
    t = timers(clock)
    t.start()
    t.at("a", LONG_AGO + timedelta(minutes=5), runs, clock)
    t.at("a", LONG_AGO + timedelta(minutes=10), runs, clock)  # replaces
    t.at("b", LONG_AGO + timedelta(minutes=5), runs, clock)
    assert t.cancel("b") is True
    assert t.cancel("b") is False
    clock.advance(minutes=5)
    await asyncio.sleep(0.3)
    assert runs.at == []
    clock.advance(minutes=5)
    await runs.wait()
    assert runs.at == [LONG_AGO + timedelta(minutes=10)]


async def test_every_runs_again_one_interval_after_each_run(timers: MakeTimers) -> None:
    clock = ManualClock(FAR_AHEAD)
    runs = Runs()
    t = timers(clock)
    t.start()
    t.every("tick", timedelta(hours=6), runs, clock)
    for _ in range(3):
        clock.advance(hours=6)
        await runs.wait()
    assert runs.at == [FAR_AHEAD + timedelta(hours=6 * n) for n in (1, 2, 3)]
    assert t.due("tick") == FAR_AHEAD + timedelta(hours=24)


async def test_a_new_clock_replans_every_job(timers: MakeTimers) -> None:
    first = ManualClock(LONG_AGO)
    runs = Runs()
    t = timers(first)
    t.start()
    t.at("job", FAR_AHEAD, runs, first)
    t.use_clock(ManualClock(FAR_AHEAD))
    await runs.wait()
    assert len(runs.at) == 1


async def test_on_the_system_clock_a_job_runs_on_time(timers: MakeTimers) -> None:
    clock = SystemClock()
    done = asyncio.Event()

    async def job() -> None:
        done.set()

    t = timers(clock)
    t.start()
    planned = clock() + timedelta(milliseconds=200)
    t.at("soon", planned, job)
    await asyncio.wait_for(done.wait(), 5)
    assert clock() >= planned


async def test_stop_ends_every_job_under_way(timers: MakeTimers) -> None:
    clock = ManualClock(LONG_AGO)
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def hangs() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    t = timers(clock)
    t.start()
    t.at("hangs", LONG_AGO, hangs)
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(t.stop(grace=0.1), 5)
    assert cancelled.is_set()
    assert not t.running
    leftover = [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and task.get_name().startswith("timer")
    ]
    assert leftover == []


async def test_a_failing_job_is_logged_and_the_others_still_run(
    timers: MakeTimers, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(LONG_AGO)
    runs = Runs()

    async def fails() -> None:
        raise RuntimeError("boom")

    t = timers(clock)
    t.start()
    t.at("fails", LONG_AGO, fails)
    t.at("works", LONG_AGO + timedelta(seconds=1), runs, clock)
    clock.advance(seconds=1)
    await runs.wait()
    assert any("timer fails failed" in r.getMessage() for r in caplog.records)
