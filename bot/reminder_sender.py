"""Sending one reminder: claiming it, writing a delivery row per target, sending to each
target with its deterministic key, retrying through outages, recording each outcome.

`ReminderEngine` (bot/reminders.py) decides *when*; this module does the sending and
keeps the rows honest: a delivery is `sending` while it may have reached the network and
`sent` only after it did, so a restart resends exactly the ones that may be missing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Button, ChatRef, DirectMessageUnavailable, Transport
from bot.i18n import Lang
from bot.outbox import Audience
from bot.rich import AccountRef, Rich
from storage import meetings_repo as mrepo
from storage import repo
from storage.db import DatabaseUnavailable
from storage.meeting_models import (
    ERROR_MAX,
    FINISHED_DELIVERIES,
    DeliveryStatus,
    MeetingStatus,
    Reminder,
    ReminderDelivery,
    ReminderStatus,
)
from storage.models import Account, Chat, Person

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

LATE_GRACE = timedelta(seconds=60)  # a scheduled firing later than this is "late"
CATCH_UP_GRACE = timedelta(seconds=1)  # at start-up: due before we started is "late"
RETRY_BASE = 2.0  # seconds; doubled per failed attempt
RETRY_MAX = 300.0
IN_CHUNK = 500  # ids per IN (...) list when loading the targets

M = TypeVar("M")


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
class Target:
    delivery_id: int
    key: str
    status: str
    # The reader's own language (a person's setting); None: the chat's (the outbox decides).
    language: str | None
    person_id: int | None = None
    chat: ChatRef | None = None
    account: AccountRef | None = None


@dataclass
class Claim:
    view: ReminderView
    start_utc: datetime
    targets: list[Target] = field(default_factory=list)


def send_key(reminder_id: int, target: str) -> str:
    return f"reminder:{reminder_id}:{target}"


class ReminderSender:
    """Claims and delivers reminders; `parallel` sends at most at once."""

    def __init__(self, services: Services, compose: Composer, *, parallel: int = 8) -> None:
        self.services = services
        self.compose = compose
        self.retry_base = RETRY_BASE
        self.retry_max = RETRY_MAX
        self._send_slots = asyncio.Semaphore(max(1, parallel))

    async def claim(self, session: AsyncSession, reminder_id: int, catch_up: bool) -> Claim | None:
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
        claim = Claim(
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
        claim.targets.extend(
            await self._targets_of(session, await mrepo.deliveries_of(session, reminder.id))
        )
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

    async def finish(self, session: AsyncSession, reminder_id: int) -> bool:
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

    async def _targets(
        self, session: AsyncSession, ag_id: int
    ) -> list[tuple[str, int | None, int | None]]:
        chats = await repo.chats_of_ag(session, ag_id)
        people = await mrepo.direct_subscribers(session, ag_id)
        return [(f"chat:{c.id}", c.id, None) for c in chats] + [
            (f"person:{p}", None, p) for p in people
        ]

    async def _targets_of(
        self, session: AsyncSession, deliveries: Sequence[ReminderDelivery]
    ) -> list[Target]:
        """Where each delivery goes and in which language: three queries however many
        people (one per person made the fan-out to 1,000 take a second longer)."""
        chat_ids = [d.chat_id for d in deliveries if d.chat_id is not None]
        person_ids = [d.person_id for d in deliveries if d.person_id is not None]
        chats = {c.id: c for c in await _in_chunks(session, Chat, Chat.id, chat_ids)}
        languages: dict[int, str | None] = {
            p.id: p.language for p in await _in_chunks(session, Person, Person.id, person_ids)
        }
        accounts: dict[int, list[Account]] = {}
        for account in await _in_chunks(session, Account, Account.person_id, person_ids):
            accounts.setdefault(account.person_id, []).append(account)
        targets = []
        for delivery in deliveries:
            target = Target(
                delivery.id,
                send_key(delivery.reminder_id, delivery.target),
                delivery.status,
                None,
                delivery.person_id,
            )
            if delivery.chat_id is not None:
                chat = chats.get(delivery.chat_id)
                if chat is not None:
                    target.chat = ChatRef(
                        chat.platform, chat.external_id, chat.is_direct, chat.title, chat.language
                    )
            elif delivery.person_id is not None:
                mine = sorted(accounts.get(delivery.person_id, []), key=lambda a: a.id)
                running = [a for a in mine if a.platform in self.services.transports]
                running.sort(key=lambda a: not a.direct_reachable)
                if running:
                    target.account = _account_ref(running[0])
                target.language = languages.get(delivery.person_id)
            targets.append(target)
        return targets

    async def deliver(self, claim: Claim, target: Target) -> None:
        """Send to one target; on failure retry with backoff until the meeting begins."""
        if target.chat is None and target.person_id is None:
            await self.mark(target, DeliveryStatus.FAILED, error="the chat is gone")
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
                await self.mark(target, DeliveryStatus.MISSED, error="the meeting had begun")
                return
            attempt += 1
            async with self._send_slots:
                await self.mark(target, DeliveryStatus.SENDING, attempt=True)
                try:
                    await self.send(transport, claim.view, target)
                except DirectMessageUnavailable:
                    await self.mark(target, DeliveryStatus.UNREACHABLE, error="no private chat")
                    if target.person_id is not None:
                        await self._note_unreachable(target.person_id)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                else:
                    await self._record_sent(target)
                    return
            await self.mark(target, DeliveryStatus.SENDING, error=error)
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

    async def _record_sent(self, target: Target) -> None:
        """Mark a delivery `sent` once it went out, waiting out a database outage: left
        `sending`, it would be sent a second time when the reminder is fired again."""
        attempt = 0
        while True:
            try:
                await self.mark(target, DeliveryStatus.SENT)
                return
            except DatabaseUnavailable as exc:
                attempt += 1
                delay = min(self.retry_base * 2 ** (attempt - 1), self.retry_max)
                log.warning(
                    "reminder %s: sent, but the database is unavailable (%s); recording it "
                    "again in %.1f s",
                    target.key,
                    exc,
                    delay,
                )
            await asyncio.sleep(delay)

    async def send(self, transport: Transport, view: ReminderView, target: Target) -> None:
        """Write one reminder through the outbox (language, prefix, buttons per target)."""
        if target.chat is not None:
            audience = Audience.of_chat(target.chat, target.language)
        else:
            assert target.account is not None
            audience = Audience.of_account(target.account, target.language)
        reader = self.services.outbox.reader(audience)
        can_button = target.chat is not None and reader.capabilities.buttons
        message, buttons = self.compose(view, reader.lang, reader.prefix, can_button)
        await self.services.outbox.send(
            audience, message, key=target.key, buttons=(lambda _: buttons) if buttons else None
        )

    async def mark(
        self,
        target: Target,
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


async def _in_chunks(
    session: AsyncSession, model: type[M], column: Any, values: Sequence[int]
) -> list[M]:
    """Rows whose `column` is one of `values`, a few hundred ids per query."""
    rows: list[M] = []
    unique = sorted(set(values))
    for start in range(0, len(unique), IN_CHUNK):
        chunk = unique[start : start + IN_CHUNK]
        rows.extend(await session.scalars(select(model).where(column.in_(chunk))))
    return rows


def _account_ref(account: Account) -> AccountRef:
    return AccountRef(account.platform, account.external_id, account.display_name, account.username)
