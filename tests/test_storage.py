"""Storage on both back-ends: every test here runs on SQLite and on PostgreSQL (the schema,
its migrations and the seed: test_storage_schema.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.db import Database
from storage.models import Account, Ag, AgChat, Chat, Membership, Person, Role
from storage.seed import seed_ags
from tests.support.fake import ROOT, BotHarness

AGS_FILE = ROOT / "config" / "ags.toml"
SUPERGROUP = "-1001234567890123"
BIG_USER = "7000000000"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    async with database.write() as session:
        await seed_ags(session, AGS_FILE)
    yield database
    await database.dispose()


async def count(db: Database, model: type[object]) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def person(session: AsyncSession, who: str) -> int:
    account = await repo.ensure_account(session, "telegram", who, who.title(), who)
    return account.person_id


async def ag_id(db: Database, slug: str) -> int:
    async with db.read() as session:
        found = await repo.ag_by_slug(session, slug)
    assert found is not None
    return found.id


# --- people, accounts, chats -------------------------------------------------------------


async def test_ensure_account_is_idempotent_and_follows_renames(db: Database) -> None:
    async with db.write() as session:
        first = await repo.ensure_account(session, "telegram", BIG_USER, "Anna", "anna")
    async with db.write() as session:
        again = await repo.ensure_account(session, "telegram", BIG_USER, "Anna", "anna")
    async with db.write() as session:
        renamed = await repo.ensure_account(session, "telegram", BIG_USER, "Anna B.", "anna_b")

    assert again.id == first.id == renamed.id
    assert again.person_id == first.person_id
    assert await count(db, Account) == 1
    assert await count(db, Person) == 1
    async with db.read() as session:
        stored = await repo.find_account(session, "telegram", BIG_USER)
        by_name = await repo.accounts_by_username(session, "telegram", "ANNA_B")
    assert stored is not None
    assert (stored.display_name, stored.username) == ("Anna B.", "anna_b")
    assert [a.id for a in by_name] == [first.id]


async def test_the_same_id_on_two_networks_is_two_accounts(db: Database) -> None:
    async with db.write() as session:
        telegram = await repo.ensure_account(session, "telegram", "42", "Anna")
        matrix = await repo.ensure_account(session, "matrix", "42", "Anna")
    assert telegram.person_id != matrix.person_id
    assert await count(db, Account) == 2


async def test_an_overlong_display_name_is_cut_not_rejected(db: Database) -> None:
    async with db.write() as session:
        account = await repo.ensure_account(session, "telegram", "1", "A" * 500)
    assert len(account.display_name) == 120


async def test_ensure_chat_is_idempotent_and_keeps_the_title_current(db: Database) -> None:
    async with db.write() as session:
        first = await repo.ensure_chat(session, "telegram", SUPERGROUP, "AG 2", False)
    async with db.write() as session:
        again = await repo.ensure_chat(session, "telegram", SUPERGROUP, "AG 2 – Transparenz", False)

    assert again.id == first.id
    assert await count(db, Chat) == 1
    async with db.read() as session:
        stored = await repo.find_chat(session, "telegram", SUPERGROUP)
    assert stored is not None
    assert stored.title == "AG 2 – Transparenz"


async def test_telegram_sized_ids_round_trip(db: Database) -> None:
    ag2 = await ag_id(db, "ag2")
    async with db.write() as session:
        account = await repo.ensure_account(session, "telegram", BIG_USER, "Anna", None)
        chat = await repo.ensure_chat(session, "telegram", SUPERGROUP, "AG 2", False)
        await repo.join(session, account.person_id, ag2)
        await repo.link(session, ag2, chat.id)

    async with db.read() as session:
        found = await repo.find_account(session, "telegram", BIG_USER)
        assert found is not None
        assert found.external_id == BIG_USER
        assert int(found.external_id) == 7_000_000_000
        assert [a.slug for a in await repo.linked_ags(session, "telegram", SUPERGROUP)] == ["ag2"]
        [stored_chat] = await repo.chats_of_ag(session, ag2)
        assert int(stored_chat.external_id) == -1001234567890123


async def test_language_and_direct_reachability_are_stored(db: Database) -> None:
    async with db.write() as session:
        anna = await person(session, "anna")
        await repo.set_language(session, anna, "en")
        await repo.set_direct_reachable(session, "telegram", "anna", True)
    async with db.read() as session:
        assert await repo.person_language(session, anna) == "en"
        account = await repo.find_account(session, "telegram", "anna")
    assert account is not None
    assert account.direct_reachable


# --- memberships --------------------------------------------------------------------------


async def test_join_leave_and_roles(db: Database) -> None:
    ag2, ag3 = await ag_id(db, "ag2"), await ag_id(db, "ag3")
    async with db.write() as session:
        anna = await person(session, "anna")
        assert await repo.join(session, anna, ag2)
        assert not await repo.join(session, anna, ag2), "a second join changes nothing"
        assert await repo.set_role(session, anna, ag3, Role.LEAD), "set_role joins if needed"
        assert not await repo.set_role(session, anna, ag3, Role.LEAD)

    async with db.read() as session:
        mine = await repo.memberships_of(session, anna)
        assert [(a.slug, role) for a, role in mine] == [("ag2", "member"), ("ag3", "lead")]
        assert await repo.count_leads(session, ag3) == 1

    async with db.write() as session:
        assert await repo.leave(session, anna, ag2)
        assert not await repo.leave(session, anna, ag2)
        assert await repo.set_role(session, anna, ag3, Role.MEMBER)
    async with db.read() as session:
        assert [(a.slug, r) for a, r in await repo.memberships_of(session, anna)] == [
            ("ag3", "member")
        ]
        assert await repo.count_leads(session, ag3) == 0


@pytest.mark.parametrize("returning", [True, False], ids=["returning", "sqlite-before-3.35"])
async def test_leave_tells_the_role_that_was_left(
    db: Database, monkeypatch: pytest.MonkeyPatch, returning: bool
) -> None:
    monkeypatch.setattr(db.engine.dialect, "delete_returning", returning)
    ag2, ag3 = await ag_id(db, "ag2"), await ag_id(db, "ag3")
    async with db.write() as session:
        anna = await person(session, "anna")
        await repo.join(session, anna, ag2)
        await repo.set_role(session, anna, ag3, Role.LEAD)
    async with db.write() as session:
        assert await repo.leave(session, anna, ag2) == "member"
        assert await repo.leave(session, anna, ag3) == "lead"
        assert await repo.leave(session, anna, ag3) is None
    async with db.read() as session:
        assert await repo.memberships_of(session, anna) == []


async def test_members_of_lists_leads_first_then_by_name(db: Database) -> None:
    ag2 = await ag_id(db, "ag2")
    async with db.write() as session:
        for who in ("bert", "Anna", "zora"):
            await repo.join(session, await person(session, who), ag2)
        await repo.set_role(session, await person(session, "zora"), ag2, Role.LEAD)

    async with db.read() as session:
        rows = await repo.members_of(session, ag2)
    assert [(r.accounts[0].display_name, r.role) for r in rows] == [
        ("Zora", "lead"),
        ("Anna", "member"),
        ("Bert", "member"),
    ]


async def test_list_ags_counts_members_and_hides_archived(db: Database) -> None:
    ag2, ag3 = await ag_id(db, "ag2"), await ag_id(db, "ag3")
    async with db.write() as session:
        for who in ("anna", "bert"):
            await repo.join(session, await person(session, who), ag2)
        await repo.join(session, await person(session, "anna"), ag3)
        archived = await session.get(Ag, ag3)
        assert archived is not None
        archived.archived = True

    async with db.read() as session:
        active = await repo.list_ags(session)
        everything = await repo.list_ags(session, include_archived=True)
    assert [(s.ag.slug, s.members) for s in active] == [("ag1", 0), ("ag2", 2)]
    assert [(s.ag.slug, s.members) for s in everything] == [("ag1", 0), ("ag2", 2), ("ag3", 1)]


async def test_deleting_a_person_removes_their_accounts_and_memberships(db: Database) -> None:
    ag2 = await ag_id(db, "ag2")
    async with db.write() as session:
        anna = await person(session, "anna")
        await repo.join(session, anna, ag2)
    async with db.write() as session:
        row = await session.get(Person, anna)
        assert row is not None
        await session.delete(row)

    assert await count(db, Account) == 0
    assert await count(db, Membership) == 0


# --- chats and links ---------------------------------------------------------------------


async def test_link_unlink_and_lookups(db: Database) -> None:
    ag2, ag3 = await ag_id(db, "ag2"), await ag_id(db, "ag3")
    async with db.write() as session:
        group = await repo.ensure_chat(session, "telegram", SUPERGROUP, "AG 2", False)
        room = await repo.ensure_chat(session, "matrix", "!abc:example.org", "AG 2", False)
        assert await repo.link(session, ag2, group.id)
        assert not await repo.link(session, ag2, group.id)
        assert await repo.link(session, ag2, room.id)
        assert await repo.link(session, ag3, room.id)

    async with db.read() as session:
        assert [c.external_id for c in await repo.chats_of_ag(session, ag2)] == [
            "!abc:example.org",
            SUPERGROUP,
        ]
        assert [a.slug for a in await repo.linked_ags(session, "matrix", "!abc:example.org")] == [
            "ag2",
            "ag3",
        ]

    async with db.write() as session:
        assert await repo.unlink(session, ag3, room.id)
        assert not await repo.unlink(session, ag3, room.id)
    async with db.read() as session:
        assert [a.slug for a in await repo.linked_ags(session, "matrix", "!abc:example.org")] == [
            "ag2"
        ]
        assert await repo.chats_of_ag(session, ag3) == []


async def test_migrate_chat_moves_the_links_to_the_new_id(db: Database) -> None:
    ag2 = await ag_id(db, "ag2")
    async with db.write() as session:
        old = await repo.ensure_chat(session, "telegram", "-4567", "AG 2", False)
        await repo.link(session, ag2, old.id)

    async with db.write() as session:
        assert await repo.migrate_chat(session, "telegram", "-4567", SUPERGROUP)

    async with db.read() as session:
        assert await repo.find_chat(session, "telegram", "-4567") is None
        assert [a.slug for a in await repo.linked_ags(session, "telegram", SUPERGROUP)] == ["ag2"]
    assert await count(db, Chat) == 1


async def test_migrate_chat_merges_into_an_already_known_new_chat(db: Database) -> None:
    ag2, ag3 = await ag_id(db, "ag2"), await ag_id(db, "ag3")
    async with db.write() as session:
        old = await repo.ensure_chat(session, "telegram", "-4567", "AG 2", False)
        old.language = "en"
        new = await repo.ensure_chat(session, "telegram", SUPERGROUP, "AG 2", False)
        await repo.link(session, ag2, old.id)
        await repo.link(session, ag3, old.id)
        await repo.link(session, ag2, new.id)

    async with db.write() as session:
        assert await repo.migrate_chat(session, "telegram", "-4567", SUPERGROUP)

    async with db.read() as session:
        assert await repo.find_chat(session, "telegram", "-4567") is None
        merged = await repo.find_chat(session, "telegram", SUPERGROUP)
        assert merged is not None
        assert merged.language == "en"
        assert [a.slug for a in await repo.linked_ags(session, "telegram", SUPERGROUP)] == [
            "ag2",
            "ag3",
        ]
    assert await count(db, Chat) == 1
    assert await count(db, AgChat) == 2


async def test_migrate_of_an_unknown_chat_is_a_no_op(db: Database) -> None:
    async with db.write() as session:
        assert not await repo.migrate_chat(session, "telegram", "-1", SUPERGROUP)
    assert await count(db, Chat) == 0


# --- concurrency through the whole bot -----------------------------------------------------


async def test_a_hundred_people_join_at_once(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await BotHarness.create(database_url)
    try:
        group = bot.group("ag2-gruppe")
        with caplog.at_level(logging.DEBUG, logger="storage.db"):
            await asyncio.gather(*(group.say(f"person{i}", "/join ag2") for i in range(100)))

        replies = [s.text for s in bot.transport.sent]
        assert len(replies) == 100
        assert all(r.startswith("Willkommen in der AG Transparenz") for r in replies), {
            r for r in replies if not r.startswith("Willkommen")
        }
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert "database is locked" not in caplog.text
        assert "retrying" not in caplog.text
        async with bot.app.services.db.read() as session:
            assert (
                len(await repo.members_of(session, await ag_id(bot.app.services.db, "ag2"))) == 100
            )
        assert await count(bot.app.services.db, Membership) == 100
        assert await count(bot.app.services.db, Person) == 100
    finally:
        await bot.close()


async def test_one_person_joining_from_two_chats_at_once_is_one_member(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await BotHarness.create(database_url)
    try:
        with caplog.at_level(logging.WARNING):
            replies = await asyncio.gather(
                bot.group("ag2-gruppe").say("anna", "/join ag2"),
                bot.dm("anna").say("anna", "/join ag2"),
            )

        texts = sorted(s.text.split("!")[0].split(".")[0] for s in bot.transport.sent)
        assert texts == [
            "Du bist schon in der AG Transparenz und Beteiligung (ag2)",
            "Willkommen in der AG Transparenz und Beteiligung (ag2)",
        ], replies
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        db = bot.app.services.db
        assert await count(db, Person) == 1
        assert await count(db, Account) == 1
        assert await count(db, Membership) == 1
    finally:
        await bot.close()
