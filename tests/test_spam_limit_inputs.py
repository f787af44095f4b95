"""The rate limit covers every kind of input of one person, whatever chat it comes from.

Commands, Telegram button presses (callback queries) and Matrix reactions used as buttons
take from one bucket per account. Someone writing as a chat (a channel, an anonymous
group admin) is also limited per chat they write in, so posting as many channels gains
nothing. Native poll votes are never dropped but coalesced: only a voter's latest counts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.commands import Registry
from bot.commands.ratelimit import RateLimit
from bot.context import Context, Services
from bot.core import ButtonPress, ChatRef, PollVote, UserRef
from tests.support.fake import BotHarness, FakeTransport
from tests.support.meetings import Clock
from tests.support.telegram_api import (
    CHANNEL_BOT,
    Json,
    callback_query,
    group,
    message,
    update,
    user,
)
from tests.support.telegram_transport import WholeBot, running_app

SLOW_DOWN = "Langsam bitte – zu viele Befehle. Versuch es in einer Minute wieder."
AGS = "Die AGs des Bündnisses:"
ANNA = user(222, "Anna", username="anna_b")
GROUP = group(-4001, "AG 2 Transparenz")
OTHER_GROUP = group(-4002, "Plenum")
CHANNELS = [
    {"id": -1009876543210, "type": "channel", "title": "Kanal A"},
    {"id": -1009876543211, "type": "channel", "title": "Kanal B"},
]


def limited(app: App) -> list[str]:
    """The limit a configuration file gets by default (20/min, burst 5), on a stopped
    clock; a private copy of the registry with a `probe` button that records its presses."""
    services = app.services
    services.settings = dataclasses.replace(
        services.settings, commands_per_minute=20, command_burst=5
    )
    services.clock = Clock()
    real = services.registry
    services.registry = Registry(
        commands=dict(real.commands),
        buttons=dict(real.buttons),
        events=dict(real.events),
        start_hooks=list(real.start_hooks),
    )
    pressed: list[str] = []

    async def probe(ctx: Context, data: str) -> str:
        pressed.append(data)
        return "gedrückt"

    services.registry.buttons["probe"] = probe
    return pressed


@pytest.fixture
async def tg(sqlite_url: str) -> AsyncIterator[tuple[WholeBot, list[str]]]:
    async with running_app(sqlite_url) as bot:
        yield bot, limited(bot.app)


async def say(tg: WholeBot, chat: Json, sender: Json, text: str, **fields: object) -> None:
    await tg.feed(update(message(chat, sender, text, **fields)))
    await tg.app.dispatcher.drain()


def firsts(texts: list[str]) -> list[str]:
    """The first line of each reply, without its markup."""
    return [re.sub(r"<[^>]+>", "", t.split("\n")[0]) for t in texts]


async def test_one_account_in_two_groups_shares_one_bucket(
    tg: tuple[WholeBot, list[str]],
) -> None:
    bot, _ = tg
    for _ in range(4):
        await say(bot, GROUP, ANNA, "/ags")
        await say(bot, OTHER_GROUP, ANNA, "/ags")

    answers = firsts(bot.api.texts(GROUP["id"]) + bot.api.texts(OTHER_GROUP["id"]))
    assert answers.count(AGS) == 5
    assert answers.count(SLOW_DOWN) == 1


async def test_posting_as_several_channels_in_one_group_shares_one_bucket(
    tg: tuple[WholeBot, list[str]],
) -> None:
    """Telegram does not say who is behind a channel: every chat written "as" in one
    group shares that group's bucket (before, each channel had a bucket of its own)."""
    bot, _ = tg
    for _ in range(4):
        for channel in CHANNELS:
            await say(bot, GROUP, CHANNEL_BOT, "/ags", sender_chat=channel)

    assert firsts(bot.api.texts(GROUP["id"])) == [AGS] * 5 + [SLOW_DOWN]


async def test_a_flood_of_button_presses_is_limited(tg: tuple[WholeBot, list[str]]) -> None:
    bot, pressed = tg
    shown = message(GROUP, {"id": 999, "is_bot": True, "first_name": "Bot"}, "Knöpfe")
    for number in range(12):
        await bot.feed(update(callback_query(shown, ANNA, f"probe:{number}"), "callback_query"))
    answered = await bot.api.wait_called("answerCallbackQuery", 12)

    assert pressed == [f"probe:{n}" for n in range(5)]
    toasts = Counter(call.params.get("text") for call in answered)  # answered as tasks
    assert toasts == {"gedrückt": 5, SLOW_DOWN: 1, None: 6}, "every press is answered"

    await say(bot, GROUP, ANNA, "/ags")
    assert bot.api.texts(GROUP["id"]) == [], "commands share the bucket with presses"


# --- Matrix reactions and native poll votes, at the dispatcher ----------------------------


@pytest.fixture
async def matrix(sqlite_url: str) -> AsyncIterator[tuple[BotHarness, list[str]]]:
    harness = await BotHarness.create(sqlite_url, more=(FakeTransport(platform="matrix"),))
    yield harness, limited(harness.app)
    await harness.close()


ROOM = ChatRef("matrix", "!room:example.org", title="AG 2")
MALLORY = UserRef("matrix", "@mallory:evil.example", "Mallory")


async def test_a_flood_of_matrix_reactions_is_limited(
    matrix: tuple[BotHarness, list[str]],
) -> None:
    """The Matrix transport hands a reaction on a button to `button_pressed`."""
    bot, pressed = matrix
    for number in range(12):
        press = ButtonPress(ROOM, MALLORY, f"probe:{number}", press_id=f"$reaction{number}")
        await bot.app.dispatcher.button_pressed(press)

    assert pressed == [f"probe:{n}" for n in range(5)]
    assert (
        await bot.group("!room:example.org", platform="matrix").say("@mallory:evil.example", "!ags")
        == []
    )


async def test_a_flood_of_poll_votes_is_coalesced(sqlite_url: str) -> None:
    """Fifty answers of one voter while the first is handled: the first and the latest
    are handled, nothing in between; another voter's vote is not swallowed."""
    bot = await BotHarness.create(sqlite_url, more=(FakeTransport(platform="matrix"),))
    try:
        limited(bot.app)
        handled: list[PollVote] = []
        started = asyncio.Event()
        release = asyncio.Event()

        async def record(services: Services, vote: PollVote) -> None:
            handled.append(vote)
            started.set()
            await release.wait()

        bot.app.services.registry.events["poll_vote"] = record
        dispatcher = bot.app.dispatcher
        ben = UserRef("matrix", "@ben:example.org", "Ben")
        await dispatcher.poll_vote(PollVote("matrix", "$poll", MALLORY, (0,)))
        await started.wait()
        for number in range(50):
            await dispatcher.poll_vote(
                PollVote("matrix", "$poll", MALLORY, (number % 2,), event_id=f"${number}")
            )
        await dispatcher.poll_vote(PollVote("matrix", "$poll", ben, (1,)))
        release.set()
        await dispatcher.drain()

        mallory = [vote.event_id for vote in handled if vote.voter == MALLORY]
        assert mallory == [None, "$49"]
        assert [vote.voter for vote in handled if vote.voter != MALLORY] == [ben]
    finally:
        await bot.close()


def test_pruning_keeps_every_bucket_of_the_input_at_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Buckets are pruned before the input's own are fetched: pruning in between would
    drop a fresh (full) one and lose what this input spent from it."""
    monkeypatch.setattr(RateLimit, "PRUNE_ABOVE", 1)
    limit = RateLimit(Clock())
    assert limit.check("telegram", "someone", 20, 2) == "run"  # one bucket, not full

    verdicts = [
        limit.check("telegram", "chat-100", 20, 2, also=(f"as-chat-in:{group}",))
        for group in ("-1", "-1", "-2")
    ]

    assert verdicts == ["run", "run", "warn"], "the channel's own bucket is empty"
