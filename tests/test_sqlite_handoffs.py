"""The command path on SQLite in as few trips to aiosqlite's thread as SQLAlchemy allows
(storage/sqlite_connection.py): each trip is two wake-ups of the event loop, and they were
most of what a command cost on Telegram (benchmark 1b). Counted, so it cannot creep back;
and the one-trip cursor still behaves as a cursor (rows, rowcount, RETURNING, rollback)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from tests.support.fake import BotHarness


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call aiosqlite hands to a connection's thread, by name, from now on."""
    seen: list[str] = []
    handed = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__qualname__", repr(fn)))
        return await handed(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    yield seen


async def test_a_known_members_join_and_leave_are_one_trip_each(
    bot: BotHarness, trips: list[str]
) -> None:
    """A known member's `/join` and a member's `/leave` are transactions of one statement:
    one trip to the SQLite writer's thread each with its commit, none to aiosqlite's
    (storage/sqlite_writer.py; was 4 and 5 trips, then 1 and 2)."""
    writer = bot.app.services.db._writer
    assert writer is not None
    group = bot.group()
    await group.say("anna", "/join ag2")  # anna is known from now on
    await group.say("anna", "/leave ag2")
    trips.clear()
    batches = writer.batches
    replies = await group.say("anna", "/join ag2")
    assert replies[0].startswith("Willkommen in der AG Transparenz und Beteiligung (ag2)!")
    assert (trips, writer.batches - batches) == ([], 1)
    assert await group.say("anna", "/join ag2") == [
        "Du bist schon in der AG Transparenz und Beteiligung (ag2)."
    ]
    assert (trips, writer.batches - batches) == ([], 2)
    assert (await group.say("anna", "/leave ag2"))[0].startswith(
        "Du hast die AG Transparenz und Beteiligung (ag2) verlassen."
    )
    assert (trips, writer.batches - batches) == ([], 3)
    assert await group.say("anna", "/leave ag2") == [
        "Du bist nicht in der AG Transparenz und Beteiligung (ag2)."
    ]


async def test_my_is_one_trip(bot: BotHarness, trips: list[str]) -> None:
    group = bot.group()
    await group.say("anna", "/join ag2")
    await group.say("anna", "/start")  # the group's language is cached from now on
    trips.clear()
    replies = await group.say("anna", "/my")
    assert replies == ["Deine AGs:\n• Transparenz und Beteiligung (ag2) – Mitglied"]
    assert len(trips) == 1, trips  # the query; no rollback of a read (was 5)


async def test_my_again_is_no_trip_and_still_sees_every_change(
    bot: BotHarness, trips: list[str]
) -> None:
    """The person's AGs stay in memory between writes of memberships and AGs
    (storage/membership_cache.py): on a busy machine the read's trip was most of `!my`."""
    group = bot.group()
    await group.say("anna", "/join ag2")
    first = await group.say("anna", "/my")
    trips.clear()
    assert await group.say("anna", "/my") == first
    assert trips == []
    await group.say("anna", "/join ag3")
    assert await group.say("anna", "/my") == [
        "Deine AGs:\n• Transparenz und Beteiligung (ag2) – Mitglied\n"
        "• Interne Struktur und Vernetzung (ag3) – Mitglied"
    ]
    await group.say("anna", "/leave ag2")
    await group.say("anna", "/leave ag3")
    assert (await group.say("anna", "/my"))[0].startswith("Du bist noch in keiner AG.")


async def _db(tmp_path: Any) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/cursor.db")
    async with db.write() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    return db


async def test_the_one_trip_cursor_reports_rows_counts_and_returning(tmp_path: Any) -> None:
    db = await _db(tmp_path)
    try:
        async with db.write() as session:
            inserted = await session.execute(
                text("INSERT INTO t (name) VALUES ('a'), ('b'), ('c') RETURNING id, name")
            )
            assert [tuple(r) for r in inserted] == [(1, "a"), (2, "b"), (3, "c")]
            updated = await session.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
            assert updated.rowcount == 2  # type: ignore[attr-defined]
            await session.execute(
                text("INSERT INTO t (name) VALUES (:n)"), [{"n": "d"}, {"n": "e"}]
            )
        async with db.read() as session:
            rows = (await session.execute(text("SELECT name FROM t ORDER BY id"))).scalars()
            assert list(rows) == ["a", "b!", "c!", "d", "e"]
            first = (await session.execute(text("SELECT name FROM t ORDER BY id"))).first()
            assert first is not None and first[0] == "a"
            assert (await session.execute(text("SELECT name FROM t WHERE id = 99"))).first() is None
    finally:
        await db.dispose()


async def test_a_failed_write_is_rolled_back_and_the_next_one_starts_clean(tmp_path: Any) -> None:
    db = await _db(tmp_path)
    try:
        with pytest.raises(IntegrityError):
            async with db.write() as session:
                await session.execute(text("INSERT INTO t (name) VALUES ('x')"))
                await session.execute(text("INSERT INTO t (name) VALUES ('x')"))
        async with db.write() as session:
            await session.execute(text("INSERT INTO t (name) VALUES ('y')"))
        async with db.read() as session:
            names = (await session.execute(text("SELECT name FROM t"))).scalars()
            assert list(names) == ["y"]  # the first 'x' went with its transaction
    finally:
        await db.dispose()


async def test_a_write_cancelled_while_the_thread_works_is_not_left_open(tmp_path: Any) -> None:
    """A write cancelled while its first statement runs in the thread (the one that opens
    the transaction) leaves nothing behind, and the next write works."""
    db = await _db(tmp_path)
    try:

        async def slow_write() -> None:
            async with db.write() as session:  # the first write opens the transaction
                await session.execute(
                    text(
                        "INSERT INTO t (name) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL "
                        "SELECT i + 1 FROM c WHERE i < 2000000) SELECT 'n' || i FROM c"
                    )
                )

        task = asyncio.create_task(slow_write())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.write() as session:
            await session.execute(text("INSERT INTO t (name) VALUES ('w')"))
        async with db.read() as session:
            names = (await session.execute(text("SELECT name FROM t"))).scalars()
            assert list(names) == ["w"]
    finally:
        await db.dispose()
