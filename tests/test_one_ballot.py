"""One network account, and one person, has at most one ballot per poll, whatever the
history of /forget, /connect and /disconnect (issue 11, item 2); the result, the export
and the list of who has not voted agree. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import AsyncIterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import IntegrityError

from storage.db import Database, alembic_config
from storage.models import Account, Base
from storage.polls.models import PollBallot, PollChoice
from tests.support.fake import BotHarness, FakeTransport
from tests.support.poll_chat import (
    Clock,
    ballots_of,
    counts_of,
    last_poll,
    native_vote,
    poll_row,
    setup_ag,
    start_poll,
)

CODE = re.compile(r"Dein Code: (\S+)")


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[BotHarness]:
    """The fake network and "other"; anonymous polls as text, answered privately."""
    harness = await BotHarness.create(database_url, more=(FakeTransport(platform="other"),))
    harness.app.services.clock = Clock()
    harness.transport.capabilities = dataclasses.replace(
        harness.transport.capabilities, anonymous_polls=False
    )
    yield harness
    await harness.close()


async def forget(bot: BotHarness, who: str, platform: str = "fake") -> None:
    await bot.dm(who, platform).say(who, "/forget")
    [done, *_] = await bot.dm(who, platform).say(who, "/forget JA")
    assert done.startswith("Erledigt"), done


async def connect(bot: BotHarness, who: str) -> None:
    """`who` on the fake network asks for a code and redeems it on "other"."""
    found = CODE.search((await bot.dm(who).say(who, "/connect"))[-1])
    assert found
    other = bot.dm(who, "other")
    [summary, *_] = await other.say(who, f"/connect {found.group(1)}")
    assert summary.startswith("Willst du dieses Konto"), summary
    [done, *_] = await other.say(who, f"/connect {found.group(1)} JA")
    assert done.startswith("Verbunden mit"), done


async def counted_ballots(bot: BotHarness, short_id: str) -> list[PollBallot]:
    """Ballots with an answer (a retracted one keeps its row without choices)."""
    poll = await poll_row(bot, short_id)
    async with bot.app.services.db.read() as session:
        with_choice = select(PollChoice.ballot_id).where(PollChoice.poll_id == poll.id)
        return list(
            await session.scalars(
                select(PollBallot).where(
                    PollBallot.poll_id == poll.id, PollBallot.id.in_(with_choice)
                )
            )
        )


async def account_ids(bot: BotHarness) -> dict[int, str]:
    async with bot.app.services.db.read() as session:
        return {
            a.id: f"{a.platform}:{a.external_id}" for a in await session.scalars(select(Account))
        }


async def export_rows(bot: BotHarness, lead: str, short_id: str) -> list[list[str]]:
    before = len(bot.transport.files)
    await bot.dm(lead).say(lead, f"/export {short_id}")
    [sent] = bot.transport.files[before:]
    rows = list(csv.reader(io.StringIO(sent.data.decode("utf-8-sig")), delimiter=";"))
    return rows[1:]


async def assert_views_agree(bot: BotHarness, lead: str, short_id: str, members: set[str]) -> None:
    """Export rows == the voters of the result; the named voters and the not-voted list
    split the AG's members."""
    rows = await export_rows(bot, lead, short_id)
    [result, *_] = await bot.dm(lead).say(lead, f"/results {short_id}")
    found = re.search(r"^(\d+) Stimmen?\b", result, re.M)
    assert found, result
    assert len(rows) == int(found.group(1)), (rows, result)
    voted = {row[1].lower() for row in rows if row[7] == "ja"}
    missing = re.search(r"Noch nicht abgestimmt \(\d+\): (.*)$", result, re.M)
    # Names there are mentions (`@anna`), in the export display names (`Anna`).
    not_voted = {n.lstrip("@").lower() for n in missing.group(1).split(", ")} if missing else set()
    if not missing:
        assert "Alle Mitglieder der AG haben abgestimmt." in result
    assert not voted & not_voted, (voted, not_voted)
    assert voted | not_voted == {m.lower() for m in members}, (voted, not_voted)


# --- the sequence ----------------------------------------------------------------


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
async def test_forgetting_three_times_gives_no_extra_votes(
    two: BotHarness, anonymous: bool
) -> None:
    group = await setup_ag(two, lead="anna", members=("ben",))
    flag = " --anonymous" if anonymous else ""
    short_id = await start_poll(group, "anna", f'/poll "Fahren wir?" "Ja" "Nein"{flag}')
    eve = two.dm("eve")
    for _ in range(3):
        await eve.say("eve", "/join ag2")
        [voted] = await eve.say("eve", f"/vote {short_id} 2")
        assert voted.startswith("Danke! Deine Stimme zählt"), voted
        await forget(two, "eve")
    # Each /forget withdrew the vote of the running poll: nothing of Eve counts.
    assert await counts_of(two, short_id) == [0, 0]
    await eve.say("eve", "/join ag2")
    await eve.say("eve", f"/vote {short_id} 2")
    assert await counts_of(two, short_id) == [0, 1]
    [result, *_] = await two.dm("anna").say("anna", f"/results {short_id}")
    assert "Nein – 1 " in result and "\n1 Stimme" in result, result
    assert len(await counted_ballots(two, short_id)) == 1
    if not anonymous:
        await assert_views_agree(two, "anna", short_id, {"Anna", "Ben", "Eve"})


async def test_a_forgotten_vote_in_a_closed_poll_still_counts_and_is_exported(
    two: BotHarness,
) -> None:
    group = await setup_ag(two, lead="anna", members=("ben",))
    short_id = await start_poll(group, "anna", '/poll "Fahren wir?" "Ja" "Nein"')
    await two.dm("ben").say("ben", f"/vote {short_id} 1")
    await two.dm("eve").say("eve", "/join ag2")
    await two.dm("eve").say("eve", f"/vote {short_id} 2")
    await two.dm("anna").say("anna", f"/close {short_id}")
    await forget(two, "eve")
    assert await counts_of(two, short_id) == [1, 1]
    rows = await export_rows(two, "anna", short_id)
    assert sorted((row[1], row[5]) for row in rows) == [("(gelöscht)", "Nein"), ("Ben", "Ja")]
    assert all("eve" not in cell.lower() for row in rows for cell in row)
    # Coming back does not reopen anything: the closed poll takes no vote.
    [late] = await two.dm("eve").say("eve", f"/vote {short_id} 1")
    assert late.startswith("Die Umfrage") and "beendet" in late
    assert await counts_of(two, short_id) == [1, 1]


async def test_forgetting_withdraws_a_native_vote(two: BotHarness) -> None:
    """Native polls report votes per account: the account that comes back is the same."""
    group = await setup_ag(two, lead="anna", members=("ben",))
    short_id = await start_poll(group, "anna", '/poll "Fahren wir?" "Ja" "Nein"')
    sent, _spec = last_poll(two.transport)
    assert sent.native_id is not None
    await two.dm("ben").say("ben", "/join ag2")
    for _ in range(3):
        await native_vote(two, sent.native_id, "ben", 1)
        await forget(two, "ben")
        await two.dm("ben").say("ben", "/join ag2")
    await native_vote(two, sent.native_id, "ben", 1)
    assert await counts_of(two, short_id) == [0, 1]
    await assert_views_agree(two, "anna", short_id, {"Anna", "Ben"})


# --- /connect and /disconnect ---------------------------------------------------------------


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
async def test_connect_forget_and_come_back_gives_one_vote_per_account(
    two: BotHarness, anonymous: bool
) -> None:
    group = await setup_ag(two, lead="anna", members=("ben",))
    flag = " --anonymous" if anonymous else ""
    short_id = await start_poll(group, "anna", f'/poll "Fahren wir?" "Ja" "Nein"{flag}')
    fake, other = two.dm("eve"), two.dm("eve", "other")
    for _ in range(2):
        await fake.say("eve", "/join ag2")
        await connect(two, "eve")
        await fake.say("eve", f"/vote {short_id} 2")
        [again] = await other.say("eve", f"/vote {short_id} 2")
        assert again.startswith("Das hattest du schon gewählt"), again
        await forget(two, "eve", "other")
    assert await counts_of(two, short_id) == [0, 0]
    # Both accounts back, not connected: one vote each, and each replaces its own.
    for chat in (fake, other):
        await chat.say("eve", "/join ag2")
        await chat.say("eve", f"/vote {short_id} 2")
        await chat.say("eve", f"/vote {short_id} 1")
    assert await counts_of(two, short_id) == [2, 0]
    # Connected again: one person, one vote (named: the later one; anonymous: the vote
    # of the person who gave the code).
    await connect(two, "eve")
    assert sum(await counts_of(two, short_id)) == 1
    assert len(await counted_ballots(two, short_id)) == 1


async def test_disconnect_leaves_the_vote_with_the_remaining_account(two: BotHarness) -> None:
    group = await setup_ag(two, lead="anna", members=("ben",))
    short_id = await start_poll(group, "anna", '/poll "Fahren wir?" "Ja" "Nein"')
    fake, other = two.dm("eve"), two.dm("eve", "other")
    await fake.say("eve", "/join ag2")
    await connect(two, "eve")
    await other.say("eve", f"/vote {short_id} 2")
    await other.say("eve", "/disconnect")
    # The vote stays with the person of the fake account, as that account's vote.
    await assert_views_agree(two, "anna", short_id, {"Anna", "Ben", "Eve"})
    [ballot] = await counted_ballots(two, short_id)
    accounts = await account_ids(two)
    assert accounts[ballot.account_id or 0] == "fake:eve" and ballot.platform == "fake"
    # The account that left votes once on its own; the kept vote is replaced, not added.
    await other.say("eve", "/join ag2")
    await other.say("eve", f"/vote {short_id} 1")
    await fake.say("eve", f"/vote {short_id} 1")
    assert await counts_of(two, short_id) == [2, 0]
    ballots = await counted_ballots(two, short_id)
    assert sorted(accounts[b.account_id or 0] for b in ballots) == ["fake:eve", "other:eve"]
    rows = await export_rows(two, "anna", short_id)
    assert sorted((row[1], row[2]) for row in rows) == [("Eve", "Fake"), ("Eve", "Other")]


async def test_disconnect_leaves_the_anonymous_vote_with_the_remaining_account(
    two: BotHarness,
) -> None:
    group = await setup_ag(two, lead="anna", members=("ben",))
    short_id = await start_poll(group, "anna", '/poll --anonymous "Fahren wir?" "Ja" "Nein"')
    fake, other = two.dm("eve"), two.dm("eve", "other")
    await fake.say("eve", "/join ag2")
    await connect(two, "eve")
    await other.say("eve", f"/vote {short_id} 2")
    await other.say("eve", "/disconnect")
    [changed] = await fake.say("eve", f"/vote {short_id} 1")
    assert changed.startswith("Deine Stimme ist geändert"), changed
    await other.say("eve", "/join ag2")
    [new] = await other.say("eve", f"/vote {short_id} 2")
    assert new.startswith("Danke! Deine Stimme zählt"), new
    [same] = await other.say("eve", f"/vote {short_id} 2")
    assert same.startswith("Das hattest du schon gewählt"), same
    assert await counts_of(two, short_id) == [1, 1]


async def test_no_private_vote_beside_a_native_anonymous_poll_of_a_connected_account(
    database_url: str,
) -> None:
    """A native anonymous poll reports totals only: a person whose connected account
    can tap it there cannot also vote privately from the other network."""
    bot = await BotHarness.create(database_url, more=(FakeTransport(platform="other"),))
    try:
        group = await setup_ag(bot, lead="anna", members=("ben",))
        short_id = await start_poll(group, "anna", '/poll --anonymous "Fahren wir?" "Ja" "Nein"')
        await bot.dm("eve").say("eve", "/join ag2")
        await connect(bot, "eve")
        [refused] = await bot.dm("eve", "other").say("eve", f"/vote {short_id} 1")
        assert refused.startswith("Diese anonyme Umfrage läuft in der Gruppe"), refused
        assert await ballots_of(bot, short_id) == []
    finally:
        await bot.close()


# --- the database holds the rule --------------------------------------------------------------


async def test_the_database_refuses_a_second_ballot_of_one_account(two: BotHarness) -> None:
    group = await setup_ag(two, lead="anna", members=("ben",))
    short_id = await start_poll(group, "anna", '/poll "Fahren wir?" "Ja" "Nein"')
    await two.dm("ben").say("ben", f"/vote {short_id} 1")
    [ballot] = await ballots_of(two, short_id)
    with pytest.raises(IntegrityError):
        async with two.app.services.db.write() as session:
            session.add(
                PollBallot(poll_id=ballot.poll_id, account_id=ballot.account_id, counted=True)
            )
    with pytest.raises(IntegrityError):
        async with two.app.services.db.write() as session:
            session.add(
                PollBallot(
                    poll_id=ballot.poll_id,
                    account_id=ballot.account_id,
                    token="x" * 64,
                    counted=True,
                )
            )


_BEFORE = (
    "INSERT INTO person (id, created_at) VALUES (1, '2026-11-30'), (2, '2026-11-30')",
    "INSERT INTO account (id, person_id, platform, external_id, display_name,"
    " direct_reachable, created_at) VALUES (10, 1, 'telegram', '7', 'A', false, '2026-11-30'),"
    " (11, 2, 'matrix', '@b:x', 'B', false, '2026-11-30')",
    "INSERT INTO poll (id, short_id, kind, question, multi, anonymous, created_at, closed_at)"
    " VALUES (1, 'open', 'poll', 'Q', false, false, '2026-11-30', NULL),"
    " (2, 'done', 'poll', 'Q', false, false, '2026-11-30', '2026-12-01')",
    # Poll 1 runs: Anna's vote and one of a forgotten person; poll 2 is closed.
    "INSERT INTO poll_ballot (id, poll_id, person_id, platform, counted) VALUES"
    " (1, 1, 1, 'telegram', true), (2, 1, NULL, 'telegram', true),"
    " (3, 2, NULL, 'matrix', true), (4, 2, 2, 'matrix', true)",
    "INSERT INTO poll_choice (ballot_id, position, poll_id) VALUES"
    " (1, 0, 1), (2, 1, 1), (3, 1, 2), (4, 0, 2)",
)


async def test_the_migration_fills_in_accounts_and_drops_forgotten_running_votes(
    empty_database_url: str,
) -> None:
    database = Database(empty_database_url)

    def migrate(target: str, down: bool = False) -> object:
        def run(connection: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, target)

        return run

    async def rows(sql: str) -> list[tuple[object, ...]]:
        async with database.engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]

    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(migrate("0006"))
            for sql in _BEFORE:
                await conn.execute(text(sql))
        await database.upgrade()

        def ballot_drift(connection: Connection) -> list[object]:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            return [d for d in diffs if "poll_ballot" in repr(d)]

        async with database.engine.connect() as conn:
            assert await conn.run_sync(ballot_drift) == []
        assert await rows("SELECT id, person_id, account_id FROM poll_ballot ORDER BY id") == [
            (1, 1, 10),
            (3, None, None),
            (4, 2, 11),
        ]
        assert await rows("SELECT ballot_id FROM poll_choice ORDER BY ballot_id") == [
            (1,),
            (3,),
            (4,),
        ]
        for sql in (
            "INSERT INTO poll_ballot (poll_id, account_id, counted) VALUES (1, 10, true)",
            "INSERT INTO poll_ballot (poll_id, account_id, token, counted)"
            " VALUES (2, 10, 'x', true)",
        ):
            with pytest.raises(IntegrityError):
                async with database.engine.begin() as conn:
                    await conn.execute(text(sql))
        # Back down and up again: the choices survive (SQLite recreates the table).
        async with database.engine.begin() as conn:
            await conn.run_sync(migrate("0006", down=True))
        assert len(await rows("SELECT * FROM poll_choice")) == 3
        await database.upgrade()
        assert len(await rows("SELECT * FROM poll_choice")) == 3
    finally:
        await database.dispose()
