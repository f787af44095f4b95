"""Sending one reminder: claiming it, writing a delivery row per target, sending to each
target with its deterministic key, retrying through outages, recording each outcome.

`ReminderEngine` (engine.py) decides *when*; this module does the sending and keeps the
rows honest (storage/meetings/deliveries.py): a delivery is `sending` while it may have
reached the network and `sent` only after it did, so a restart resends exactly the ones
that may be missing.

The reminder and each delivery are leased to this process (`services.node_id`) before
anything is sent; `keeping` renews the leases while a fan-out runs, so another
process takes them over only once this one stopped renewing (it died).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core import Button, ChatRef, DirectMessageUnavailable, Transport
from bot.i18n import Lang
from bot.lease_keeper import RENEW_EVERY, kept
from bot.outbox import Audience
from bot.rich import AccountRef, Rich
from handlers.meetings.text import shown_end
from storage.db import DatabaseUnavailable
from storage.meetings import deliveries
from storage.meetings import settings as prefs
from storage.meetings.models import DeliveryStatus
from storage.models import Account

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

LATE_GRACE = timedelta(seconds=60)  # a scheduled firing later than this is "late"
CATCH_UP_GRACE = timedelta(seconds=1)  # at start-up: due before we started is "late"
RETRY_BASE = 2.0  # seconds; doubled per failed attempt
RETRY_MAX = 300.0
# A reminder with deliveries no network here can reach is held this long, then fired again.
PARK = timedelta(minutes=15)


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
    end: datetime | None = None  # shown when one was set (`19-21 Uhr`, `--dauer 2h`)
    maybe: int = 0
    declined: int = 0


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
        self.renew_every = RENEW_EVERY
        self._send_slots = asyncio.Semaphore(max(1, parallel))

    async def claim(self, reminder_id: int, catch_up: bool) -> Claim | None:
        """Claim the reminder in one transaction (storage/meetings/deliveries.py): what
        it says and where each delivery goes."""
        grace = CATCH_UP_GRACE if catch_up else LATE_GRACE
        now, owner = self.services.now, self.services.node_id
        rows = await self.services.db.run(
            lambda s: deliveries.claim(s, reminder_id, now(), grace, owner=owner)
        )
        if rows is None:
            return None
        view, reminder = rows.view, rows.reminder
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
                coming=tuple(_account_ref(account) for account in rows.coming),
                end=shown_end(view.start.astimezone(tz), view.meeting.duration_minutes),
                maybe=rows.maybe,
                declined=rows.declined,
            ),
            view.start,
        )
        claim.targets.extend(self._targets_of(rows))
        return claim

    async def finish(self, claim: Claim) -> bool:
        """Record the reminder's outcome; False while deliveries are open (held until the
        meeting begins or `PARK` has passed, then fired again)."""
        now, owner = self.services.now, self.services.node_id
        reminder_id = claim.view.reminder_id
        hold = min(claim.start_utc, now() + PARK)
        return await self.services.db.run(
            lambda s: deliveries.finish(s, reminder_id, now(), owner=owner, hold_until=hold)
        )

    def keeping(self, reminder_id: int) -> AbstractAsyncContextManager[None]:
        """Renew this process's leases on the reminder and its deliveries under way, every
        `renew_every` seconds, while the block runs (the fan-out)."""
        now, owner = self.services.now, self.services.node_id

        async def renew() -> bool:
            return await self.services.db.run(
                lambda s: deliveries.renew(s, reminder_id, now(), owner=owner)
            )

        return kept(renew, what=f"reminder {reminder_id}", every=self.renew_every)

    async def release_all(self) -> None:
        """At a stop: give up this process's leases (the next one resumes at once)."""
        owner = self.services.node_id
        await self.services.db.run(lambda s: deliveries.release_all(s, owner))

    def _targets_of(self, rows: deliveries.ClaimRows) -> list[Target]:
        """Where each delivery goes and in which language."""
        targets = []
        for delivery in rows.deliveries:
            target = Target(
                delivery.id,
                send_key(delivery.reminder_id, delivery.target),
                delivery.status,
                None,
                delivery.person_id,
            )
            if delivery.chat_id is not None:
                chat = rows.chats.get(delivery.chat_id)
                if chat is not None:
                    target.chat = ChatRef(
                        chat.platform, chat.external_id, chat.is_direct, chat.title, chat.language
                    )
            elif delivery.person_id is not None:
                mine = sorted(rows.accounts.get(delivery.person_id, []), key=lambda a: a.id)
                running = [a for a in mine if a.platform in self.services.transports]
                running.sort(key=lambda a: not a.direct_reachable)
                if running:
                    target.account = _account_ref(running[0])
                target.language = rows.languages.get(delivery.person_id)
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
                if not await self.take(claim, target):
                    return  # sent meanwhile, or another live process is sending it
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

    async def take(self, claim: Claim, target: Target) -> bool:
        """Lease the delivery to this process right before its send (an attempt counted)."""
        now, owner = self.services.now, self.services.node_id
        reminder_id = claim.view.reminder_id
        won = await self.services.db.run(
            lambda s: deliveries.take(s, reminder_id, target.delivery_id, now(), owner=owner)
        )
        if won:
            target.status = DeliveryStatus.SENDING.value
        return won

    async def mark(
        self,
        target: Target,
        status: DeliveryStatus,
        *,
        error: str | None = None,
        attempt: bool = False,
    ) -> None:
        now = self.services.now
        await self.services.db.run(
            lambda s: deliveries.mark(
                s, target.delivery_id, status, now(), error=error, attempt=attempt
            )
        )
        target.status = status.value

    async def _note_unreachable(self, person_id: int) -> None:
        now = self.services.now()
        await self.services.db.run(lambda s: prefs.mark_unreachable(s, person_id, now))


def _account_ref(account: Account) -> AccountRef:
    return AccountRef(account.platform, account.external_id, account.display_name, account.username)
