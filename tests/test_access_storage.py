"""The queries behind join requests and removal, on SQLite and PostgreSQL: a request to a
forum group counts the AGs of all its topics (and nothing of a group whose id merely
looks alike to a LIKE pattern), and someone leaving one AG stays where another AG of theirs is linked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage import repo
from storage.access.gate import request_facts, still_belongs
from storage.membership import link_chat
from tests.support.fake import BotHarness


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.create(database_url)
    yield harness
    await harness.close()


async def test_a_request_counts_every_topic_of_the_group(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag3")
    db = bot.app.services.db
    async with db.write() as session:
        ags = {ag.slug: ag for ag in await repo.all_ags(session)}
        await link_chat(session, ags["ag2"].id, "fake", "-100_1", "Gruppe", False)
        await link_chat(session, ags["ag3"].id, "fake", "-100_1/77", "Gruppe / AG 3", False)
        await link_chat(session, ags["ag1"].id, "fake", "-100x1/5", "Andere Gruppe", False)
    async with db.read() as session:
        facts = await request_facts(session, "fake", "-100_1", "alice")
        other = await request_facts(session, "fake", "-100_1", "bob")
        nothing = await request_facts(session, "fake", "-100", "alice")
    assert [ag.slug for ag in facts.ags] == ["ag2", "ag3"]
    assert [ag.slug for ag in facts.member_of] == ["ag3"]
    assert [c.external_id for c in facts.chats(ags["ag3"].id)] == ["-100_1/77"]
    assert other.member_of == [] and len(other.chats()) == 2
    assert nothing.ags == []


async def test_still_belongs_through_another_ag_of_the_same_group(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag2 ag3")
    db = bot.app.services.db
    async with db.write() as session:
        ags = {ag.slug: ag for ag in await repo.all_ags(session)}
        await link_chat(session, ags["ag2"].id, "fake", "-100_1/10", "AG 2", False)
        await link_chat(session, ags["ag3"].id, "fake", "-100_1/77", "AG 3", False)
        await link_chat(session, ags["ag2"].id, "fake", "eigener", "Eigener Chat", False)
    async with db.read() as session:
        person = (await repo.find_account(session, "fake", "alice")).person_id  # type: ignore[union-attr]
        topic = await repo.find_chat(session, "fake", "-100_1/10")
        own = await repo.find_chat(session, "fake", "eigener")
        assert topic is not None and own is not None
        assert await still_belongs(session, person, topic, ags["ag2"].id)
        assert not await still_belongs(session, person, own, ags["ag2"].id)
