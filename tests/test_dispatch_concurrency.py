"""A slow or failing handler never holds up other messages."""

from __future__ import annotations

import asyncio

from bot.app import build_registry
from bot.commands import Registry
from bot.context import Context
from bot.core import ChatRef, IncomingMessage, UserRef
from bot.i18n import N_
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
