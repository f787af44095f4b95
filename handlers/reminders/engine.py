"""The reminder engine: due items live in the database, the scheduler only wakes us up.

How a reminder is delivered exactly once (see storage/meetings/models.py for the rows):
- Firing takes the reminder with a lease (storage/leases.py, owner `services.node_id`)
  in one conditional UPDATE, and each delivery likewise right before its send: of two
  processes firing one reminder at once, one sends each delivery. The holder renews the
  leases while the fan-out runs; a holder that died leaves them to run out, then another
  process (start-up, or the leader's rescan) carries on with the deliveries not `sent`.
- Every reminder is a row (`pending`) created when its occurrence is materialised. At
  start-up the scheduler's jobs are rebuilt from those rows; there is no job store.
- Firing claims the reminder in one transaction: `pending` -> `sending`, and one delivery
  row per target (each linked chat, each person who wants it privately) is written.
- Each delivery is marked `sending` before the network call and `sent` after it. The
  send carries the key `reminder:<reminder id>:<target>`: Matrix turns it into the
  transaction id, so a resend after a crash is dropped by the homeserver; Telegram may
  show one duplicate per crash (only deliveries caught in `sending` are resent) and per
  time-out that came after Telegram had stored the message.
- A failing send is retried with backoff until the meeting begins, never dropped.
- A database outage (`DatabaseUnavailable`) delays a reminder, it does not lose it: the
  firing is tried again with backoff (`DB_RETRY_BASE` doubling up to `DB_RETRY_MAX`)
  until the database answers; the claim then carries on where the outage stopped it.
- After downtime: reminders that fell due while the bot was down are sent at start-up,
  marked late, if their meeting is still ahead; otherwise they become `missed` (shown by
  `/meetings --missed`). Of several overdue reminders of one meeting only the latest goes
  out; the earlier ones are recorded as missed. Nothing is deleted.

Only a window of the next due reminders (at most `WINDOW` ahead and `WINDOW_BATCH` of
them) is held as scheduler jobs; a refill job at the window's end loads the next one. So
start-up time and memory do not grow with the number of planned reminders. The sending
itself (claims, deliveries, retries) is in sender.py. Other features reach the engine of
the running bot through `engine(services)`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from handlers.meetings.series import HORIZON, default_offsets, starts_between
from handlers.reminders.sender import Composer, ReminderSender
from storage.db import DatabaseUnavailable
from storage.meetings import plans
from storage.meetings import reminders as rem
from storage.meetings.models import FINISHED_DELIVERIES

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

HORIZON_EVERY = timedelta(hours=6)  # how often the horizon is moved on
WINDOW = timedelta(hours=6)  # reminders held as scheduler jobs at most this far ahead
WINDOW_BATCH = 5000  # ... and at most this many at once
STOP_GRACE = 5.0
RELEASE_WITHIN = 1.0  # seconds a stop waits for its leases to be given up
DB_RETRY_BASE = 2.0  # seconds until a firing stopped by a database outage is tried again
DB_RETRY_MAX = 60.0  # ... doubled per attempt up to this
WINDOW_RETRY = timedelta(seconds=60)  # a window refill stopped by an outage: again after this
# A rescan schedules the pending reminders due this soon that this process has no job for.
RESCAN_AHEAD = timedelta(minutes=2)
JOB_PREFIX = "reminder:"
SETTLE_PREFIX = "reminders:settle:"
WINDOW_JOB = "reminders:window"
HORIZON_JOB = "reminders:horizon"


class ReminderEngine:
    def __init__(self, services: Services, compose: Composer, *, parallel: int = 8) -> None:
        self.services = services
        self.sender = ReminderSender(services, compose, parallel=parallel)
        self._active: dict[int, asyncio.Task[None]] = {}
        self._scheduled: set[int] = set()
        self._window_end: datetime | None = None
        self._stopping = False
        self._claimed = False  # whether this process ever took a reminder (stop releases)
        self.db_retry_base = DB_RETRY_BASE
        self.db_retry_max = DB_RETRY_MAX

    # --- lifecycle --------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._window_end is not None

    async def start(self) -> None:
        """Rebuild everything from the rows: extend the horizon, resume what a crash
        interrupted, send what fell due while the bot was down, schedule the window."""
        self._stopping = False
        await self.extend_horizon()
        now = self.services.now()
        async with self.services.db.read() as session:
            interrupted = await rem.resumable(session, now)
            held = await rem.held_until(session, now)
        for reminder_id in interrupted:
            log.info("reminder %d was interrupted; resuming with the same keys", reminder_id)
            self.spawn(reminder_id, catch_up=True)
        for reminder_id, until in held:
            # Another process holds it: still sending, or it died just before this start
            # (then its lease runs out unrenewed, and this job resumes the reminder).
            log.info("reminder %d is held by another process; looking again then", reminder_id)
            self.services.timers.at(
                f"{JOB_PREFIX}{reminder_id}", until, self._reminder_job, reminder_id
            )
        await self.load_window(catch_up=True)
        self.services.timers.every(HORIZON_JOB, HORIZON_EVERY, self._horizon_job)

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let sends under way finish briefly, then cancel; their rows resume next start
        (or on another process) at once: this process gives its leases up."""
        self._stopping = True
        tasks = list(self._active.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if not self._claimed:
            return  # never held a lease: nothing to give up (a quick stop when idle)
        try:
            async with asyncio.timeout(RELEASE_WITHIN):
                await self.sender.release_all()
        except Exception as exc:  # the leases run out on their own
            log.warning("reminders: leases not released at the stop (%r)", exc)

    async def wait_idle(self) -> None:
        """Until no reminder is being sent (tests, shutdown)."""
        while self._active:
            await asyncio.gather(*list(self._active.values()), return_exceptions=True)

    def scheduled(self) -> set[int]:
        """Ids of the reminders held as scheduler jobs now."""
        return set(self._scheduled)

    # --- planning ------------------------------------------------------------------

    def default_offsets(self) -> list[timedelta]:
        return default_offsets(self.services)

    async def extend_horizon(self) -> None:
        """Materialise the series' occurrences up to the horizon (at start and every few hours)."""
        now = self.services.now()
        offsets = self.default_offsets()
        changes = await self.services.db.run(
            lambda s: plans.extend_series(
                s, now, horizon=HORIZON, expand=starts_between, default_offsets=offsets
            )
        )
        self.apply(changes)

    def apply(self, changes: rem.ReminderChanges) -> None:
        """Tell the scheduler about committed changes (after the transaction, never inside)."""
        for reminder_id in changes.withdrawn:
            self._remove_job(reminder_id)
        if self._window_end is None:
            return  # not started: start() loads everything from the rows
        with self.services.timers.bulk():
            for reminder_id, due in changes.due:
                if due <= self._window_end:
                    self._add_job(reminder_id, due)
                else:
                    self._remove_job(reminder_id)

    # --- the scheduler ----------------------------------------------------------------

    async def load_window(self, *, catch_up: bool = False) -> None:
        """Hold the reminders due up to the window's end as jobs; fire the overdue ones."""
        now = self.services.now()
        end = now + WINDOW
        # Set before reading: a reminder committed while we read is scheduled by apply().
        self._window_end = max(end, self._window_end or end)
        async with self.services.db.read() as session:
            rows = await rem.pending_due_until(session, end, limit=WINDOW_BATCH)
        if len(rows) == WINDOW_BATCH:
            end = rows[-1][1]  # the rest (due at or after this instant) comes at the refill
        with self.services.timers.bulk():
            for reminder_id, due in rows:
                if reminder_id in self._active:
                    continue
                if due <= now:
                    self._remove_job(reminder_id)
                    self.spawn(reminder_id, catch_up=catch_up)
                else:
                    self._add_job(reminder_id, due)
        self._window_end = end
        self.services.timers.at(WINDOW_JOB, end, self._window_job)
        log.debug("%d reminders scheduled up to %s", len(self._scheduled), end.isoformat())

    async def rescan(self) -> None:
        """The leader's repeated look (`@feature.on_rescan`): schedule the reminders due
        soon that another process planned (its timers do not run), and resume the
        `sending` ones whose holder died (lease run out) or stopped. Never one that a live
        process holds: the claim would not win it anyway."""
        if self._window_end is None or self._stopping:
            return  # not started here: start() loads everything
        now = self.services.now()
        async with self.services.db.read() as session:
            due = await rem.pending_due_until(session, now + RESCAN_AHEAD, limit=WINDOW_BATCH)
            orphaned = await rem.resumable(session, now)
        for reminder_id in orphaned:
            if reminder_id not in self._active:
                log.info("reminder %d: its holder is gone; resuming it", reminder_id)
                self.spawn(reminder_id)
        for reminder_id, when in due:
            if reminder_id in self._scheduled or reminder_id in self._active:
                continue
            if when <= now:
                self.spawn(reminder_id)
            else:
                self._add_job(reminder_id, when)

    def _add_job(self, reminder_id: int, due: datetime) -> None:
        self.services.timers.at(f"{JOB_PREFIX}{reminder_id}", due, self._reminder_job, reminder_id)
        self._scheduled.add(reminder_id)

    def _remove_job(self, reminder_id: int) -> None:
        if reminder_id not in self._scheduled:
            return
        self._scheduled.discard(reminder_id)
        self.services.timers.cancel(f"{JOB_PREFIX}{reminder_id}")

    async def _reminder_job(self, reminder_id: int) -> None:
        self._scheduled.discard(reminder_id)
        self.spawn(reminder_id)

    async def _window_job(self) -> None:
        try:
            await self.load_window()
        except DatabaseUnavailable as exc:
            log.warning(
                "reminders: the next window is not loaded, the database is unavailable (%s); "
                "trying again in %.0f s",
                exc,
                WINDOW_RETRY.total_seconds(),
            )
            if not self._stopping:
                self.services.timers.at(
                    WINDOW_JOB, self.services.now() + WINDOW_RETRY, self._window_job
                )

    async def _horizon_job(self) -> None:
        try:
            await self.extend_horizon()
        except DatabaseUnavailable as exc:
            log.warning(
                "reminders: the horizon is not extended, the database is unavailable (%s); "
                "the next run does it",
                exc,
            )

    # --- firing -----------------------------------------------------------------------

    def spawn(self, reminder_id: int, *, catch_up: bool = False) -> asyncio.Task[None] | None:
        """Fire a reminder as a task (once per process at a time)."""
        if self._stopping:
            return None
        running = self._active.get(reminder_id)
        if running is not None:
            return running
        task = asyncio.create_task(self._fire_logged(reminder_id, catch_up), name="reminder")
        self._active[reminder_id] = task
        task.add_done_callback(lambda _t: self._active.pop(reminder_id, None))
        return task

    async def _fire_logged(self, reminder_id: int, catch_up: bool) -> None:
        attempt = 0
        while True:
            try:
                await self.fire(reminder_id, catch_up=catch_up)
                return
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable as exc:
                attempt += 1
                delay = min(self.db_retry_base * 2 ** (attempt - 1), self.db_retry_max)
                log.warning(
                    "reminder %d: the database is unavailable (%s); trying again in %.1f s",
                    reminder_id,
                    exc,
                    delay,
                )
            except Exception:
                log.exception(
                    "reminder %d could not be sent; it is retried at the next start", reminder_id
                )
                return
            if self._stopping:
                return  # the next start picks it up from its row
            await asyncio.sleep(delay)

    async def fire(self, reminder_id: int, *, catch_up: bool = False) -> None:
        """Claim the reminder, deliver it to every target, record the outcome."""
        sender = self.sender
        self._claimed = True  # from here on this process may hold leases
        claim = await sender.claim(reminder_id, catch_up)
        if claim is None:
            return
        waiting = [t for t in claim.targets if t.status not in FINISHED_DELIVERIES]
        async with sender.keeping(reminder_id):
            results = await asyncio.gather(
                *(sender.deliver(claim, t) for t in waiting), return_exceptions=True
            )
        outage: DatabaseUnavailable | None = None
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
            if isinstance(result, DatabaseUnavailable):
                outage = result
            elif isinstance(result, Exception):
                log.error("reminder %d: a delivery failed: %r", reminder_id, result)
        if outage is not None:
            # Fired again after the outage: the claim resumes the deliveries left open.
            raise outage
        if not await sender.finish(claim):
            self._settle_at(reminder_id, claim.start_utc)

    def _settle_at(self, reminder_id: int, when: datetime) -> None:
        if not self._stopping:
            self.services.timers.at(
                f"{SETTLE_PREFIX}{reminder_id}", when, self._reminder_job, reminder_id
            )


def engine(services: Services) -> ReminderEngine:
    """The reminder engine of this bot (the app builds it)."""
    assert isinstance(services.reminders, ReminderEngine), "the app builds the reminder engine"
    return services.reminders
