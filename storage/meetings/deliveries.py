"""The rows behind sending one reminder: claiming it, one delivery row per target, each
delivery's outcome, and the reminder's outcome once every delivery has one.

The sender (handlers/reminders/sender.py) calls these, each in its own transaction; the
rules of when a reminder is late, missed or superseded are written here next to the
statuses they set.

Several processes may fire one reminder at once (a rolling deploy, a standby taking
over): the claim is one conditional UPDATE that also writes a lease (storage/leases.py),
so only one process holds the reminder, and each delivery is taken with a lease of its
own right before its send. A holder that dies leaves its rows `sending`; they are free
for another process once the lease ran out, and only the deliveries not yet `sent` go
out again (with their keys).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases, repo
from storage.meetings import reminders as rem
from storage.meetings import rsvps
from storage.meetings import settings as prefs
from storage.meetings.models import (
    ERROR_MAX,
    FINISHED_DELIVERIES,
    DeliveryStatus,
    MeetingStatus,
    Reminder,
    ReminderDelivery,
    ReminderStatus,
)
from storage.meetings.occurrences import OccurrenceView, occurrence_view
from storage.models import Account, Chat, Person

log = logging.getLogger(__name__)

IN_CHUNK = 500  # ids per IN (...) list when loading the targets
OPEN_REMINDER = (ReminderStatus.PENDING.value, ReminderStatus.SENDING.value)
OPEN_DELIVERY = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)

M = TypeVar("M")


@dataclass
class ClaimRows:
    """A claimed reminder as stored: its occurrence, who said yes, and its deliveries with
    the chats, accounts and languages they go to (three queries however many people)."""

    reminder: Reminder
    view: OccurrenceView
    coming: list[Account]  # the first account of each person who said yes
    deliveries: list[ReminderDelivery]
    maybe: int = 0  # how many said maybe (counted only: names only for those who come)
    declined: int = 0  # how many said no
    chats: dict[int, Chat] = field(default_factory=dict)
    languages: dict[int, str | None] = field(default_factory=dict)
    accounts: dict[int, list[Account]] = field(default_factory=dict)


async def claim(
    session: AsyncSession, reminder_id: int, now: datetime, grace: timedelta, *, owner: str
) -> ClaimRows | None:
    """Take a due reminder for sending: `pending` -> `sending` with one delivery row per
    target, leased to `owner` (a `sending` one whose holder died, its lease run out, is
    resumed as it is; one `owner` holds already is carried on). None when another process
    holds it or there is nothing to send: cancelled, moved, its meeting begun, or
    superseded by a later one. A reminder fired more than `grace` after its due time is
    marked late."""
    won = await leases.take(
        session,
        Reminder,
        reminder_id,
        owner=owner,
        now=now,
        where=(Reminder.status.in_(OPEN_REMINDER),),
    )
    if not won:
        return None
    reminder = await session.get(Reminder, reminder_id, populate_existing=True)
    if reminder is None:
        return None
    view = await occurrence_view(session, reminder.occurrence_id)
    assert view is not None  # the foreign key cascades
    if (
        view.cancelled
        or view.meeting.status == MeetingStatus.CANCELLED.value
        or view.occurrence.revision != reminder.revision
    ):
        await settle(session, reminder, DeliveryStatus.CANCELLED, ReminderStatus.CANCELLED, now)
        return None
    if view.start <= now:
        log.warning("reminder %d: its meeting has begun; the rest is missed", reminder_id)
        await settle(session, reminder, DeliveryStatus.MISSED, ReminderStatus.MISSED, now)
        return None
    if reminder.status == ReminderStatus.PENDING.value and await _superseded(
        session, reminder, now
    ):
        # After downtime only the latest overdue reminder of a meeting goes out; the
        # earlier ones would say the same thing again.
        await settle(session, reminder, DeliveryStatus.MISSED, ReminderStatus.MISSED, now)
        return None
    if reminder.status == ReminderStatus.PENDING.value:
        reminder.late = now - reminder.due_at > grace
        reminder.status, reminder.fired_at = ReminderStatus.SENDING.value, now
        await rem.add_deliveries(session, reminder.id, await _targets(session, view.ag.id))
    coming = await rsvps.rsvps(session, view.id)
    rows = ClaimRows(
        reminder,
        view,
        [accounts[0] for accounts in coming.get("yes", [])],
        await rem.deliveries_of(session, reminder.id),
        maybe=len(coming.get("maybe", [])),
        declined=len(coming.get("no", [])),
    )
    await _load_targets(session, rows)
    return rows


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


async def settle(
    session: AsyncSession,
    reminder: Reminder,
    undelivered: DeliveryStatus,
    fallback: ReminderStatus,
    now: datetime,
) -> None:
    """Give every delivery still open `undelivered` and the reminder its outcome (by the
    holder of the reminder's lease only: the claim took it); the leases end here."""
    await session.execute(
        update(ReminderDelivery)
        .where(
            ReminderDelivery.reminder_id == reminder.id,
            ReminderDelivery.status.in_(OPEN_DELIVERY),
        )
        .values(status=undelivered.value, lease_owner=None, lease_until=None)
    )
    statuses = await _statuses(session, reminder.id)
    outcome: ReminderStatus = fallback
    if fallback is not ReminderStatus.CANCELLED:
        outcome = _outcome(reminder.late, statuses, fallback)
    reminder.status, reminder.finished_at = outcome.value, now
    reminder.lease_owner, reminder.lease_until = None, None


async def finish(
    session: AsyncSession, reminder_id: int, now: datetime, *, owner: str, hold_until: datetime
) -> bool:
    """Close the reminder once every delivery has an outcome (only its holder `owner`);
    False if some are open (a network not running here): the holder keeps the lease until
    `hold_until`, when it (or, if it died, another process) fires it again."""
    reminder = await session.get(Reminder, reminder_id, populate_existing=True)
    if (
        reminder is None
        or reminder.status != ReminderStatus.SENDING.value
        or reminder.lease_owner != owner
    ):
        return True  # done, or another process holds it now (our lease ran out)
    statuses = await _statuses(session, reminder_id)
    if any(s not in FINISHED_DELIVERIES for s in statuses):
        # Held until then; sooner if another process still holds one of the deliveries.
        elsewhere = await session.scalar(
            select(func.max(ReminderDelivery.lease_until)).where(
                ReminderDelivery.reminder_id == reminder_id,
                ReminderDelivery.status.in_(OPEN_DELIVERY),
                ReminderDelivery.lease_owner != owner,
                ReminderDelivery.lease_until > now,
            )
        )
        reminder.lease_until = min(hold_until, elsewhere) if elsewhere else hold_until
        return False
    fallback = ReminderStatus.LATE_SENT if reminder.late else ReminderStatus.SENT
    reminder.status = _outcome(reminder.late, statuses, fallback).value
    reminder.finished_at = now
    reminder.lease_owner, reminder.lease_until = None, None
    return True


async def take(
    session: AsyncSession, reminder_id: int, delivery_id: int, now: datetime, *, owner: str
) -> bool:
    """Take one delivery right before its send: `sending`, an attempt counted, leased to
    `owner`. False when it is done or another live process holds it. The reminder's lease
    is renewed with it, so it never runs out before one of its deliveries' (whoever
    resumes the reminder then finds every delivery free)."""
    won = await leases.take(
        session,
        ReminderDelivery,
        delivery_id,
        owner=owner,
        now=now,
        where=(ReminderDelivery.status.in_(OPEN_DELIVERY),),
        values={
            "status": DeliveryStatus.SENDING.value,
            "attempts": ReminderDelivery.attempts + 1,
        },
    )
    if won:
        await leases.renew(session, Reminder, [reminder_id], owner=owner, now=now)
    return won


async def renew(session: AsyncSession, reminder_id: int, now: datetime, *, owner: str) -> bool:
    """Extend `owner`'s leases on the reminder and its deliveries under way while the
    fan-out runs; False when the reminder is no longer ours."""
    held = await leases.renew(session, Reminder, [reminder_id], owner=owner, now=now)
    await session.execute(
        update(ReminderDelivery)
        .where(
            ReminderDelivery.reminder_id == reminder_id,
            ReminderDelivery.lease_owner == owner,
            ReminderDelivery.status == DeliveryStatus.SENDING.value,
        )
        .values(lease_until=now + leases.LEASE)
        .execution_options(synchronize_session=False)
    )
    return held > 0


async def release_all(session: AsyncSession, owner: str) -> None:
    """A process that stops gives up its leases, so the next one resumes at once instead
    of waiting for them to run out (the rows stay `sending`: resent with their keys)."""
    for model in (ReminderDelivery, Reminder):
        await session.execute(
            update(model)
            .where(model.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


async def mark(
    session: AsyncSession,
    delivery_id: int,
    status: DeliveryStatus,
    now: datetime,
    *,
    error: str | None = None,
    attempt: bool = False,
) -> None:
    """Record a delivery's status (an attempt counted, the last error, when it was sent);
    an outcome ends its lease."""
    values: dict[str, Any] = {"status": status.value}
    if status.value in FINISHED_DELIVERIES:
        values["lease_owner"] = values["lease_until"] = None
    if attempt:
        values["attempts"] = ReminderDelivery.attempts + 1
    if error is not None:
        values["last_error"] = error[:ERROR_MAX]
    if status is DeliveryStatus.SENT:
        values["sent_at"] = now
    await session.execute(
        update(ReminderDelivery).where(ReminderDelivery.id == delivery_id).values(**values)
    )


async def _statuses(session: AsyncSession, reminder_id: int) -> list[str]:
    rows = await session.scalars(
        select(ReminderDelivery.status).where(ReminderDelivery.reminder_id == reminder_id)
    )
    return list(rows)


async def _targets(session: AsyncSession, ag_id: int) -> list[tuple[str, int | None, int | None]]:
    chats = await repo.chats_of_ag(session, ag_id)
    people = await prefs.direct_subscribers(session, ag_id)
    return [(f"chat:{c.id}", c.id, None) for c in chats] + [
        (f"person:{p}", None, p) for p in people
    ]


async def _load_targets(session: AsyncSession, rows: ClaimRows) -> None:
    """The chats, people's languages and accounts the deliveries go to: three queries
    however many people (one per person made the fan-out to 1,000 take a second longer)."""
    chat_ids = [d.chat_id for d in rows.deliveries if d.chat_id is not None]
    person_ids = [d.person_id for d in rows.deliveries if d.person_id is not None]
    rows.chats = {c.id: c for c in await _in_chunks(session, Chat, Chat.id, chat_ids)}
    rows.languages = {
        p.id: p.language for p in await _in_chunks(session, Person, Person.id, person_ids)
    }
    for account in await _in_chunks(session, Account, Account.person_id, person_ids):
        rows.accounts.setdefault(account.person_id, []).append(account)


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
    found: list[M] = []
    unique = sorted(set(values))
    for start in range(0, len(unique), IN_CHUNK):
        chunk = unique[start : start + IN_CHUNK]
        found.extend(await session.scalars(select(model).where(column.in_(chunk))))
    return found
