"""Benchmark 4: a reminder fanned out to many private chats through a fake Bot API that
enforces Telegram's flood limits (tests/support/telegram_limits.py).

The whole path as in production: the bot (App on SQLite) with the Telegram transport
and its real rate limiter; an AG whose members all turned `/remind on`; one reminder of
one of its meetings fired as the scheduler fires it (`ReminderEngine.fire`: claim, one
delivery row per person, at most `reminders.parallel_sends` sends at once, each marked
`sending` and then `sent`).

The floor is what the limits themselves allow: with at most 30 messages in any second,
send k and send k + 30 lie at least a second apart, so N messages take at least
(ceil(N / 30) - 1) seconds from the first to the last. The time measured runs from
firing the reminder until it is recorded as sent, so the bot's own work (claiming,
writing delivery rows) counts against it too. Any 429 (`RetryAfter`) the bot provokes
is counted; the goal is none.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from benchmarks.telegram_bot import started_bot
from bot.app import App
from handlers.reminders.engine import engine
from storage import repo
from storage.meetings.models import (
    Meeting,
    Occurrence,
    Reminder,
    ReminderDelivery,
    ReminderPreference,
)
from storage.models import Account, Membership, Person
from tests.support.telegram_limits import FloodLimits, LimitedBotApi

ROOT = Path(__file__).resolve().parents[1]
FIRST_USER_ID = 50_000_000


async def plant_reminder(app: App, recipients: int, *, group_id: int | None = None) -> int:
    """Rows as `/join ag2`, `/remind on` by `recipients` people (each has started the
    bot; Telegram user ids from FIRST_USER_ID on), `/link ag2` in the Telegram group
    `group_id` (if given) and `/meeting` would leave them, with one reminder due now:
    bulk inserts, not the ORM. Returns the reminder's id."""
    services = app.services
    now = services.now()
    async with services.db.write() as session:
        ag = await repo.ag_by_slug(session, "ag2")
        assert ag is not None
        if group_id is not None:
            chat = await repo.ensure_chat(session, "telegram", str(group_id), "AG 2", False)
            await repo.link(session, ag.id, chat.id)
        people = list(
            await session.scalars(
                insert(Person).returning(Person.id), [{"language": "de"}] * recipients
            )
        )
        await session.execute(
            insert(Account),
            [
                {
                    "person_id": person,
                    "platform": "telegram",
                    "external_id": str(FIRST_USER_ID + i),
                    "display_name": f"Person {i}",
                    "direct_reachable": True,
                }
                for i, person in enumerate(people)
            ],
        )
        await session.execute(
            insert(Membership), [{"person_id": p, "ag_id": ag.id} for p in people]
        )
        await session.execute(
            insert(ReminderPreference), [{"person_id": p, "direct": True} for p in people]
        )
        start = now + timedelta(hours=2)
        meeting = Meeting(
            ag_id=ag.id,
            title="Plenum",
            url="https://meet.example/ag2",
            timezone="Europe/Berlin",
            start_at=start,
            materialised_until=start,
        )
        session.add(meeting)
        await session.flush()
        occurrence = Occurrence(meeting_id=meeting.id, original_start=start, start_at=start)
        session.add(occurrence)
        await session.flush()
        reminder = Reminder(
            occurrence_id=occurrence.id, offset_seconds=7200, due_at=now, status="pending"
        )
        session.add(reminder)
        await session.flush()
        return reminder.id


async def fanout_benchmark(recipients: int = 1000) -> dict[str, Any]:
    limits = FloodLimits()
    api = LimitedBotApi(limits)
    with tempfile.TemporaryDirectory() as tmp:
        app, _transport = await started_bot(tmp, api)
        settings = app.services.settings
        try:
            reminder_id = await plant_reminder(app, recipients)
            reminders = engine(app.services)
            started = api.clock()
            await reminders.fire(reminder_id)
            seconds = api.clock() - started
            async with app.services.db.read() as session:
                status = await session.scalar(
                    select(Reminder.status).where(Reminder.id == reminder_id)
                )
                outcomes = Counter(
                    await session.scalars(
                        select(ReminderDelivery.status).where(
                            ReminderDelivery.reminder_id == reminder_id
                        )
                    )
                )
        finally:
            await app.stop()
    arrived = Counter(int(params["chat_id"]) for params in api.delivered())
    expected = {FIRST_USER_ID + i for i in range(recipients)}
    first_send = min(s.at for s in api.accepted) - started if api.accepted else None
    floor = limits.overall.floor(recipients)
    return {
        "name": f"Fan-out: one reminder to {recipients} private chats, Telegram's limits",
        "recipients": recipients,
        "parallel_sends": settings.reminder_parallel_sends,
        "seconds": round(seconds, 3),
        "floor_seconds": floor,
        "ratio": round(seconds / floor, 4) if floor else None,
        "first_send_after_seconds": round(first_send, 3) if first_send is not None else None,
        "send_span_seconds": round(api.span(), 3),
        "send_span_ratio": round(api.span() / floor, 4) if floor else None,
        "retry_after_provoked": len(api.refused),
        "refused_by_limit": dict(Counter(r.limit for r in api.refused)),
        "peaks": api.peaks(),
        "all_arrived_once": set(arrived) == expected and set(arrived.values()) == {1},
        "reminder_status": status,
        "deliveries": dict(outcomes),
        "goal": "within 1.05x of the floor, no RetryAfter provoked",
    }


if __name__ == "__main__":
    import json

    print(json.dumps(asyncio.run(fanout_benchmark()), indent=2))
