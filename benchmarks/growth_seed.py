"""The alliance at 1x, 10x and 100x, written straight into the tables (bulk INSERTs through
SQLAlchemy core, ids chosen here), so that 100x (20,000 people, 200 AGs, 5,000 polls,
20,000 meetings) is ready in seconds instead of the hours its commands would take.

Every AG looks alike at every scale (about 150 members, 25 polls, 100 meetings), so one
AG's commands should cost the same at 1x as at 100x: only the rest of the data grows.
Person 1 leads AG `g0`, votes in its polls and answers its meetings: the one who asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text

from storage.db import Database
from storage.meetings.models import (
    Meeting,
    Occurrence,
    Reminder,
    ReminderDelivery,
    ReminderPreference,
    Rsvp,
)
from storage.models import Account, Ag, AgChat, Chat, Membership, Person
from storage.polls.models import Poll, PollBallot, PollChoice, PollMessage, PollOption

BATCH = 5_000
JOINERS = 200  # people in no AG, each of whom runs `/join g0` once
VOTERS = 20  # named ballots per poll
ANSWERS = 10  # RSVPs per meeting
DELIVERIES = 20  # private deliveries of each past meeting's reminder
OPTIONS = ("Ja", "Nein", "Vielleicht")
RSVP_WORDS = ("yes", "maybe", "no")
REMINDER_BEFORE = timedelta(hours=1)
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # as storage/polls/polls.py


def short_id(j: int) -> str:
    """Poll j's short id: "bz" and j in the ids' own alphabet (no 0/o, 1/l/i)."""
    digits = ""
    for _ in range(4):
        j, digit = divmod(j, len(ALPHABET))
        digits += ALPHABET[digit]
    return "bz" + digits


@dataclass(frozen=True)
class Scale:
    """How much data: `factor` times 200 people, 2 AGs, 50 polls and 200 meetings."""

    factor: int

    @property
    def people(self) -> int:
        return 200 * self.factor

    @property
    def ags(self) -> int:
        return 2 * self.factor

    @property
    def polls(self) -> int:
        return 50 * self.factor

    @property
    def meetings(self) -> int:
        return 200 * self.factor


@dataclass
class Seeded:
    """What the benchmark needs to know of the seeded data."""

    asker: str  # the account (external id) of AG g0's lead
    ag: str  # "g0"
    poll: str  # short id of a poll of g0 with votes
    joiners: list[str]  # accounts in no AG
    reminders: list[int]  # pending reminders of g0's future meetings
    rows: int  # rows written


async def _max_id(db: Database, table: Table) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)


async def _insert(db: Database, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Write `rows` in batches of BATCH, each batch one executemany."""
    batch: list[dict[str, Any]] = []
    written = 0
    async with db.write() as session:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                await session.execute(insert(table), batch)
                written += len(batch)
                batch = []
        if batch:
            await session.execute(insert(table), batch)
            written += len(batch)
    return written


async def seed(db: Database, scale: Scale, now: datetime | None = None) -> Seeded:
    """Fill a migrated database (the configured AGs may exist already) at `scale`."""
    now = now or datetime.now(UTC)
    ag0 = await _max_id(db, Ag.__table__) + 1  # type: ignore[arg-type]
    ag_ids = [ag0 + a for a in range(scale.ags)]
    people = scale.people + JOINERS
    # Members: person i (1-based) is in AG (i-1) % ags, every other person also in the next.
    members: dict[int, list[int]] = {a: [] for a in range(scale.ags)}
    for i in range(scale.people):
        members[i % scale.ags].append(i + 1)
        if i % 2 == 0 and scale.ags > 1:
            members[(i + 1) % scale.ags].append(i + 1)
    rows = 0
    rows += await _insert(
        db, Person.__table__, ({"id": p, "language": None} for p in range(1, people + 1))
    )
    rows += await _insert(
        db,
        Account.__table__,
        (
            {
                "id": p,
                "person_id": p,
                "platform": "fake",
                "external_id": f"p{p}",
                "display_name": f"P{p}",
                "username": f"p{p}",
                "direct_reachable": True,
            }
            for p in range(1, people + 1)
        ),
    )
    rows += await _insert(
        db,
        Ag.__table__,
        ({"id": ag_ids[a], "slug": f"g{a}", "name": f"AG {a}"} for a in range(scale.ags)),
    )
    rows += await _insert(
        db,
        Membership.__table__,
        (
            {"person_id": p, "ag_id": ag_ids[a], "role": "lead" if k == 0 else "member"}
            for a, who in members.items()
            for k, p in enumerate(who)
        ),
    )
    chat0 = await _max_id(db, Chat.__table__) + 1  # type: ignore[arg-type]
    rows += await _insert(
        db,
        Chat.__table__,
        (
            {"id": chat0 + a, "platform": "fake", "external_id": f"grp-g{a}", "title": f"G{a}"}
            for a in range(scale.ags)
        ),
    )
    rows += await _insert(
        db,
        AgChat.__table__,
        ({"ag_id": ag_ids[a], "chat_id": chat0 + a} for a in range(scale.ags)),
    )
    rows += await _insert(
        db,
        ReminderPreference.__table__,
        ({"person_id": p, "direct": True} for p in range(1, scale.people + 1, 2)),
    )
    rows += await _polls(db, scale, ag_ids, members, now)
    meetings, reminders = await _meetings(db, scale, ag_ids, members, now)
    rows += meetings
    if not db.is_sqlite:
        await _after_postgres_seed(db)
    async with db.read() as session:
        first = await session.scalar(
            select(Poll.short_id).where(Poll.ag_id == ag_ids[0]).order_by(Poll.id)
        )
    assert first is not None
    joiners = [f"p{p}" for p in range(scale.people + 1, people + 1)]
    return Seeded("p1", "g0", first, joiners, reminders, rows)


async def _polls(
    db: Database,
    scale: Scale,
    ag_ids: list[int],
    members: dict[int, list[int]],
    now: datetime,
) -> int:
    poll0 = await _max_id(db, Poll.__table__) + 1  # type: ignore[arg-type]
    polls = range(scale.polls)
    rows = await _insert(
        db,
        Poll.__table__,
        (
            {
                "id": poll0 + j,
                "short_id": short_id(j),
                "kind": "poll",
                "ag_id": ag_ids[j % scale.ags],
                "created_by": members[j % scale.ags][0],
                "question": f"Frage {j}?",
                "multi": False,
                "anonymous": False,
                "created_at": now - timedelta(minutes=scale.polls - j),
            }
            for j in polls
        ),
    )
    rows += await _insert(
        db,
        PollOption.__table__,
        (
            {"poll_id": poll0 + j, "position": k, "text": t}
            for j in polls
            for k, t in enumerate(OPTIONS)
        ),
    )
    rows += await _insert(
        db,
        PollMessage.__table__,
        (
            {
                "poll_id": poll0 + j,
                "platform": "fake",
                "chat_id": f"grp-g{j % scale.ags}",
                "message_id": f"m{j}",
            }
            for j in polls
        ),
    )
    ballot0 = await _max_id(db, PollBallot.__table__) + 1  # type: ignore[arg-type]
    voters = [(j, p) for j in polls for p in members[j % scale.ags][:VOTERS]]
    rows += await _insert(
        db,
        PollBallot.__table__,
        (
            {
                "id": ballot0 + n,
                "poll_id": poll0 + j,
                "person_id": p,
                "account_id": p,
                "platform": "fake",
                "counted": True,
                "cast_at": now,
            }
            for n, (j, p) in enumerate(voters)
        ),
    )
    rows += await _insert(
        db,
        PollChoice.__table__,
        (
            {"ballot_id": ballot0 + n, "position": (p + j) % len(OPTIONS), "poll_id": poll0 + j}
            for n, (j, p) in enumerate(voters)
        ),
    )
    return rows


async def _meetings(
    db: Database,
    scale: Scale,
    ag_ids: list[int],
    members: dict[int, list[int]],
    now: datetime,
) -> tuple[int, list[int]]:
    """Half of each AG's meetings lie in the past, half in the future (one a day), each
    with one occurrence, ANSWERS RSVPs and, when still ahead, one pending reminder."""
    meeting0 = await _max_id(db, Meeting.__table__) + 1  # type: ignore[arg-type]
    per_ag = scale.meetings // scale.ags
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)

    def when(m: int) -> datetime:
        return start + timedelta(days=m // scale.ags - per_ag // 2)

    meetings = range(scale.meetings)
    rows = await _insert(
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
    rows += await _insert(
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
    rows += await _insert(
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
    reminder0 = await _max_id(db, Reminder.__table__) + 1  # type: ignore[arg-type]
    future = [m for m in meetings if when(m) > now]
    rows += await _insert(
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
    meeting0 = await _max_id(db, Meeting.__table__) + 1 - scale.meetings  # type: ignore[arg-type]
    reminder0 = await _max_id(db, Reminder.__table__) + 1  # type: ignore[arg-type]
    rows = await _insert(
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
    chat0 = await _max_id(db, Chat.__table__) + 1 - scale.ags  # type: ignore[arg-type]

    def targets(m: int) -> list[tuple[str, int | None, int | None]]:
        a = m % scale.ags
        people = [p for p in members[a] if p % 2][:DELIVERIES]
        return [(f"chat:{chat0 + a}", chat0 + a, None)] + [(f"person:{p}", None, p) for p in people]

    rows += await _insert(
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


async def _after_postgres_seed(db: Database) -> None:
    """Explicit ids leave the sequences behind: move them past the seeded rows; and
    gather the planner's statistics, as autovacuum would after such a load."""
    tables = ("person", "account", "ag", "chat", "poll", "poll_ballot", "meeting")
    tables += ("meeting_occurrence", "reminder")
    async with db.write() as session:
        for table in tables:
            await session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
