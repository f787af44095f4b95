"""The founding survey in everyday use (issue 13): survey polls in an AG end by themselves,
skipping says so, the walk-through shows no poll ids, a tie is called a tie, and starting
a question that already runs asks first."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.support.fake import BotHarness
from tests.support.poll_chat import START, Clock, last_poll, poll_row, setup_ag
from tests.test_survey import Q1, Q1_OPTIONS

AG2 = "Transparenz und Beteiligung"


@pytest.fixture(autouse=True)
def fixed_clock(bot: BotHarness) -> None:
    bot.app.services.clock = Clock()


def report(short_id: str, until: str) -> list[str]:
    return [
        f"Umfrage {short_id} läuft in 1 Chat: Ag2-Gruppe (Fake).\n"
        f"Ergebnis: /results {short_id} · Beenden: /close {short_id}\n"
        f"Läuft bis {until}."
    ]


# --- a deadline for survey polls -----------------------------------------------------------


async def test_a_survey_poll_in_an_ag_ends_after_14_days(bot: BotHarness) -> None:
    group = await setup_ag(bot)

    replies = await group.say("anna", "/survey 1")

    _, spec = last_poll(bot.transport)
    assert replies == report(spec.poll_id, "Mo 14.12. 10:00")
    poll = await poll_row(bot, spec.poll_id)
    assert poll.closes_at is not None
    assert poll.closes_at.replace(tzinfo=START.tzinfo) == START + timedelta(days=14)


async def test_the_survey_poll_days_are_a_setting_and_for_still_wins(bot: BotHarness) -> None:
    settings = bot.app.services.settings
    bot.app.services.settings = dataclasses.replace(settings, survey_poll_days=3)
    group = await setup_ag(bot)

    replies = await group.say("anna", "/survey 6")
    _, spec = last_poll(bot.transport)
    assert replies == report(spec.poll_id, "Do 03.12. 10:00")

    replies = await group.say("anna", "/survey 2 --for 12h")
    _, spec = last_poll(bot.transport)
    assert replies == report(spec.poll_id, "Mo 30.11. 22:00")


def test_survey_poll_days_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "buendnisbot.toml"
    path.write_text("survey_poll_days = 21\n", encoding="utf-8")

    assert load_settings(path, environ={}).survey_poll_days == 21
    env = {"BUENDNISBOT_SURVEY_POLL_DAYS": "7"}
    assert load_settings(path, environ=env).survey_poll_days == 7
    path.write_text("survey_poll_days = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="survey_poll_days"):
        load_settings(path, environ={})


# --- the walk-through ----------------------------------------------------------------------


async def test_skipping_says_skipped(bot: BotHarness) -> None:
    dm = bot.dm("eva")
    await dm.say("eva", "/survey run")

    [skipped] = await dm.say("eva", "/vote -")

    assert skipped.startswith("Übersprungen.\n\nFrage 2 von 9\nAus welchem Bereich kommen Sie?")
    await dm.say("eva", "/lang en")
    [english] = await dm.say("eva", "/vote -")
    assert english.startswith("Skipped.\n\nQuestion 3 of 9\n")


async def test_the_walk_through_shows_no_poll_ids(bot: BotHarness) -> None:
    dm = bot.dm("eva")
    await dm.say("eva", "/survey run")

    assert await dm.say("eva", "/vote 9") == ["Bitte wähle eine Nummer von 1 bis 4, z. B. /vote 1."]
    await dm.say("eva", "/vote 2")
    [detail] = await dm.say("eva", "/survey results 1")
    assert detail.splitlines()[0] == f"Zwischenstand: {Q1}"


async def test_a_tie_is_called_a_tie(bot: BotHarness) -> None:
    for who, answer in (("eva", "1"), ("fritz", "2")):
        await bot.dm(who).say(who, "/survey run")
        await bot.dm(who).say(who, f"/vote {answer}")

    [overview] = await bot.dm("eva").say("eva", "/survey results")
    assert overview.splitlines()[1] == (
        f"1. 2 Antworten – Gleichstand: „{Q1_OPTIONS[0]}“ und „{Q1_OPTIONS[1]}“ (je 50 %)"
    )
    [detail] = await bot.dm("eva").say("eva", "/survey results 1")
    assert detail.splitlines()[5:7] == [
        "2 Stimmen",
        f"Gleichstand: „{Q1_OPTIONS[0]}“ und „{Q1_OPTIONS[1]}“ mit je 1 Stimme.",
    ]


async def test_a_tie_in_a_poll_result(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    await group.say("anna", '/poll "Wann?" "Di" "Mi" "Do"')
    _, spec = last_poll(bot.transport)
    for who, answer in (("anna", 1), ("ben", 2)):
        await bot.dm(who).say(who, f"/vote {spec.poll_id} {answer}")

    [result] = await bot.dm("ben").say("ben", f"/results {spec.poll_id}")
    assert result.splitlines()[4:6] == ["2 Stimmen", "Gleichstand: „Di“ und „Mi“ mit je 1 Stimme."]
    await bot.dm("carl").say("carl", "/lang en")
    [english] = await bot.dm("carl").say("carl", f"/results {spec.poll_id}")
    assert english.splitlines()[4:6] == ["2 votes", "Tie: “Di” and “Mi” with 1 vote each."]


# --- starting a question twice -------------------------------------------------------------


async def test_starting_a_running_question_again_asks_first(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    await group.say("anna", "/survey 1")
    _, first = last_poll(bot.transport)

    assert await bot.dm("anna").say("anna", "/survey --ag ag2 interesse --for 3d") == [
        f"Frage 1 läuft in der AG „{AG2}“ schon: {first.poll_id}. Noch einmal starten? "
        "Dann schreib /survey 1 JA --ag ag2 --for 3d."
    ]
    assert len(bot.transport.polls) == 1

    replies = await group.say("anna", "/survey 1 JA --for 3d")
    _, second = last_poll(bot.transport)
    assert second.poll_id != first.poll_id
    assert replies == report(second.poll_id, "Do 03.12. 10:00")


async def test_a_closed_question_or_another_one_starts_without_asking(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    await group.say("anna", "/survey 1")
    _, first = last_poll(bot.transport)
    await group.say("anna", f"/close {first.poll_id}")

    [again] = await group.say("anna", "/survey 1")
    [other] = await group.say("anna", "/survey 6")

    assert again.startswith("Umfrage ") and other.startswith("Umfrage ")
    assert len(bot.transport.polls) == 3


# --- which AG ---------------------------------------------------------------------------


async def test_survey_in_a_private_chat_without_an_ag_shows_the_survey_example(
    bot: BotHarness,
) -> None:
    """Was: the example of `/poll` (`/poll "Frage?" "Ja" "Nein" --ag ag2`)."""
    await setup_ag(bot)

    assert await bot.dm("anna").say("anna", "/survey 2") == [
        "Für welche AG? Gib sie mit --ag an, z. B. /survey 2 --ag ag2."
    ]
