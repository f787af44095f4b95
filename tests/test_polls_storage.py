"""Poll storage on SQLite and PostgreSQL: the migration, the ballot rules, the tally in
the database, and the 10,000-vote benchmark."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from benchmarks.polls import tally_benchmark
from storage import repo
from storage.db import Database, alembic_config
from storage.models import Account, Ag
from storage.polls import ballots, polls
from storage.polls.ballots import Outcome
from storage.polls.models import PollBallot

POLL_TABLES = {
    "poll",
    "poll_option",
    "poll_message",
    "poll_native_count",
    "poll_ballot",
    "poll_choice",
    "survey_run",
}
T0 = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.dispose()


async def new_poll(db: Database, *, anonymous: bool = False, options: int = 3) -> int:
    async with db.write() as session:
        ag = Ag(slug=f"ag{datetime.now().microsecond}", name="Test", description="")
        session.add(ag)
        await session.flush()
        poll = await polls.create_poll(
            session,
            question="Wann?",
            options=[f"O{i}" for i in range(options)],
            ag_id=ag.id,
            created_by=None,
            multi=True,
            anonymous=anonymous,
        )
        return poll.id


async def person(db: Database, who: str) -> int:
    async with db.write() as session:
        return (await repo.ensure_account(session, "telegram", who, who.title())).person_id


async def cast(db: Database, poll_id: int, person_id: int, *options: int, at: datetime) -> Outcome:
    async def work(session: AsyncSession) -> Outcome:
        account_id = await session.scalar(select(Account.id).where(Account.person_id == person_id))
        assert account_id is not None
        return await ballots.cast(
            session,
            poll_id,
            options,
            person_id=person_id,
            account_id=account_id,
            platform="telegram",
            at=at,
        )

    return await db.run(work)


async def tally(db: Database, poll_id: int) -> ballots.Tally:
    async with db.read() as session:
        return await ballots.tally(session, poll_id, 3)


async def test_the_migration_creates_the_poll_tables_and_goes_back(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    try:
        await database.upgrade()
        async with database.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert tables >= POLL_TABLES

        def down_and_up(connection: object) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0001")
            assert not POLL_TABLES & set(inspect(connection).get_table_names())
            command.upgrade(cfg, "head")

        async with database.engine.begin() as conn:
            await conn.run_sync(down_and_up)
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
    finally:
        await database.dispose()


async def test_one_ballot_per_person_and_the_newest_answer_wins(db: Database) -> None:
    poll_id = await new_poll(db)
    ben = await person(db, "ben")

    assert await cast(db, poll_id, ben, 0, at=T0) is Outcome.NEW
    assert await cast(db, poll_id, ben, 0, 2, at=T0 + timedelta(seconds=1)) is Outcome.CHANGED
    assert await cast(db, poll_id, ben, 2, 0, at=T0 + timedelta(seconds=2)) is Outcome.SAME
    assert await cast(db, poll_id, ben, 1, at=T0 - timedelta(minutes=1)) is Outcome.STALE
    assert (await tally(db, poll_id)).counts == [1, 0, 1]
    assert await cast(db, poll_id, ben, at=T0 + timedelta(seconds=3)) is Outcome.RETRACTED
    assert await cast(db, poll_id, ben, 1, at=T0 + timedelta(seconds=2)) is Outcome.STALE
    assert await cast(db, poll_id, ben, at=T0 + timedelta(seconds=4)) is Outcome.NOTHING
    assert (await tally(db, poll_id)).counts == [0, 0, 0]


async def test_the_database_refuses_a_second_ballot_of_the_same_person(db: Database) -> None:
    poll_id = await new_poll(db)
    ben = await person(db, "ben")
    await cast(db, poll_id, ben, 0, at=T0)

    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(PollBallot(poll_id=poll_id, person_id=ben, counted=True))


async def test_a_ballot_has_a_person_or_a_token_never_both(db: Database) -> None:
    poll_id = await new_poll(db)
    ben = await person(db, "ben")

    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(PollBallot(poll_id=poll_id, person_id=ben, token="x" * 64, counted=True))


async def test_concurrent_votes_of_one_person_leave_one_ballot(db: Database) -> None:
    poll_id = await new_poll(db)
    ben = await person(db, "ben")
    others = [await person(db, f"p{i}") for i in range(20)]

    await asyncio.gather(
        *(cast(db, poll_id, ben, i % 3, at=T0 + timedelta(seconds=i)) for i in range(6)),
        *(cast(db, poll_id, p, 1, at=T0) for p in others),
    )

    async with db.read() as session:
        ben_ballots = await session.scalars(
            select(PollBallot).where(PollBallot.poll_id == poll_id, PollBallot.person_id == ben)
        )
        assert len(list(ben_ballots)) == 1
    result = await tally(db, poll_id)
    assert result.voters == 21
    assert result.counts[1] >= 20


async def test_the_tally_merges_ballots_and_native_totals(db: Database) -> None:
    poll_id = await new_poll(db, anonymous=True)

    async def work(session: AsyncSession) -> None:
        await ballots.cast(session, poll_id, [0], token="a" * 64)
        await ballots.cast(session, poll_id, [2], token="b" * 64)
        tg = await polls.add_message(session, poll_id, "telegram", "-100", "5", "tg-poll")
        await ballots.set_native_counts(session, tg.id, [4, 1, 0], 5)
        await ballots.set_native_counts(session, tg.id, [5, 1, 0], 6)

    await db.run(work)

    result = await tally(db, poll_id)
    assert result.counts == [6, 1, 1]
    assert result.voters_by_network == {None: 2}
    assert result.native_voters == {"telegram": 6}
    assert result.voters == 8


async def test_closing_happens_once_and_erases_the_tokens(db: Database) -> None:
    poll_id = await new_poll(db, anonymous=True)

    async def vote(session: AsyncSession) -> None:
        await ballots.cast(session, poll_id, [1], token="c" * 64)

    async def close(session: AsyncSession) -> bool:
        return await polls.mark_closed(session, poll_id, T0)

    await db.run(vote)
    assert await db.run(close) is True
    assert await db.run(close) is False
    async with db.read() as session:
        tokens = list(
            await session.scalars(select(PollBallot.token).where(PollBallot.poll_id == poll_id))
        )
    assert tokens == [None]
    assert (await tally(db, poll_id)).counts == [0, 1, 0]


async def test_deleting_a_person_deletes_their_votes(db: Database) -> None:
    poll_id = await new_poll(db)
    ben = await person(db, "ben")
    await cast(db, poll_id, ben, 1, at=T0)

    async with db.write() as session:
        await session.execute(text("DELETE FROM person WHERE id = :id"), {"id": ben})

    assert (await tally(db, poll_id)).counts == [0, 0, 0]


async def test_the_tally_of_votes_runs_in_the_database_fast(database_url: str) -> None:
    votes = 10_000 if database_url.startswith("sqlite") else 2_000
    figures = await tally_benchmark(database_url, votes=votes, rounds=5)

    assert figures["voters"] == votes
    assert sum(figures["counts"]) == votes + votes // 5
    # A guard against a blow-up (a tally in Python, a query per vote), not a speed goal: the
    # goal (< 50 ms) is `make bench`'s; here 10,000 votes take about 15 ms on an idle machine,
    # and over 100 ms with the machine busy with other work.
    assert figures["p50_ms"] < 1500, figures
