"""A Terminumfrage of 15 dates and 500 people: the summary recomputed after one answer
(`set_answers`, then `view` and the AG's members, then the rendered text), as `/termin`
and the live summary do it. Goal: well under 50 ms on SQLite.

The floor, measured in the same run on the same database, is the answer's write alone:
what any bot that stores the answer pays before it can show anything.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bot.i18n import Translator
from handlers.datepoll.render import summary
from storage import repo
from storage.datepoll import polls
from storage.datepoll.models import Answer, DatePoll, DatePollAnswer
from storage.datepoll.polls import Proposed
from storage.db import Database
from storage.models import Account, Ag, Membership, Person

WORDS = (Answer.YES, Answer.MAYBE, Answer.NO)


async def _fill(db: Database, people: int, dates: int) -> tuple[int, int, list[int]]:
    """An AG of `people` members, a poll of `dates` dates, answered by nine in ten of them
    (every date); returns the AG's id, the poll's id and the people's ids."""
    now = datetime.now(UTC)
    async with db.write() as session:
        ag = Ag(slug="benchdp", name="Benchmark", description="")
        session.add(ag)
        await session.flush()
        await session.execute(insert(Person), [{"language": None} for _ in range(people)])
        ids = list(await session.scalars(select(Person.id).order_by(Person.id)))
        await session.execute(
            insert(Account),
            [
                {"person_id": p, "platform": "telegram", "external_id": str(p),
                 "display_name": f"Mitglied {p}", "username": None, "direct_reachable": False}
                for p in ids
            ],
        )  # fmt: skip
        await session.execute(insert(Membership), [{"person_id": p, "ag_id": ag.id} for p in ids])
        poll = await polls.create(
            session, ag_id=ag.id, title="Plenum", place="", url="", timezone="Europe/Berlin",
            closes_at=None, created_by=ids[0], now=now,
            dates=[Proposed(now + timedelta(days=d + 1), 60) for d in range(dates)],
        )  # fmt: skip
        answered = [p for p in ids if p % 10]
        await session.execute(
            insert(DatePollAnswer),
            [
                {"poll_id": poll.id, "position": d, "person_id": p,
                 "answer": WORDS[(p + d) % 3].value, "platform": "telegram", "answered_at": now}
                for p in answered
                for d in range(dates)
            ],
        )  # fmt: skip
        return ag.id, poll.id, ids


async def summary_benchmark(
    database_url: str, *, people: int = 500, dates: int = 15, rounds: int = 50
) -> dict[str, Any]:
    """Fill an empty database at `database_url`, then time `rounds` answers, each followed
    by the recomputed summary; and the answers' writes alone (the floor)."""
    db = Database(database_url)
    lang = Translator(["de"]).for_language("de")
    try:
        await db.upgrade()
        ag_id, poll_id, ids = await _fill(db, people, dates)
        total: list[float] = []
        floor: list[float] = []
        length = 0
        for i in range(rounds + 1):  # the first round warms caches and is not counted
            person = ids[(i * 7) % len(ids)]
            given = {d: WORDS[(i + d) % 3] for d in range(dates)}
            now = datetime.now(UTC)
            start = time.perf_counter()
            await db.run(
                lambda s, p=person, g=given, n=now: polls.set_answers(s, poll_id, p, "matrix", g, n)
            )
            wrote = time.perf_counter()
            async with db.read() as session:
                poll = await session.get(DatePoll, poll_id)
                ag = await session.get(Ag, ag_id)
                assert poll is not None and ag is not None
                view = await polls.view(session, poll)
                members = await repo.members_of(session, ag_id)
            text = summary(lang, "/", view, ag, members)
            done = time.perf_counter()
            length = len(text.plain)
            if i:
                total.append((done - start) * 1000)
                floor.append((wrote - start) * 1000)
        total.sort()
        return {
            "backend": db.engine.dialect.name,
            "people": people,
            "dates": dates,
            "answers": sum(len(a) for a in view.answers.values()),
            "rounds": rounds,
            "summary_chars": length,
            "p50_ms": statistics.median(total),
            "p95_ms": total[min(len(total) - 1, int(0.95 * len(total)))],
            "max_ms": total[-1],
            "floor_p50_ms": statistics.median(floor),
        }
    finally:
        await db.dispose()


if __name__ == "__main__":
    import asyncio
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(asyncio.run(summary_benchmark(f"sqlite+aiosqlite:///{tmp}/bench.db")))
