"""Work planned for an instant of the services' clock: poll closes, reminders, the
reminder window and horizon. The one place that talks to APScheduler.

APScheduler waits in real time and reads the machine's clock. Each job's instant is kept
here on the services' clock and turned into a real instant when the job is handed to
APScheduler, and again whenever that clock is moved by hand (a test's `ManualClock`):
so the test's clock is the scheduler's clock too. With the system clock both are the
same. A job that comes up while its instant is still ahead on the services' clock (the
clock was set back, or the machine's clock jumped) is handed over again for that instant,
at least `MIN_DELAY` later: never run early, never in a tight loop.

Jobs live in memory only; their owners rebuild them from the database at start-up.
Until `start()` nothing runs: jobs are only recorded (the test harness never starts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING, STATE_STOPPED
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock

log = logging.getLogger(__name__)

MIN_DELAY = timedelta(seconds=1)
_NOW = timedelta(0)

JobFunc = Callable[..., Awaitable[None]]


@dataclass
class _Job:
    due: datetime
    func: JobFunc
    args: tuple[Any, ...]
    every: timedelta | None
    token: int


class Timers:
    def __init__(self, clock: Clock) -> None:
        self._scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"misfire_grace_time": None, "coalesce": True}
        )
        self._jobs: dict[str, _Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._tokens = itertools.count()
        self._clock = clock
        self._unsubscribe = clock.on_move(self._replan)
        self._stopping = False

    # --- lifecycle --------------------------------------------------------------------

    def use_clock(self, clock: Clock) -> None:
        """Read `clock` from now on (tests swap in their own) and re-plan every job."""
        self._unsubscribe()
        self._clock = clock
        self._unsubscribe = clock.on_move(self._replan)
        self._replan()

    @property
    def running(self) -> bool:
        """Started and not stopped (also while `bulk` holds it paused)."""
        return self._scheduler.state != STATE_STOPPED

    def start(self) -> None:
        self._stopping = False
        self._scheduler.start()
        self._replan()

    async def stop(self, grace: float = 0.0) -> None:
        """No job starts any more; jobs under way get `grace` seconds, then are cancelled."""
        self._stopping = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        tasks = list(self._tasks)
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace) if grace > 0 else ((), tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- planning ---------------------------------------------------------------------

    def at(self, job_id: str, when: datetime, func: JobFunc, *args: Any) -> None:
        """Run `func(*args)` at `when` (on the services' clock); replaces a job of that id."""
        self._plan(job_id, _Job(when, func, args, None, next(self._tokens)))

    def every(self, job_id: str, interval: timedelta, func: JobFunc, *args: Any) -> None:
        """Run `func(*args)` every `interval`, the first time one interval from now."""
        due = self._clock() + interval
        self._plan(job_id, _Job(due, func, args, interval, next(self._tokens)))

    def cancel(self, job_id: str) -> bool:
        """Forget the job; whether there was one."""
        job = self._jobs.pop(job_id, None)
        if job is not None and self.running:
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(job_id)
        return job is not None

    def due(self, job_id: str) -> datetime | None:
        """When the job runs next, on the services' clock (None: no such job)."""
        job = self._jobs.get(job_id)
        return None if job is None else job.due

    def ids(self, prefix: str = "") -> list[str]:
        return sorted(job_id for job_id in self._jobs if job_id.startswith(prefix))

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Plan many jobs at once: APScheduler would wake up for each one otherwise."""
        pause = self._scheduler.state == STATE_RUNNING  # not already paused
        if pause:
            self._scheduler.pause()
        try:
            yield
        finally:
            if pause:
                self._scheduler.resume()

    # --- inside -----------------------------------------------------------------------

    def _plan(self, job_id: str, job: _Job) -> None:
        self._jobs[job_id] = job
        self._hand_over(job_id, job)

    def _hand_over(self, job_id: str, job: _Job, minimum: timedelta = _NOW) -> None:
        if not self.running:
            return  # start() hands every job over
        ahead = max(job.due - self._clock(), minimum)
        self._scheduler.add_job(
            self._fire,
            DateTrigger(run_date=datetime.now(UTC) + ahead),
            args=[job_id, job.token],
            id=job_id,
            replace_existing=True,
        )

    def _replan(self) -> None:
        if not self.running:
            return
        with self.bulk():
            for job_id, job in self._jobs.items():
                self._hand_over(job_id, job)

    async def _fire(self, job_id: str, token: int) -> None:
        """APScheduler's job: start the work as a task of our own and return at once."""
        job = self._jobs.get(job_id)
        if job is None or job.token != token or self._stopping:
            return  # cancelled or replaced meanwhile
        if job.due > self._clock():
            self._hand_over(job_id, job, MIN_DELAY)
            return
        if job.every is None:
            del self._jobs[job_id]
        else:
            self._plan(
                job_id, _Job(self._clock() + job.every, job.func, job.args, job.every, token)
            )
        task = asyncio.create_task(self._run(job_id, job), name=f"timer {job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job_id: str, job: _Job) -> None:
        try:
            await job.func(*job.args)
        except Exception:
            log.exception("timer %s failed", job_id)
