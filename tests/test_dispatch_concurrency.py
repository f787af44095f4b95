"""A slow or failing handler never holds up other messages."""

from __future__ import annotations

import asyncio

from bot.app import build_registry
from bot.commands import Registry
from bot.context import Context
from bot.core import ChatRef, IncomingMessage, UserRef
from bot.i18n import N_
from storage import repo
from tests.support.fake import BotHarness


def _with_slow_command(bot: BotHarness, gate: asyncio.Event) -> None:
    registry = Registry(dict(build_registry().commands))

    @registry.command("slow", help=N_("Hilfe"))
    async def slow(ctx: Context) -> None:
        await gate.wait()
        await ctx.reply(ctx.t("Hilfe"))

    bot.app.services.registry = registry


def _message(who: str, text: str) -> IncomingMessage:
    return IncomingMessage(ChatRef("fake", "gruppe"), UserRef("fake", who, who), text, text)


async def test_a_slow_handler_does_not_block_other_people(bot: BotHarness) -> None:
    gate = asyncio.Event()
    _with_slow_command(bot, gate)
    slow = await bot.app.dispatcher.message(_message("alice", "slow"))
    fast = await bot.app.dispatcher.message(_message("ben", "ags"))
    await asyncio.wait_for(fast, timeout=5)
    assert not slow.done()
    assert "Transparenz und Beteiligung" in bot.transport.sent[-1].text
    gate.set()
    await asyncio.wait_for(slow, timeout=5)
    assert bot.transport.sent[-1].text == "Hilfe"


async def test_one_persons_messages_keep_their_order(bot: BotHarness) -> None:
    gate = asyncio.Event()
    _with_slow_command(bot, gate)
    first = await bot.app.dispatcher.message(_message("alice", "slow"))
    second = await bot.app.dispatcher.message(_message("alice", "ags"))
    await asyncio.sleep(0.05)
    assert not second.done(), "alice's second message overtook her first"
    gate.set()
    await asyncio.wait_for(asyncio.gather(first, second), timeout=5)
    assert [s.text.split("\n")[0] for s in bot.transport.sent] == [
        "Hilfe",
        "Die AGs des Bündnisses:",
    ]


async def test_a_crashing_handler_gets_an_apology_and_the_bot_carries_on(
    bot: BotHarness,
) -> None:
    registry = Registry(dict(build_registry().commands))

    @registry.command("boom", help=N_("Hilfe"))
    async def boom(ctx: Context) -> None:
        raise RuntimeError("secret internal detail")

    bot.app.services.registry = registry
    group = bot.group()
    replies = await group.say("alice", "/boom")
    assert replies == ["Da ist bei mir etwas schiefgegangen. Bitte versuch es gleich noch einmal."]
    assert "secret internal detail" not in replies[0]
    assert "Willkommen" in (await group.say("alice", "/join ag2"))[0]


async def test_a_burst_of_joins_and_leaves_shares_commits_and_keeps_each_persons_order(
    bot: BotHarness,
) -> None:
    """Fifty known people each send `/join ag2` then `/leave ag2` at once, without waiting
    for answers: every command gets its own answer after its commit, in each person's
    order, and the joins and leaves share trips to SQLite's writer (group commit)."""
    people = [f"p{i}" for i in range(50)]
    for who in people:  # known: their /join is one statement
        await (await bot.app.dispatcher.message(_message(who, "start")))
    writer = bot.app.services.db._writer
    assert writer is not None
    batches, sent = writer.batches, len(bot.transport.sent)
    tasks = []
    for who in people:
        tasks.append(await bot.app.dispatcher.message(_message(who, "join ag2")))
        tasks.append(await bot.app.dispatcher.message(_message(who, "leave ag2")))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    texts = [s.text for s in bot.transport.sent[sent:]]
    assert len(texts) == 100
    assert sum(t.startswith("Willkommen in der AG") for t in texts) == 50
    assert sum(t.startswith("Du hast die AG") for t in texts) == 50
    assert writer.batches - batches < 100  # shared, not one trip per command
    async with bot.app.services.db.read() as session:
        ag2 = await repo.ag_by_slug(session, "ag2")
        assert ag2 is not None
        members = await repo.members_of(session, ag2.id)
        assert members == []  # each person's leave came after their join
        anna = await repo.ensure_account(session, "fake", "anna", "Anna")
        await repo.join(session, anna.person_id, ag2.id)
        assert len(await repo.members_of(session, ag2.id)) == 1  # (the check can see one)
