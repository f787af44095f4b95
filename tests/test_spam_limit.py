"""Spam: one account flooding a chat with commands cannot make the bot flood it back.

A token bucket per person: `command_burst` commands at once, refilled at
`commands_per_minute`; the first refused command gets one short notice, later ones
nothing until the bucket is full again. The clock is the Services clock, so no sleeping.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import ConfigError, load_settings
from tests.support.fake import BotHarness

ROOT = Path(__file__).resolve().parents[1]
SLOW_DOWN = "Langsam bitte – zu viele Befehle. Versuch es in einer Minute wieder."
AGS = "Die AGs des Bündnisses:"


class Clock(ManualClock):
    def __init__(self) -> None:
        super().__init__(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
async def limited(sqlite_url: str) -> AsyncIterator[tuple[BotHarness, Clock]]:
    """The bot with the limit a configuration file gets by default: 20/min, burst 5."""
    harness = await BotHarness.create(sqlite_url)
    services = harness.app.services
    services.settings = dataclasses.replace(
        services.settings, commands_per_minute=20, command_burst=5
    )
    clock = Clock()
    services.clock = clock
    yield harness, clock
    await harness.close()


async def flood(bot: BotHarness, who: str, times: int, *, chat: str = "gruppe") -> list[str]:
    replies: list[str] = []
    for _ in range(times):
        replies += await bot.group(chat).say(who, "/ags")
    return replies


async def test_a_flood_gets_the_burst_answered_one_notice_and_then_silence(
    limited: tuple[BotHarness, Clock],
) -> None:
    bot, _ = limited

    replies = await flood(bot, "mallory", 50)

    assert [r.split("\n")[0] for r in replies] == [AGS] * 5 + [SLOW_DOWN]


async def test_the_bucket_refills_with_time(limited: tuple[BotHarness, Clock]) -> None:
    bot, clock = limited
    await flood(bot, "mallory", 10)

    clock.advance(3)  # 20 per minute: one command every 3 seconds
    assert (await flood(bot, "mallory", 1))[0].startswith(AGS)
    assert await flood(bot, "mallory", 3) == [], "still over the limit: no second notice"

    clock.advance(15)  # the bucket is full again: a clean start
    replies = await flood(bot, "mallory", 7)
    assert [r.split("\n")[0] for r in replies] == [AGS] * 5 + [SLOW_DOWN]


async def test_a_steady_flood_never_gets_more_replies_than_the_rate(
    limited: tuple[BotHarness, Clock],
) -> None:
    bot, clock = limited
    replies: list[str] = []
    for _ in range(600):  # ten commands a second for a minute
        replies += await flood(bot, "mallory", 1)
        clock.advance(0.1)

    assert replies.count(SLOW_DOWN) == 1
    assert 5 + 19 <= len(replies) <= 5 + 20 + 1


async def test_the_limit_is_per_person(limited: tuple[BotHarness, Clock]) -> None:
    bot, _ = limited
    await flood(bot, "mallory", 20)

    assert (await flood(bot, "ben", 1))[0].startswith(AGS), "others are not affected"
    assert await bot.dm("mallory").say("mallory", "/ags") == [], "one bucket in every chat"
    assert await flood(bot, "mallory", 1, chat="andere-gruppe") == []


async def test_admins_are_limited_too(limited: tuple[BotHarness, Clock]) -> None:
    bot, _ = limited

    replies = await flood(bot, "admin", 8)

    assert replies[-1] == SLOW_DOWN
    assert len(replies) == 6


async def test_the_same_id_on_another_network_is_another_person(sqlite_url: str) -> None:
    from tests.support.fake import FakeTransport

    bot = await BotHarness.create(sqlite_url, more=(FakeTransport(platform="other"),))
    try:
        bot.app.services.settings = dataclasses.replace(
            bot.app.services.settings, commands_per_minute=20, command_burst=2
        )
        bot.app.services.clock = Clock()
        await flood(bot, "mallory", 5)

        reply = await bot.group("gruppe", platform="other").say("mallory", "/ags")
        assert reply[0].startswith(AGS)
    finally:
        await bot.close()


async def test_no_limit_when_switched_off(limited: tuple[BotHarness, Clock]) -> None:
    bot, _ = limited
    services = bot.app.services
    services.settings = dataclasses.replace(services.settings, commands_per_minute=0)

    replies = await flood(bot, "mallory", 30)

    assert len(replies) == 30
    assert SLOW_DOWN not in replies


# --- configuration -------------------------------------------------------------------


def test_a_configuration_file_gets_a_limit_by_default(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text("", encoding="utf-8")

    settings = load_settings(path, environ={})

    assert (settings.commands_per_minute, settings.command_burst) == (20, 5)


def test_the_example_file_documents_the_limit() -> None:
    settings = load_settings(ROOT / "config" / "buendnisbot.example.toml", environ={})
    text = (ROOT / "config" / "buendnisbot.example.toml").read_text(encoding="utf-8")

    assert (settings.commands_per_minute, settings.command_burst) == (20, 5)
    assert "[limits]" in text
    assert "BUENDNISBOT_COMMANDS_PER_MINUTE" in text
    assert "BUENDNISBOT_COMMAND_BURST" in text


def test_the_limit_from_the_file_and_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text("[limits]\ncommands_per_minute = 60\nburst = 10\n", encoding="utf-8")

    assert load_settings(path, environ={}).commands_per_minute == 60
    settings = load_settings(
        path,
        environ={"BUENDNISBOT_COMMANDS_PER_MINUTE": "0", "BUENDNISBOT_COMMAND_BURST": " 3 "},
    )
    assert (settings.commands_per_minute, settings.command_burst) == (0, 3)


@pytest.mark.parametrize(
    ("body", "environ", "named"),
    [
        ("[limits]\ncommands_per_minute = -1\n", {}, "BUENDNISBOT_COMMANDS_PER_MINUTE"),
        ('[limits]\ncommands_per_minute = "viele"\n', {}, "limits.commands_per_minute"),
        ("[limits]\nburst = 0\n", {}, "limits.burst"),
        ("[limits]\nburst = true\n", {}, "BUENDNISBOT_COMMAND_BURST"),
        ("", {"BUENDNISBOT_COMMAND_BURST": "5.5"}, "limits.burst"),
        ("[limits]\nper_hour = 3\n", {}, "limits.per_hour"),
    ],
)
def test_a_bad_limit_stops_start_up_naming_the_key(
    tmp_path: Path, body: str, environ: dict[str, str], named: str
) -> None:
    path = tmp_path / "bot.toml"
    path.write_text(body, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=environ)

    assert named in str(caught.value)
