"""Link tokens in the database: only a keyed hash is stored; a token is found while it
is live (not revoked, not expired, of the purpose asked for); a merge of two people keeps
one personal feed; `/forget` leaves none. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handlers.calendar.tokens import digest_with, new_token
from storage import repo
from storage.connect.merge import merge
from storage.db import Database
from storage.web import tokens
from storage.web.models import WebToken

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
KEY = b"test-key"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.dispose()


async def person(db: Database, name: str) -> int:
    async def work(session: repo.Session) -> int:
        return (await repo.ensure_account(session, "fake", name, name)).person_id

    return await db.run(work)


async def issue(db: Database, person_id: int, scope: str, **more: object) -> str:
    token = new_token()

    async def work(session: repo.Session) -> None:
        await tokens.issue(
            session,
            digest=digest_with(KEY, token),
            purpose=str(more.get("purpose", "feed")),
            person_id=person_id,
            scope=scope,
            now=NOW,
            expires_at=more.get("expires_at"),  # type: ignore[arg-type]
        )

    await db.run(work)
    return token


async def found(db: Database, token: str, purpose: str = "feed", now: datetime = NOW) -> bool:
    async with db.read() as session:
        return await tokens.find(session, digest_with(KEY, token), purpose, now) is not None


async def test_only_a_keyed_hash_is_stored_and_found_while_live(db: Database) -> None:
    anna = await person(db, "anna")
    token = await issue(db, anna, "mine:all")
    page = await issue(db, anna, "poll:1", purpose="page", expires_at=NOW + timedelta(days=1))
    async with db.read() as session:
        stored = list(await session.scalars(select(WebToken.digest)))
    assert token not in "".join(stored) and len(stored[0]) == 64
    assert digest_with(b"other-key", token) not in stored  # the key matters
    assert await found(db, token)
    assert not await found(db, token, purpose="page")  # a feed link opens no page
    assert await found(db, page, purpose="page")
    assert not await found(db, page, purpose="page", now=NOW + timedelta(days=1))  # expired
    assert not await found(db, new_token())

    async def revoke(session: repo.Session) -> int:
        return await tokens.revoke(session, anna, "feed", ("mine:all", "mine:going"), NOW)

    assert await db.run(revoke) == 1
    assert not await found(db, token)


async def test_a_merge_keeps_one_personal_feed_and_every_ag_feed(db: Database) -> None:
    keep, absorb = await person(db, "anna"), await person(db, "anna2")
    mine = await issue(db, keep, "mine:all")
    theirs = await issue(db, absorb, "mine:going")
    ag_feed = await issue(db, absorb, "ag:2")

    async def work(session: repo.Session) -> None:
        await merge(session, keep, absorb)

    await db.run(work)
    assert await found(db, mine) and await found(db, ag_feed)
    assert not await found(db, theirs)
    async with db.read() as session:
        owners = set(await session.scalars(select(WebToken.person_id)))
        assert owners == {keep}
        assert (await tokens.live(session, keep, "feed", ("mine:all", "mine:going"))) is not None
