"""Two networks for the `/connect` tests: the fake one and "other", a clock the test moves,
and the steps of linking (ask for a code, type it, confirm)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select

from storage.models import Account
from tests.support.fake import BotHarness, Chat, FakeTransport
from tests.support.poll_chat import Clock, setup_ag

CODE = re.compile(r"(?:Dein Code|Your code): (\S+)")


@asynccontextmanager
async def two_networks(database_url: str) -> AsyncIterator[BotHarness]:
    """The fake network and "other", with a clock the test moves."""
    harness = await BotHarness.create(database_url, more=(FakeTransport(platform="other"),))
    harness.app.services.clock = Clock()
    try:
        yield harness
    finally:
        await harness.close()


def clock(bot: BotHarness) -> Clock:
    tick = bot.app.services.clock
    assert isinstance(tick, Clock)
    return tick


async def get_code(chat: Chat, who: str) -> str:
    replies = await chat.say(who, "/connect")
    found = CODE.search(replies[-1])
    assert found, replies
    return found.group(1)


async def link(bot: BotHarness, who: str = "anna") -> list[str]:
    """`who` on the fake network asks for a code, types it on "other" and confirms."""
    code = await get_code(bot.dm(who), who)
    return await redeem(bot.dm(who, "other"), who, code)


async def redeem(chat: Chat, who: str, code: str) -> list[str]:
    """Type the code, and if a summary comes back, confirm it."""
    replies = await chat.say(who, f"/connect {code}")
    if not replies[-1].endswith(f"/connect {code} JA."):
        return replies
    return await chat.say(who, f"/connect {code} JA")


async def person_of(bot: BotHarness, platform: str, who: str) -> int:
    async with bot.app.services.db.read() as session:
        person = await session.scalar(
            select(Account.person_id).where(
                Account.platform == platform, Account.external_id == who
            )
        )
    assert person is not None
    return person


async def victim_and_mallory(bot: BotHarness) -> str:
    """Vera leads AG 2 on the fake network and has a card; Mallory, a member of AG 1 on
    "other", asks for a code. Returns Mallory's code."""
    await setup_ag(bot, lead="vera")
    await bot.dm("vera").say("vera", "/card name Vera Victim")
    await bot.dm("mallory", "other").say("mallory", "/join ag1")
    return await get_code(bot.dm("mallory", "other"), "mallory")


def told(bot: BotHarness, platform: str, who: str) -> list[str]:
    """What the bot sent to `who`'s private chat on `platform`."""
    return [s.text for s in bot.transports[platform].sent if s.chat.id == f"dm-{who}"]
