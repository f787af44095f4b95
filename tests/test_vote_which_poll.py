"""`/vote 2` while several polls run (issue 13): a numbered list of the whole questions,
newest first, each with the command that answers it, instead of one line cut after 40
characters."""

from __future__ import annotations

import pytest

from tests.support.fake import BotHarness
from tests.support.poll_chat import Clock, setup_ag, start_poll

LONG = "Sollen wir beim Stadtfest im Juni einen eigenen Stand mit Infomaterial haben?"


@pytest.fixture(autouse=True)
def fixed_clock(bot: BotHarness) -> None:
    bot.app.services.clock = Clock()


async def test_several_open_polls_are_listed_whole_and_newest_first(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    first = await start_poll(group, "anna", '/poll "Wann?" "Di" "Mi"')
    second = await start_poll(group, "anna", f'/poll "{LONG}" "Ja" "Nein"')
    closed = await start_poll(group, "anna", '/poll "Wo?" "Hier" "Dort"')
    await group.say("anna", f"/close {closed}")

    assert await bot.dm("ben").say("ben", "/vote 2") == [
        "Es laufen 2 Umfragen. Welche meinst du?\n"
        f"1. {LONG} – /vote {second} 2\n"
        f"2. Wann? – /vote {first} 2"
    ]


async def test_polls_of_several_ags_name_their_ag(bot: BotHarness) -> None:
    ag2 = await setup_ag(bot)
    ag3 = await setup_ag(bot, slug="ag3")
    first = await start_poll(ag2, "anna", '/poll "Wann?" "Di" "Mi"')
    second = await start_poll(ag3, "anna", '/poll "Wo?" "Hier" "Dort"')

    assert await bot.dm("ben").say("ben", "/vote 1,2") == [
        "Es laufen 2 Umfragen. Welche meinst du?\n"
        f"1. Wo? (ag3) – /vote {second} 1,2\n"
        f"2. Wann? (ag2) – /vote {first} 1,2"
    ]


async def test_the_list_in_english(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    first = await start_poll(group, "anna", '/poll "Wann?" "Di" "Mi"')
    second = await start_poll(group, "anna", '/poll "Wo?" "Hier" "Dort"')
    await bot.dm("ben").say("ben", "/lang en")

    assert await bot.dm("ben").say("ben", "/vote 1") == [
        "2 polls are running. Which one do you mean?\n"
        f"1. Wo? – /vote {second} 1\n"
        f"2. Wann? – /vote {first} 1"
    ]
