"""The meetings of the growth benchmark's seed: half past, half ahead, with answers, the
future ones' pending reminders and the past ones' sent reminders with their deliveries."""

from __future__ import annotations

from datetime import datetime, timedelta

from benchmarks.growth_rows import Scale, insert_rows, max_id
from storage.db import Database
from storage.meetings.models import Meeting, Occurrence, Reminder, ReminderDelivery, Rsvp
from storage.models import Chat

ANSWERS = 10  # RSVPs per meeting
DELIVERIES = 20  # private deliveries of each past meeting's reminder
RSVP_WORDS = ("yes", "maybe", "no")
REMINDER_BEFORE = timedelta(hours=1)


async def meetings(
    db: Database,
    scale: Scale,
    ag_ids: list[int],
    members: dict[int, list[int]],
    now: datetime,
) -> tuple[int, list[int]]:
    """Half of each AG's meetings lie in the past, half in the future (one a day), each
    with one occurrence, ANSWERS RSVPs and, when still ahead, one pending reminder."""
    meeting0 = await max_id(db, Meeting.__table__) + 1  # type: ignore[arg-type]
    per_ag = scale.meetings // scale.ags
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)

    def when(m: int) -> datetime:
        return start + timedelta(days=m // scale.ags - per_ag // 2)

    meetings = range(scale.meetings)
    rows = await insert_rows(
        db,
        Meeting.__table__,
        (
            {
                "id": meeting0 + m,
                "ag_id": ag_ids[m % scale.ags],
                "title": f"Treffen {m}",
                "timezone": "Europe/Berlin",
                "start_at": when(m),
                "duration_minutes": 60,
                "status": "active",
                "created_by": members[m % scale.ags][0],
                "created_at": now,
            }
            for m in meetings
        ),
    )
    rows += await insert_rows(
        db,
        Occurrence.__table__,
        (
            {
                "id": meeting0 + m,
                "meeting_id": meeting0 + m,
                "original_start": when(m),
                "start_at": when(m),
                "status": "scheduled",
                "revision": 0,
            }
            for m in meetings
        ),
    )
    rows += await insert_rows(
        db,
        Rsvp.__table__,
        (
            {
                "occurrence_id": meeting0 + m,
                "person_id": p,
                "answer": RSVP_WORDS[(p + m) % 3] if k else "yes",
                "answered_at": now,
            }
            for m in meetings
            for k, p in enumerate(members[m % scale.ags][:ANSWERS])
        ),
    )
    reminder0 = await max_id(db, Reminder.__table__) + 1  # type: ignore[arg-type]
    future = [m for m in meetings if when(m) > now]
    rows += await insert_rows(
        db,
        Reminder.__table__,
        (
            {
                "id": reminder0 + n,
                "occurrence_id": meeting0 + m,
                "revision": 0,
                "offset_seconds": int(REMINDER_BEFORE.total_seconds()),
                "due_at": when(m) - REMINDER_BEFORE,
                "status": "pending",
                "late": False,
            }
            for n, m in enumerate(future)
        ),
    )
    mine = [reminder0 + n for n, m in enumerate(future) if m % scale.ags == 0]
    rows += await _sent(db, scale, members, [(m, when(m)) for m in meetings if when(m) <= now])
    return rows, mine


async def _sent(
    db: Database,
    scale: Scale,
    members: dict[int, list[int]],
    past: list[tuple[int, datetime]],
) -> int:
    """The past meetings' reminders went out: one `sent` reminder each, delivered to the
    AG's chat and to DELIVERIES of its members privately (the biggest table of a
    running alliance)."""
    meeting0 = await max_id(db, Meeting.__table__) + 1 - scale.meetings  # type: ignore[arg-type]
    reminder0 = await max_id(db, Reminder.__table__) + 1  # type: ignore[arg-type]
    rows = await insert_rows(
        db,
        Reminder.__table__,
        (
            {
                "id": reminder0 + n,
                "occurrence_id": meeting0 + m,
                "revision": 0,
                "offset_seconds": int(REMINDER_BEFORE.total_seconds()),
                "due_at": start - REMINDER_BEFORE,
                "status": "sent",
                "late": False,
            }
            for n, (m, start) in enumerate(past)
        ),
    )
    chat0 = await max_id(db, Chat.__table__) + 1 - scale.ags  # type: ignore[arg-type]

    def targets(m: int) -> list[tuple[str, int | None, int | None]]:
        a = m % scale.ags
        people = [p for p in members[a] if p % 2][:DELIVERIES]
        return [(f"chat:{chat0 + a}", chat0 + a, None)] + [(f"person:{p}", None, p) for p in people]

    rows += await insert_rows(
        db,
        ReminderDelivery.__table__,
        (
            {
                "reminder_id": reminder0 + n,
                "target": target,
                "chat_id": chat_id,
                "person_id": person_id,
                "status": "sent",
                "attempts": 1,
            }
            for n, (m, _start) in enumerate(past)
            for target, chat_id, person_id in targets(m)
        ),
    )
    return rows
