"""The alliance at 1x, 10x and 100x, written straight into the tables (bulk INSERTs through
SQLAlchemy core, ids chosen here), so that 100x (20,000 people, 200 AGs, 5,000 polls,
20,000 meetings) is ready in seconds instead of the hours its commands would take.

Every AG looks alike at every scale (about 150 members, 25 polls, 100 meetings), so one
AG's commands should cost the same at 1x as at 100x: only the rest of the data grows.
Person 1 leads AG `g0`, votes in its polls and answers its meetings: the one who asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from benchmarks import growth_meetings
from benchmarks.growth_rows import Scale, insert_rows, max_id
from storage.db import Database
from storage.meetings.models import ReminderPreference
from storage.models import Account, Ag, AgChat, Chat, Membership, Person
from storage.polls.models import Poll, PollBallot, PollChoice, PollMessage, PollOption

JOINERS = 200  # people in no AG, each of whom runs `/join g0` once
VOTERS = 20  # named ballots per poll
OPTIONS = ("Ja", "Nein", "Vielleicht")
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # as storage/polls/polls.py


def short_id(j: int) -> str:
    """Poll j's short id: "bz" and j in the ids' own alphabet (no 0/o, 1/l/i)."""
    digits = ""
    for _ in range(4):
        j, digit = divmod(j, len(ALPHABET))
        digits += ALPHABET[digit]
    return "bz" + digits


@dataclass
class Seeded:
    """What the benchmark needs to know of the seeded data."""

    asker: str  # the account (external id) of AG g0's lead
    ag: str  # "g0"
    poll: str  # short id of a poll of g0 with votes
    joiners: list[str]  # accounts in no AG
    reminders: list[int]  # pending reminders of g0's future meetings
    rows: int  # rows written


async def seed(db: Database, scale: Scale, now: datetime | None = None) -> Seeded:
    """Fill a migrated database (the configured AGs may exist already) at `scale`."""
    now = now or datetime.now(UTC)
    ag0 = await max_id(db, Ag.__table__) + 1  # type: ignore[arg-type]
    ag_ids = [ag0 + a for a in range(scale.ags)]
    people = scale.people + JOINERS
    # Members: person i (1-based) is in AG (i-1) % ags, every other person also in the next.
    members: dict[int, list[int]] = {a: [] for a in range(scale.ags)}
    for i in range(scale.people):
        members[i % scale.ags].append(i + 1)
        if i % 2 == 0 and scale.ags > 1:
            members[(i + 1) % scale.ags].append(i + 1)
    rows = 0
    rows += await insert_rows(
        db, Person.__table__, ({"id": p, "language": None} for p in range(1, people + 1))
    )
    rows += await insert_rows(
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
    rows += await insert_rows(
        db,
        Ag.__table__,
        ({"id": ag_ids[a], "slug": f"g{a}", "name": f"AG {a}"} for a in range(scale.ags)),
    )
    rows += await insert_rows(
        db,
        Membership.__table__,
        (
            {"person_id": p, "ag_id": ag_ids[a], "role": "lead" if k == 0 else "member"}
            for a, who in members.items()
            for k, p in enumerate(who)
        ),
    )
    chat0 = await max_id(db, Chat.__table__) + 1  # type: ignore[arg-type]
    rows += await insert_rows(
        db,
        Chat.__table__,
        (
            {"id": chat0 + a, "platform": "fake", "external_id": f"grp-g{a}", "title": f"G{a}"}
            for a in range(scale.ags)
        ),
    )
    rows += await insert_rows(
        db,
        AgChat.__table__,
        ({"ag_id": ag_ids[a], "chat_id": chat0 + a} for a in range(scale.ags)),
    )
    rows += await insert_rows(
        db,
        ReminderPreference.__table__,
        ({"person_id": p, "direct": True} for p in range(1, scale.people + 1, 2)),
    )
    rows += await _polls(db, scale, ag_ids, members, now)
    meetings, reminders = await growth_meetings.meetings(db, scale, ag_ids, members, now)
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
    poll0 = await max_id(db, Poll.__table__) + 1  # type: ignore[arg-type]
    polls = range(scale.polls)
    rows = await insert_rows(
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
    rows += await insert_rows(
        db,
        PollOption.__table__,
        (
            {"poll_id": poll0 + j, "position": k, "text": t}
            for j in polls
            for k, t in enumerate(OPTIONS)
        ),
    )
    rows += await insert_rows(
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
    ballot0 = await max_id(db, PollBallot.__table__) + 1  # type: ignore[arg-type]
    voters = [(j, p) for j in polls for p in members[j % scale.ags][:VOTERS]]
    rows += await insert_rows(
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
    rows += await insert_rows(
        db,
        PollChoice.__table__,
        (
            {"ballot_id": ballot0 + n, "position": (p + j) % len(OPTIONS), "poll_id": poll0 + j}
            for n, (j, p) in enumerate(voters)
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
