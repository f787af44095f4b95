"""Anonymous polls: native totals and private votes merge, votes are refused where they
would show or count twice, and nothing names a voter, not even the keyed hash after the
close; the key of those hashes."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Secret, Settings
from handlers.polls.secret import account_token
from storage.models import Account, Base
from tests.support.fake import BotHarness
from tests.support.poll_chat import (
    ballots_of,
    counts_of,
    native_counts,
    native_vote,
    poll_row,
    start_poll,
    two_networks,
)

WANN = '/poll "Wann?" "Di" "Mi" "Do"'


@pytest.fixture
async def two(sqlite_url: str) -> AsyncIterator[BotHarness]:
    harness = await two_networks(sqlite_url)
    yield harness
    await harness.close()


# --- anonymous polls -----------------------------------------------------------------------


async def test_anonymous_native_totals_and_private_votes_merge(two: BotHarness) -> None:
    bot = two
    short_id = await start_poll(bot.group("tg"), "anna", WANN + " --anonymous")
    [(tg_poll, spec)] = bot.transport.polls
    assert spec.anonymous and bot.transports["other"].polls == []

    await native_counts(bot, tg_poll.native_id or "", (2, 1, 0), 3)
    await native_counts(bot, tg_poll.native_id or "", (3, 1, 0), 4)  # replaces, not adds
    assert await bot.dm("olga", "other").say("olga", f"!vote {short_id} 3") == [
        "Danke! Deine Stimme zählt: „Do“ (anonym gespeichert)"
    ]

    assert await counts_of(bot, short_id) == [3, 1, 1]
    [result] = await bot.dm("anna").say("anna", f"/results {short_id}")
    assert "5 Stimmen: privat 1 · Fake 4" in result
    assert "Anonym: niemand sieht, wer wie abgestimmt hat." in result
    assert "Noch nicht abgestimmt" not in result


async def test_anonymous_votes_are_refused_in_a_group(two: BotHarness) -> None:
    bot = two
    short_id = await start_poll(bot.group("tg"), "anna", WANN + " --anonymous")

    assert await bot.group("room", "other").say("olga", f"!vote {short_id} 1") == [
        "Diese Umfrage ist anonym: schreib mir deine Antwort bitte im privaten Chat, sonst "
        "sehen alle hier, wie du abstimmst. Diese Nachricht habe ich nicht gezählt."
    ]
    assert await counts_of(bot, short_id) == [0, 0, 0]


async def test_anonymous_private_votes_refused_where_the_native_poll_counts(
    two: BotHarness,
) -> None:
    bot = two
    short_id = await start_poll(bot.group("tg"), "anna", WANN + " --anonymous")

    assert await bot.dm("ben").say("ben", f"/vote {short_id} 1") == [
        "Diese anonyme Umfrage läuft in der Gruppe deiner AG als Umfrage zum Antippen – "
        "stimm bitte dort ab."
    ]


async def test_a_named_vote_for_an_anonymous_poll_is_dropped(two: BotHarness) -> None:
    bot = two
    short_id = await start_poll(bot.group("tg"), "anna", WANN + " --anonymous")
    [(tg_poll, _)] = bot.transport.polls

    await native_vote(bot, tg_poll.native_id or "", "ben", 0)

    assert await ballots_of(bot, short_id) == []


async def test_anonymous_polls_store_no_identity_anywhere(
    two: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """After anonymous votes (one changed), no row that belongs to the poll names a voter
    (person, account, network), no log line does, and after the close not even the keyed
    hash is left."""
    for name in ("bot", "handlers", "storage"):
        caplog.set_level(logging.DEBUG, logger=name)
    bot = two
    short_id = await start_poll(bot.group("tg"), "anna", WANN + " --anonymous")
    for who, answer in (("olga", "1"), ("otto", "2"), ("olga", "3")):
        await bot.dm(who, "other").say(who, f"!vote {short_id} {answer}")
    assert await counts_of(bot, short_id) == [0, 1, 1]
    ballots = await ballots_of(bot, short_id)
    assert [(b.person_id, b.platform, b.cast_at) for b in ballots] == [(None, None, None)] * 2
    assert all(b.token for b in ballots), "while open: a keyed hash, to replace a changed vote"

    await bot.dm("anna").say("anna", f"/close {short_id}")

    assert [b.token for b in await ballots_of(bot, short_id)] == [None, None]
    poll = await poll_row(bot, short_id)
    ballot_ids = {b.id for b in ballots}
    async with bot.app.services.db.read() as session:
        voters = {
            a.person_id: a.external_id
            for a in await session.scalars(
                select(Account).where(
                    Account.platform == "other", Account.external_id.in_(("olga", "otto"))
                )
            )
        }
    assert set(voters.values()) == {"olga", "otto"}
    checked = 0
    async with bot.app.services.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in (await conn.execute(select(table))).mappings():
                belongs = row.get("poll_id") == poll.id or row.get("ballot_id") in ballot_ids
                if table.name == "poll":
                    belongs = row["id"] == poll.id
                if not belongs:
                    continue
                checked += 1
                for column in table.columns:
                    value = row[column.name]
                    if any(fk.column.table.name == "person" for fk in column.foreign_keys):
                        assert value not in voters, (table.name, column.name)
                    assert value not in {"olga", "otto", "Olga", "Otto"}, (table.name, column.name)
                    if table.name in ("poll_ballot", "poll_choice"):
                        assert value != "other", "not even the voters' network"
    assert checked >= 6  # poll, options, messages, ballots, choices
    assert not any(name in caplog.text for name in ("olga", "otto", "Olga", "Otto"))


# --- the key of the anonymous-vote hashes ------------------------------------------------------


async def test_the_hash_key_is_created_once_outside_the_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db' / 'bot.db'}")
    assert settings.key_file == tmp_path / "db" / "secret.key"

    first = await account_token(settings, 1, "telegram", "7")

    assert settings.key_file.stat().st_mode & 0o777 == 0o600
    assert await account_token(settings, 1, "telegram", "7") == first
    assert await account_token(settings, 2, "telegram", "7") != first
    assert await account_token(settings, 1, "telegram", "8") != first
    assert await account_token(settings, 1, "matrix", "7") != first
    assert len(first) == 64 and int(first, 16) >= 0
    configured = dataclasses.replace(settings, secret_key=Secret("from-the-environment"))
    assert await account_token(configured, 1, "telegram", "7") != first


def test_with_postgresql_the_key_file_lies_beside_the_heartbeat(tmp_path: Path) -> None:
    settings = Settings(
        database_url="postgresql+asyncpg://bot@db/bot", heartbeat_file=tmp_path / "heartbeat"
    )
    assert settings.key_file == tmp_path / "secret.key"
    assert dataclasses.replace(settings, secret_key_file=Path("/k")).key_file == Path("/k")
