"""`/export` (issue 13): the times of the votes in the alliance's time zone, which the header
names, not in UTC; in summer and in winter, and with another configured zone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from tests.support.fake import BotHarness
from tests.support.poll_chat import Clock, setup_ag, start_poll


async def exported(bot: BotHarness, at: datetime, lang: str = "de") -> list[list[str]]:
    bot.app.services.clock = Clock(at)
    group = await setup_ag(bot)
    short_id = await start_poll(group, "anna", '/poll "Wann?" "Di" "Mi"')
    await bot.dm("ben").say("ben", f"/vote {short_id} 2")
    await bot.dm("anna").say("anna", f"/lang {lang}")
    await bot.dm("anna").say("anna", f"/export {short_id}")
    text = bot.transport.files[-1].data.decode("utf-8").lstrip("\ufeff")
    return [line.split(";") for line in text.splitlines()]


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), "2026-11-30 10:00:00"),
        (datetime(2027, 7, 1, 22, 30, tzinfo=UTC), "2027-07-02 00:30:00"),
    ],
    ids=["winter", "summer"],
)
async def test_vote_times_are_in_the_alliances_zone(
    bot: BotHarness, at: datetime, shown: str
) -> None:
    rows = await exported(bot, at)

    assert rows[0][6] == "Zeit (Europe/Berlin)"
    assert [row[6] for row in rows[1:]] == [shown]


async def test_another_zone_is_named_and_used_and_english_says_time(bot: BotHarness) -> None:
    settings = bot.app.services.settings
    bot.app.services.settings = dataclasses.replace(settings, timezone="America/New_York")

    rows = await exported(bot, datetime(2026, 11, 30, 9, 0, tzinfo=UTC), "en")

    assert rows[0][6] == "Time (America/New_York)"
    assert [row[6] for row in rows[1:]] == ["2026-11-30 04:00:00"]
