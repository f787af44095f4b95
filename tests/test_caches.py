"""The in-memory caches of AGs and senders: every write to their tables, however it is
made, is seen by the next read; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select, text

from storage import repo
from storage.ag_cache import AgCache
from storage.connect.merge import merge
from storage.db import Database
from storage.models import Ag
from storage.privacy.forget import forget
from storage.seed import seed_ags
from storage.sender_cache import SenderCache
from tests.support.fake import ROOT, BotHarness


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    async with database.write() as session:
        await seed_ags(session, ROOT / "config" / "ags.toml")
    yield database
    await database.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def names(cache: AgCache, *, include_archived: bool = False) -> dict[str, str]:
    return {ag.slug: ag.name for ag in await cache.all(include_archived=include_archived)}


async def test_a_second_read_is_served_from_memory(db: Database) -> None:
    cache = AgCache(db)
    first = await cache.all()
    statements = recorder(db)
    second = await cache.all()
    assert [ag.slug for ag in second] == [ag.slug for ag in first]
    assert statements == []


async def test_orm_insert_and_update_are_seen_at_once(db: Database) -> None:
    cache = AgCache(db)
    assert "energie" not in await names(cache)
    async with db.write() as session:
        session.add(Ag(slug="energie", name="Energie", description=""))
    assert (await names(cache))["energie"] == "Energie"
    async with db.write() as session:
        row = await session.scalar(select(Ag).where(Ag.slug == "energie"))
        assert row is not None
        row.archived = True
    assert "energie" not in await names(cache)
    assert "energie" in await names(cache, include_archived=True)


async def test_raw_sql_writes_are_seen(db: Database) -> None:
    cache = AgCache(db)
    await cache.all()
    async with db.write() as session:
        await session.execute(text("UPDATE ag SET name = 'Umbenannt' WHERE slug = 'ag2'"))
    assert (await names(cache))["ag2"] == "Umbenannt"
    async with db.write() as session:
        await session.execute(text("DELETE FROM membership"))
        await session.execute(text("DELETE FROM ag_chat"))
        await session.execute(text("delete from ag where slug = 'ag2'"))
    assert "ag2" not in await names(cache)


async def test_a_rolled_back_write_leaves_the_old_list(db: Database) -> None:
    cache = AgCache(db)
    before = await names(cache)
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await session.execute(text("UPDATE ag SET name = 'Nie' WHERE slug = 'ag2'"))
            raise RuntimeError("abort")
    assert await names(cache) == before


async def test_a_read_during_an_uncommitted_write_is_not_kept(db: Database) -> None:
    """A reader that sees the old list while a write is open must not keep it past the
    commit."""
    cache = AgCache(db)
    wrote = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with db.write() as session:
            await session.execute(text("UPDATE ag SET name = 'Neu' WHERE slug = 'ag2'"))
            wrote.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await wrote.wait()
    assert (await names(cache))["ag2"] != "Neu"  # not committed yet
    release.set()
    await task
    assert (await names(cache))["ag2"] == "Neu"


async def test_changes_from_elsewhere_are_seen_after_max_age(db: Database) -> None:
    clock = Clock()
    cache = AgCache(db, max_age=30, clock=clock)
    await cache.all()
    other = Database(db.url)  # another process: its writes are invisible to this engine
    try:
        async with other.write() as session:
            await session.execute(text("UPDATE ag SET name = 'Anderswo' WHERE slug = 'ag2'"))
        clock.now = 29
        assert (await names(cache))["ag2"] != "Anderswo"
        clock.now = 31
        assert (await names(cache))["ag2"] == "Anderswo"
    finally:
        await other.dispose()


# --- senders -------------------------------------------------------------------------


def recorder(db: Database) -> list[str]:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    for engine in db.sql_engines:  # the SQLite writer's too (Database.statement)
        event.listen(engine, "before_cursor_execute", record)
    return statements


async def new_person(db: Database, external_id: str, platform: str = "telegram") -> int:
    async with db.write() as session:
        account = await repo.ensure_account(session, platform, external_id, external_id.title())
        return account.person_id


async def test_a_known_sender_is_read_once(db: Database) -> None:
    cache = SenderCache(db)
    person = await new_person(db, "anna")
    first = await cache.lookup("telegram", "anna")
    assert first is not None and first.person_id == person
    statements = recorder(db)
    assert await cache.lookup("telegram", "anna") == first
    assert statements == []


async def test_a_stranger_becomes_known_at_their_first_account(db: Database) -> None:
    cache = SenderCache(db)
    assert await cache.lookup("telegram", "bernd") is None
    person = await new_person(db, "bernd")
    found = await cache.lookup("telegram", "bernd")
    assert found is not None and found.person_id == person


async def test_language_and_direct_reach_changes_are_seen(db: Database) -> None:
    cache = SenderCache(db)
    person = await new_person(db, "carla")
    before = await cache.lookup("telegram", "carla")
    assert before is not None and (before.language, before.direct_reachable) == (None, False)
    async with db.write() as session:
        await repo.set_language(session, person, "en")
    after = await cache.lookup("telegram", "carla")
    assert after is not None and after.language == "en"
    async with db.write() as session:
        await repo.set_direct_reachable(session, "telegram", "carla", True)
    reachable = await cache.lookup("telegram", "carla")
    assert reachable is not None and reachable.direct_reachable


async def test_merged_and_forgotten_people_are_seen(db: Database) -> None:
    cache = SenderCache(db)
    keep = await new_person(db, "dora", "telegram")
    absorb = await new_person(db, "@dora:example.org", "matrix")
    assert (await cache.lookup("matrix", "@dora:example.org")) is not None
    async with db.write() as session:
        await merge(session, keep, absorb)
    merged = await cache.lookup("matrix", "@dora:example.org")
    assert merged is not None and merged.person_id == keep
    async with db.write() as session:
        await forget(session, keep, datetime.now(UTC))
    assert await cache.lookup("telegram", "dora") is None
    assert await cache.lookup("matrix", "@dora:example.org") is None


async def test_the_sender_cache_keeps_at_most_size_entries(db: Database) -> None:
    cache = SenderCache(db, size=2)
    for name in ("e1", "e2", "e3"):
        await new_person(db, name)
    for name in ("e1", "e2", "e3"):
        assert await cache.lookup("telegram", name) is not None
    assert len(cache) == 2


# --- the command path ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["group", "dm"])
async def test_a_known_members_join_is_one_statement(database_url: str, where: str) -> None:
    """With warm caches, `/join` reads nothing: its only SQL is the membership insert
    (a private chat included: reachability is written once, not at every command). On
    PostgreSQL the transaction also tells the other processes which cached table it
    wrote (storage/notify.py), so their caches see the change at once."""
    bot = await BotHarness.create(database_url)
    try:
        chat = bot.group() if where == "group" else bot.dm("anna")
        await chat.say("anna", "/join ag2")
        await chat.say("anna", "/leave ag2")
        statements = recorder(bot.app.services.db)
        replies = await chat.say("anna", "/join ag2")
        assert "Willkommen in der AG" in replies[0]
        expected = [["INSERT", "INTO", "membership"]]
        if not bot.app.services.db.is_sqlite:
            expected.append(["SELECT", "pg_notify($1,", "$2)"])
        assert [s.split()[0:3] for s in statements] == expected
    finally:
        await bot.close()
