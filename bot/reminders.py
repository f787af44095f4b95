"""The reminder engine: due items live in the database, the scheduler only wakes us up.

How a reminder is delivered exactly once (see storage/meeting_models.py for the rows):
- Every reminder is a row (`pending`) created when its occurrence is materialised. At
  start-up the scheduler's jobs are rebuilt from those rows; there is no job store.
- Firing claims the reminder in one transaction: `pending` -> `sending`, and one delivery
  row per target (each linked chat, each person who wants it privately) is written.
- Each delivery is marked `sending` before the network call and `sent` after it. The
  send carries the key `reminder:<reminder id>:<target>`: Matrix turns it into the
  transaction id, so a resend after a crash is dropped by the homeserver; Telegram may
  show one duplicate per crash (only deliveries caught in `sending` are resent).
- A failing send is retried with backoff until the meeting begins, never dropped.
- After downtime: reminders that fell due while the bot was down are sent at start-up,
  marked late, if their meeting is still ahead; otherwise they become `missed` (shown by
  `/meetings --missed`). Of several overdue reminders of one meeting only the latest goes
  out; the earlier ones are recorded as missed. Nothing is deleted.

Only a window of the next due reminders (at most `WINDOW` ahead and `WINDOW_BATCH` of
them) is held as scheduler jobs; a refill job at the window's end loads the next one. So
start-up time and memory do not grow with the number of planned reminders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Button, ChatRef, DirectMessageUnavailable, Transport
from bot.i18n import Lang
from bot.recurrence import Rule, occurrences
from bot.rich import AccountRef, Rich
from storage import meetings_repo as mrepo
from storage import repo
from storage.meeting_models import (
    ERROR_MAX,
    FINISHED_DELIVERIES,
    DeliveryStatus,
    Meeting,
    MeetingStatus,
    Occurrence,
    Reminder,
    ReminderDelivery,
    ReminderStatus,
)
from storage.models import Account, Chat, Person

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

HORIZON = timedelta(days=60)  # occurrences of a series exist as rows this far ahead
HORIZON_EVERY = timedelta(hours=6)  # how often the horizon is moved on
WINDOW = timedelta(hours=6)  # reminders held as scheduler jobs at most this far ahead
WINDOW_BATCH = 5000  # ... and at most this many at once
LATE_GRACE = timedelta(seconds=60)  # a scheduled firing later than this is "late"
CATCH_UP_GRACE = timedelta(seconds=1)  # at start-up: due before we started is "late"
RETRY_BASE = 2.0  # seconds; doubled per failed attempt
RETRY_MAX = 300.0
STOP_GRACE = 5.0
JOB_PREFIX = "reminder:"
WINDOW_JOB = "reminders:window"
HORIZON_JOB = "reminders:horizon"


@dataclass(frozen=True)
class ReminderView:
    """What a reminder message says; composed per target language by the handlers."""

    reminder_id: int
    occurrence_id: int
    title: str
    ag_name: str
    ag_slug: str
    start: datetime  # aware, in the meeting's zone
    place: str
    url: str
    offset: timedelta
    late: bool
    coming: tuple[AccountRef, ...]


# (view, reader's language, command prefix of the network, buttons possible) -> text, buttons
Composer = Callable[[ReminderView, Lang, str, bool], tuple[Rich, tuple[Button, ...]]]


@dataclass
class _Target:
    delivery_id: int
    key: str
    status: str
    language: str
    person_id: int | None = None
    chat: ChatRef | None = None
    account: AccountRef | None = None


@dataclass
class _Claim:
    view: ReminderView
    start_utc: datetime
    targets: list[_Target] = field(default_factory=list)


def send_key(reminder_id: int, target: str) -> str:
    return f"reminder:{reminder_id}:{target}"


class ReminderEngine:
    def __init__(self, services: Services, compose: Composer, *, parallel: int = 8) -> None:
        self.services = services
        self.compose = compose
        self.retry_base = RETRY_BASE
        self.retry_max = RETRY_MAX
        self._send_slots = asyncio.Semaphore(max(1, parallel))
        self._active: dict[int, asyncio.Task[None]] = {}
        self._scheduled: set[int] = set()
        self._window_end: datetime | None = None
        self._stopping = False

    # --- lifecycle --------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._window_end is not None

    async def start(self) -> None:
        """Rebuild everything from the rows: extend the horizon, resume what a crash
        interrupted, send what fell due while the bot was down, schedule the window."""
        self._stopping = False
        await self.extend_horizon()
        async with self.services.db.read() as session:
            interrupted = await mrepo.reminder_ids_in(session, ReminderStatus.SENDING)
        for reminder_id in interrupted:
            log.info("reminder %d was interrupted; resuming with the same keys", reminder_id)
            self.spawn(reminder_id, catch_up=True)
        await self.load_window(catch_up=True)
        scheduler = self.services.scheduler
        if scheduler is not None:
            scheduler.add_job(
                self._horizon_job,
                IntervalTrigger(seconds=HORIZON_EVERY.total_seconds(), timezone=UTC),
                id=HORIZON_JOB,
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=None,
            )

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let sends under way finish briefly, then cancel; their rows resume next start."""
        self._stopping = True
        tasks = list(self._active.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Until no reminder is being sent (tests, shutdown)."""
        while self._active:
            await asyncio.gather(*list(self._active.values()), return_exceptions=True)

    def scheduled(self) -> set[int]:
        """Ids of the reminders held as scheduler jobs now."""
        return set(self._scheduled)

    # --- planning (called by handlers inside their transaction) ----------------------

    def default_offsets(self) -> list[timedelta]:
        return list(self.services.settings.reminder_offsets)

    async def offsets_for(self, session: AsyncSession, ag_id: int) -> list[timedelta]:
        own = await mrepo.ag_offsets(session, ag_id)
        return own if own is not None else self.default_offsets()

    async def materialise(
        self, session: AsyncSession, meeting: Meeting, now: datetime
    ) -> tuple[list[Occurrence], mrepo.ReminderChanges]:
        """Occurrence rows up to the horizon (the first one always) and their reminders."""
        tz = ZoneInfo(meeting.timezone)
        rule = Rule.from_rrule(meeting.rrule, tz) if meeting.rrule else None
        after = meeting.materialised_until or meeting.start_at
        until = max(now + HORIZON, meeting.start_at + timedelta(seconds=1))
        starts = (
            occurrences(meeting.start_at, rule, after=after, until=until, tz=tz)
            if after < until
            else []
        )
        if meeting.materialised_until is None:
            # The start as given (e.g. the second 02:30 of the autumn night), not as the rule
            # would place that wall time.
            starts = [meeting.start_at, *(s for s in starts if s > meeting.start_at)]
        new = await mrepo.add_occurrences(session, meeting.id, [s.astimezone(UTC) for s in starts])
        meeting.materialised_until = max(after, until)
        changes = mrepo.no_changes()
        if new:
            offsets = await self.offsets_for(session, meeting.ag_id)
            for occurrence in new:
                changes += await mrepo.sync_reminders(session, occurrence, offsets, now)
        return new, changes

    async def extend_horizon(self) -> None:
        """Materialise the series' occurrences up to the horizon (at start and every few hours)."""
        now = self.services.now()

        async def work(session: AsyncSession) -> mrepo.ReminderChanges:
            changes = mrepo.no_changes()
            for meeting in await mrepo.series_needing_occurrences(session, now + HORIZON):
                changes += (await self.materialise(session, meeting, now))[1]
            return changes

        self.apply(await self.services.db.run(work))

    def apply(self, changes: mrepo.ReminderChanges) -> None:
        """Tell the scheduler about committed changes (after the transaction, never inside)."""
        for reminder_id in changes.withdrawn:
            self._remove_job(reminder_id)
        if self._window_end is None:
            return  # not started: start() loads everything from the rows
        with self._bulk():
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
        async with self.services.db.read() as session:
            rows = await mrepo.pending_due_until(session, end, limit=WINDOW_BATCH)
        if len(rows) == WINDOW_BATCH:
            end = rows[-1][1]  # the rest (due at or after this instant) comes at the refill
        with self._bulk():
            for reminder_id, due in rows:
                if reminder_id in self._active:
                    continue
                if due <= now:
                    self._remove_job(reminder_id)
                    self.spawn(reminder_id, catch_up=catch_up)
                else:
                    self._add_job(reminder_id, due)
        self._window_end = end
        scheduler = self.services.scheduler
        if scheduler is not None:
            scheduler.add_job(
                self._window_job,
                DateTrigger(run_date=end),
                id=WINDOW_JOB,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
            )
        log.debug("%d reminders scheduled up to %s", len(self._scheduled), end.isoformat())

    @contextlib.contextmanager
    def _bulk(self) -> Iterator[None]:
        """Pause the scheduler while adding many jobs: each add would wake it up."""
        scheduler = self.services.scheduler
        pause = scheduler is not None and scheduler.state == STATE_RUNNING
        if pause:
            assert scheduler is not None
            scheduler.pause()
        try:
            yield
        finally:
            if pause:
                assert scheduler is not None
                scheduler.resume()

    def _add_job(self, reminder_id: int, due: datetime) -> None:
        scheduler = self.services.scheduler
        if scheduler is None:
            return
        self._remove_job(reminder_id)
        scheduler.add_job(
            self._reminder_job,
            DateTrigger(run_date=due),
            args=[reminder_id],
            id=f"{JOB_PREFIX}{reminder_id}",
            misfire_grace_time=None,
            coalesce=True,
        )
        self._scheduled.add(reminder_id)

    def _remove_job(self, reminder_id: int) -> None:
        if reminder_id not in self._scheduled:
            return
        self._scheduled.discard(reminder_id)
        scheduler = self.services.scheduler
        if scheduler is not None:
            with contextlib.suppress(JobLookupError):
                scheduler.remove_job(f"{JOB_PREFIX}{reminder_id}")

    async def _reminder_job(self, reminder_id: int) -> None:
        self._scheduled.discard(reminder_id)
        self.spawn(reminder_id)

    async def _window_job(self) -> None:
        await self.load_window()

    async def _horizon_job(self) -> None:
        await self.extend_horizon()

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
        try:
            await self.fire(reminder_id, catch_up=catch_up)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "reminder %d could not be sent; it is retried at the next start", reminder_id
            )

    async def fire(self, reminder_id: int, *, catch_up: bool = False) -> None:
        """Claim the reminder, deliver it to every target, record the outcome."""
        claim = await self.services.db.run(lambda s: self._claim(s, reminder_id, catch_up))
        if claim is None:
            return
        waiting = [t for t in claim.targets if t.status not in FINISHED_DELIVERIES]
        results = await asyncio.gather(
            *(self._deliver(claim, t) for t in waiting), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
            if isinstance(result, Exception):
                log.error("reminder %d: a delivery failed: %r", reminder_id, result)
        finished = await self.services.db.run(lambda s: self._finish(s, reminder_id))
        if not finished:
            self._settle_at(reminder_id, claim.start_utc)

    async def _claim(
        self, session: AsyncSession, reminder_id: int, catch_up: bool
    ) -> _Claim | None:
        now = self.services.now()
        reminder = await session.get(Reminder, reminder_id)
        if reminder is None or reminder.status not in (
            ReminderStatus.PENDING.value,
            ReminderStatus.SENDING.value,
        ):
            return None
        view = await mrepo.occurrence_view(session, reminder.occurrence_id)
        assert view is not None  # the foreign key cascades
        if (
            view.cancelled
            or view.meeting.status == MeetingStatus.CANCELLED.value
            or view.occurrence.revision != reminder.revision
        ):
            await self._settle(
                session, reminder, DeliveryStatus.CANCELLED, ReminderStatus.CANCELLED
            )
            return None
        if view.start <= now:
            log.warning("reminder %d: its meeting has begun; the rest is missed", reminder_id)
            await self._settle(session, reminder, DeliveryStatus.MISSED, ReminderStatus.MISSED)
            return None
        if reminder.status == ReminderStatus.PENDING.value and await self._superseded(
            session, reminder, now
        ):
            # After downtime only the latest overdue reminder of a meeting goes out; the
            # earlier ones would say the same thing again.
            await self._settle(session, reminder, DeliveryStatus.MISSED, ReminderStatus.MISSED)
            return None
        if reminder.status == ReminderStatus.PENDING.value:
            grace = CATCH_UP_GRACE if catch_up else LATE_GRACE
            reminder.late = now - reminder.due_at > grace
            reminder.status, reminder.fired_at = ReminderStatus.SENDING.value, now
            await mrepo.add_deliveries(
                session, reminder.id, await self._targets(session, view.ag.id)
            )
        coming = await mrepo.rsvps(session, view.id)
        tz = ZoneInfo(view.meeting.timezone)
        claim = _Claim(
            ReminderView(
                reminder_id=reminder.id,
                occurrence_id=view.id,
                title=view.title,
                ag_name=view.ag.name,
                ag_slug=view.ag.slug,
                start=view.start.astimezone(tz),
                place=view.meeting.place,
                url=view.meeting.url,
                offset=timedelta(seconds=reminder.offset_seconds),
                late=reminder.late,
                coming=tuple(_account_ref(accounts[0]) for accounts in coming.get("yes", [])),
            ),
            view.start,
        )
        for delivery in await mrepo.deliveries_of(session, reminder.id):
            claim.targets.append(await self._target(session, delivery))
        return claim

    @staticmethod
    async def _superseded(session: AsyncSession, reminder: Reminder, now: datetime) -> bool:
        later = await session.scalar(
            select(Reminder.id).where(
                Reminder.occurrence_id == reminder.occurrence_id,
                Reminder.revision == reminder.revision,
                Reminder.due_at > reminder.due_at,
                Reminder.due_at <= now,
                Reminder.status.in_(
                    (
                        ReminderStatus.PENDING.value,
                        ReminderStatus.SENDING.value,
                        ReminderStatus.SENT.value,
                        ReminderStatus.LATE_SENT.value,
                    )
                ),
            )
        )
        return later is not None

    async def _settle(
        self,
        session: AsyncSession,
        reminder: Reminder,
        undelivered: DeliveryStatus,
        fallback: ReminderStatus,
    ) -> None:
        """Give every delivery still open `undelivered` and the reminder its outcome."""
        await session.execute(
            update(ReminderDelivery)
            .where(
                ReminderDelivery.reminder_id == reminder.id,
                ReminderDelivery.status.in_(
                    (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
                ),
            )
            .values(status=undelivered.value)
        )
        statuses = await self._statuses(session, reminder.id)
        outcome: ReminderStatus = fallback
        if fallback is not ReminderStatus.CANCELLED:
            outcome = _outcome(reminder.late, statuses, fallback)
        reminder.status, reminder.finished_at = outcome.value, self.services.now()

    async def _finish(self, session: AsyncSession, reminder_id: int) -> bool:
        """Close the reminder once every delivery has an outcome; False if some are open
        (a network not running here: a later start, or the meeting's start, settles them)."""
        reminder = await session.get(Reminder, reminder_id)
        if reminder is None or reminder.status != ReminderStatus.SENDING.value:
            return True
        statuses = await self._statuses(session, reminder_id)
        if any(s not in FINISHED_DELIVERIES for s in statuses):
            return False
        fallback = ReminderStatus.LATE_SENT if reminder.late else ReminderStatus.SENT
        reminder.status = _outcome(reminder.late, statuses, fallback).value
        reminder.finished_at = self.services.now()
        return True

    @staticmethod
    async def _statuses(session: AsyncSession, reminder_id: int) -> list[str]:
        rows = await session.scalars(
            select(ReminderDelivery.status).where(ReminderDelivery.reminder_id == reminder_id)
        )
        return list(rows)

    def _settle_at(self, reminder_id: int, when: datetime) -> None:
        scheduler = self.services.scheduler
        if scheduler is None or self._stopping:
            return
        scheduler.add_job(
            self._reminder_job,
            DateTrigger(run_date=when),
            args=[reminder_id],
            id=f"reminders:settle:{reminder_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def _targets(
        self, session: AsyncSession, ag_id: int
    ) -> list[tuple[str, int | None, int | None]]:
        chats = await repo.chats_of_ag(session, ag_id)
        people = await mrepo.direct_subscribers(session, ag_id)
        return [(f"chat:{c.id}", c.id, None) for c in chats] + [
            (f"person:{p}", None, p) for p in people
        ]

    async def _target(self, session: AsyncSession, delivery: ReminderDelivery) -> _Target:
        settings = self.services.settings
        target = _Target(
            delivery.id,
            send_key(delivery.reminder_id, delivery.target),
            delivery.status,
            settings.language,
            delivery.person_id,
        )
        if delivery.chat_id is not None:
            chat = await session.get(Chat, delivery.chat_id)
            if chat is not None:
                target.chat = ChatRef(chat.platform, chat.external_id, chat.is_direct, chat.title)
                target.language = (
                    chat.language
                    or settings.chat_languages.get(target.chat.key)
                    or settings.language
                )
        elif delivery.person_id is not None:
            person = await session.get(Person, delivery.person_id)
            accounts = await repo.accounts_of(session, delivery.person_id)
            running = [a for a in accounts if a.platform in self.services.transports]
            running.sort(key=lambda a: not a.direct_reachable)
            if running:
                target.account = _account_ref(running[0])
            target.language = (person.language if person else None) or settings.language
        return target

    async def _deliver(self, claim: _Claim, target: _Target) -> None:
        """Send to one target; on failure retry with backoff until the meeting begins."""
        if target.chat is None and target.person_id is None:
            await self._mark(target, DeliveryStatus.FAILED, error="the chat is gone")
            return
        where = target.chat or target.account
        transport = self.services.transports.get(where.platform) if where else None
        if transport is None:
            # Kept open: a later start with that network configured still sends it.
            log.warning("reminder target %s: no running network can reach it", target.key)
            return
        attempt = 0
        while True:
            if self.services.now() >= claim.start_utc:
                await self._mark(target, DeliveryStatus.MISSED, error="the meeting had begun")
                return
            attempt += 1
            async with self._send_slots:
                await self._mark(target, DeliveryStatus.SENDING, attempt=True)
                try:
                    await self._send(transport, claim.view, target)
                except DirectMessageUnavailable:
                    await self._mark(target, DeliveryStatus.UNREACHABLE, error="no private chat")
                    if target.person_id is not None:
                        await self._note_unreachable(target.person_id)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                else:
                    await self._mark(target, DeliveryStatus.SENT)
                    return
            await self._mark(target, DeliveryStatus.SENDING, error=error)
            left = (claim.start_utc - self.services.now()).total_seconds()
            delay = min(self.retry_base * 2 ** (attempt - 1), self.retry_max, max(left, 0.0))
            log.warning(
                "reminder %s: send failed (%s), attempt %d; retrying in %.1f s",
                target.key,
                error[:120],
                attempt,
                delay,
            )
            await asyncio.sleep(delay)

    async def _send(self, transport: Transport, view: ReminderView, target: _Target) -> None:
        lang = self.services.translator.for_language(target.language)
        prefix: str = getattr(transport, "command_prefix", "/")
        if target.chat is not None:
            with_buttons = getattr(transport, "send_with_buttons", None)
            can_button = transport.capabilities.buttons and with_buttons is not None
            message, buttons = self.compose(view, lang, prefix, can_button)
            if with_buttons is not None and can_button and buttons:
                await with_buttons(target.chat, message, buttons, key=target.key)
            else:
                await transport.send(target.chat, message, key=target.key)
        elif target.account is not None:
            message, _ = self.compose(view, lang, prefix, False)
            await transport.send_direct(target.account, message, key=target.key)

    async def _mark(
        self,
        target: _Target,
        status: DeliveryStatus,
        *,
        error: str | None = None,
        attempt: bool = False,
    ) -> None:
        values: dict[str, Any] = {"status": status.value}
        if attempt:
            values["attempts"] = ReminderDelivery.attempts + 1
        if error is not None:
            values["last_error"] = error[:ERROR_MAX]
        if status is DeliveryStatus.SENT:
            values["sent_at"] = self.services.now()

        async def work(session: AsyncSession) -> None:
            await session.execute(
                update(ReminderDelivery)
                .where(ReminderDelivery.id == target.delivery_id)
                .values(**values)
            )

        await self.services.db.run(work)
        target.status = status.value

    async def _note_unreachable(self, person_id: int) -> None:
        now = self.services.now()
        await self.services.db.run(lambda s: mrepo.mark_unreachable(s, person_id, now))


def _outcome(late: bool, statuses: list[str], fallback: ReminderStatus) -> ReminderStatus:
    if DeliveryStatus.SENT.value in statuses:
        return ReminderStatus.LATE_SENT if late else ReminderStatus.SENT
    if DeliveryStatus.MISSED.value in statuses:
        return ReminderStatus.MISSED
    return fallback


def _account_ref(account: Account) -> AccountRef:
    return AccountRef(account.platform, account.external_id, account.display_name, account.username)
