"""The poll tally on a database with 10,000 votes: it must stay well under 100 ms.

`tally_benchmark(url)` fills an empty database (10,000 people, each with one named vote
on Telegram or Matrix, a fifth of them on two options), then times the same tally
`/results` runs. `make bench` prints it; tests call it with fewer votes.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from storage.db import Database
from storage.models import Ag, Person
from storage.polls import ballots, polls
from storage.polls.models import PollBallot, PollChoice

OPTIONS = ("Di 18 Uhr", "Mi 19 Uhr", "Do 17 Uhr", "Fr 16 Uhr", "Sa 10 Uhr")
BATCH = 2_000


async def _fill(db: Database, votes: int) -> int:
    """A multi-answer poll with `votes` ballots; returns its id."""
    async with db.write() as session:
        ag = Ag(slug="benchag", name="Benchmark", description="")
        session.add(ag)
        await session.flush()
        poll = await polls.create_poll(
            session, question="Wann?", options=OPTIONS, ag_id=ag.id, created_by=None, multi=True
        )
        poll_id = poll.id
    now = datetime.now(UTC)
    for start in range(0, votes, BATCH):
        size = min(BATCH, votes - start)
        async with db.write() as session:
            await session.execute(insert(Person), [{"language": None} for _ in range(size)])
            person_ids = list(
                await session.scalars(select(Person.id).order_by(Person.id.desc()).limit(size))
            )
            await session.execute(
                insert(PollBallot),
                [
                    {
                        "poll_id": poll_id,
                        "person_id": pid,
                        "platform": "telegram" if pid % 3 else "matrix",
                        "counted": True,
                        "cast_at": now,
                    }
                    for pid in person_ids
                ],
            )
            ballots = list(
                await session.scalars(
                    select(PollBallot.id).where(PollBallot.person_id.in_(person_ids))
                )
            )
            choices = [
                {"ballot_id": bid, "position": bid % len(OPTIONS), "poll_id": poll_id}
                for bid in ballots
            ]
            choices += [
                {"ballot_id": bid, "position": (bid + 1) % len(OPTIONS), "poll_id": poll_id}
                for bid in ballots
                if bid % 5 == 0
            ]
            await session.execute(insert(PollChoice), choices)
    return poll_id


async def tally_benchmark(
    database_url: str, *, votes: int = 10_000, rounds: int = 30
) -> dict[str, Any]:
    """Fill an empty database at `database_url` and time the tally of one poll.

    Returns the backend, the number of votes, and p50 / p95 / max milliseconds of the
    tally (four GROUP BY queries, as `/results` runs them), plus the counts it found.
    """
    db = Database(database_url)
    try:
        await db.upgrade()
        poll_id = await _fill(db, votes)
        timings: list[float] = []
        tally = None
        for _ in range(rounds + 1):  # the first round warms caches and is not counted
            start = time.perf_counter()
            async with db.read() as session:
                tally = await ballots.tally(session, poll_id, len(OPTIONS))
            timings.append((time.perf_counter() - start) * 1000)
        timings = sorted(timings[1:])
        assert tally is not None
        return {
            "backend": db.engine.dialect.name,
            "votes": votes,
            "voters": tally.voters,
            "counts": tally.counts,
            "by_network": {str(k): v for k, v in tally.voters_by_network.items()},
            "rounds": rounds,
            "p50_ms": statistics.median(timings),
            "p95_ms": timings[min(len(timings) - 1, int(0.95 * len(timings)))],
            "max_ms": timings[-1],
        }
    finally:
        await db.dispose()


if __name__ == "__main__":
    import asyncio
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(asyncio.run(tally_benchmark(f"sqlite+aiosqlite:///{tmp}/bench.db")))
