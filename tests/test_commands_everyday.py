"""Issue 13, everyday commands: any command makes a person known, unknown commands get a
suggestion that keeps their arguments (German aliases count; in groups only near misses
of our own commands are answered), usage errors on separate lines with the choices."""

from __future__ import annotations

import pytest

from tests.support.fake import BotHarness
from tests.support.state import roles_of

AG1 = "Nachhaltige Dorfentwicklung (ag1)"


# --- any command makes a person known ----------------------------------------------------


@pytest.mark.parametrize(
    "first", ["/start", "/ags", "/my", "/whoami", "/lang", "/link ag2", "/lead ag1 @olga", "/join"]
)
async def test_any_command_makes_a_person_known(bot: BotHarness, first: str) -> None:
    await bot.dm("olga").say("olga", first)

    assert await bot.dm("admin").say("admin", "/lead ag1 @olga") == [
        f"@olga leitet jetzt die AG {AG1}."
    ]
    assert await roles_of(bot, "olga") == {"ag1": "lead"}


async def test_a_command_in_a_group_makes_a_person_known(bot: BotHarness) -> None:
    await bot.group("plenum").say("olga", "/ags")

    assert await bot.dm("admin").say("admin", "/lead ag1 @olga") == [
        f"@olga leitet jetzt die AG {AG1}."
    ]


async def test_reading_the_privacy_notice_stores_nothing(bot: BotHarness) -> None:
    [notice] = await bot.dm("olga").say("olga", "/privacy")

    assert (
        "Dein Konto merke ich mir ab deinem ersten Befehl an mich (außer /privacy, /mydata und /forget)."
        in notice.splitlines()
    )
    assert await bot.dm("admin").say("admin", "/lead ag1 @olga") == [
        "Ich kenne @olga noch nicht. Die Person muss mir zuerst einmal schreiben (z. B. /help)."
    ]
    assert await bot.dm("olga").say("olga", "/forget") == ["Ich habe nichts über dich gespeichert."]


async def test_a_known_sender_costs_no_write(bot: BotHarness) -> None:
    """The first command writes the person once; later ones read the cached sender."""
    watch = bot.app.services.senders._cache.watch
    generation = watch.generation
    await bot.dm("olga").say("olga", "/ags")
    assert watch.generation > generation, "the first command wrote the person"
    generation = watch.generation

    await bot.dm("olga").say("olga", "/my")
    await bot.group("plenum").say("olga", "/ags")

    assert watch.generation == generation


# --- unknown commands --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("/jion ag2", "Meintest du /join ag2?"),
        ("/erinnerung ag2", "Meintest du /erinnerungen ag2?"),
        ("/ergebnisse 3", "Meintest du /ergebnis 3?"),
        ("/abstimmung 2", "Meintest du /abstimmen 2?"),
        ("/mitgleider", "Meintest du /mitglieder?"),
    ],
)
async def test_a_near_miss_gets_a_suggestion_with_its_arguments(
    bot: BotHarness, typed: str, answer: str
) -> None:
    assert await bot.dm("carl").say("carl", typed) == [answer]
    assert await bot.group("plenum").say("carl", typed) == [answer]


WELCOME = (
    "Willkommen in der AG {ag}! Mit /my siehst du deine AGs, mit /leave {slug} trittst du "
    "wieder aus."
)
AG2 = "Transparenz und Beteiligung (ag2)"
AG3 = "Interne Struktur und Vernetzung (ag3)"


async def test_join_takes_several_ags_and_answers_once(bot: BotHarness) -> None:
    await bot.dm("carl").say("carl", "/join ag3")

    assert await bot.dm("carl").say("carl", "/join ag2 ag3") == [
        WELCOME.format(ag=AG2, slug="ag2") + "\nDu bist schon in der AG " + AG3 + "."
    ]
    assert await roles_of(bot, "carl") == {"ag2": "member", "ag3": "member"}


async def test_join_several_names_numbers_and_commas(bot: BotHarness) -> None:
    await bot.dm("carl").say("carl", "/join ag 1, 2 und transparenz")

    assert await roles_of(bot, "carl") == {"ag1": "member", "ag2": "member"}


async def test_join_several_with_an_unknown_one_joins_none(bot: BotHarness) -> None:
    assert await bot.dm("carl").say("carl", "/join ag2 ag9") == [
        "Die AG „ag9“ kenne ich nicht. Gültig sind: ag1, ag2, ag3."
    ]
    assert await roles_of(bot, "carl") == {}


async def test_join_several_with_invisible_characters_pasted_along(bot: BotHarness) -> None:
    """Was: "Die AG „ag2\u200b“ kenne ich nicht." for a zero-width space after `ag2`."""
    assert await bot.dm("carl").say("carl", "/join ag2\u200b \u200fag3\u200f") == [
        WELCOME.format(ag=AG2, slug="ag2") + "\n" + WELCOME.format(ag=AG3, slug="ag3")
    ]
    assert await roles_of(bot, "carl") == {"ag2": "member", "ag3": "member"}


async def test_german_words_that_are_commands(bot: BotHarness) -> None:
    assert await bot.group("plenum").say("carl", "/anmelden ag2") == [
        WELCOME.format(ag=AG2, slug="ag2")
    ]
    # /treffen is /meeting (its usage names the command as declared); /termin answers a
    # Terminumfrage since issue 15.
    [usage] = await bot.dm("carl").say("carl", "/treffen")
    assert usage.splitlines()[1].startswith("So geht's: /meeting AG ")
    [usage] = await bot.dm("carl").say("carl", "/termin")
    assert usage.splitlines()[1].startswith("So geht's: /termin Terminumfrage ")
    assert await bot.dm("carl").say("carl", "/abmelden ag2") == [f"Du hast die AG {AG2} verlassen."]


@pytest.mark.parametrize(
    "typed", ["/roll 2d6", "/stat", "/status", "/remindme 5m tea", "/report", "/warn", "/settings"]
)
async def test_other_bots_commands_in_a_group_stay_unanswered(bot: BotHarness, typed: str) -> None:
    assert await bot.group("plenum").say("carl", typed) == []


async def test_a_suggestion_in_english(bot: BotHarness) -> None:
    await bot.dm("carl").say("carl", "/lang en")
    assert await bot.dm("carl").say("carl", "/jion ag2") == ["Did you mean /join ag2?"]


async def test_a_suggestion_does_not_repeat_right_to_left_controls(bot: BotHarness) -> None:
    """Was: the right-to-left override came back in the reply and turned what followed."""
    assert await bot.dm("carl").say("carl", "/jion ag2 \u202eevil\u202c\u200b") == [
        "Meintest du /join ag2 evil?"
    ]


async def test_a_suggestion_repeats_at_most_a_line_of_arguments(bot: BotHarness) -> None:
    words = " ".join(f"wort{i}" for i in range(40))
    [reply] = await bot.dm("carl").say("carl", f"/jion {words}")
    assert reply.startswith("Meintest du /join wort0 wort1 ")
    assert reply.endswith(" …?") and len(reply) < 120


# --- usage errors ------------------------------------------------------------------------


async def test_a_usage_error_on_separate_lines_with_the_ags(bot: BotHarness) -> None:
    assert await bot.dm("admin").say("admin", "/lead") == [
        "Da fehlt noch etwas: AG.\n"
        "So geht's: /lead AG @Person\n"
        "Beispiel: /lead ag2 @anna\n"
        "Gültige AGs: ag1, ag2, ag3"
    ]


async def test_a_surplus_argument_shows_the_usage_on_separate_lines(bot: BotHarness) -> None:
    assert await bot.dm("carl").say("carl", "/my ag2") == ["So geht's: /my"]
    assert await bot.dm("carl").say("carl", "/whoami jetzt") == ["So geht's: /whoami"]


async def test_a_usage_error_in_english(bot: BotHarness) -> None:
    await bot.dm("admin").say("admin", "/lang en")
    [reply] = await bot.dm("admin").say("admin", "/lead ag2")
    assert reply.splitlines()[0] == "Something is missing: @person."
    assert reply.splitlines()[1].startswith("Usage: /lead AG @person")


async def test_an_unknown_word_in_private_points_to_help(bot: BotHarness) -> None:
    assert await bot.dm("carl").say("carl", "/wetter") == [
        "Den Befehl kenne ich nicht. /help zeigt, was ich kann."
    ]


async def test_a_missing_ag_is_not_shown_as_optional(bot: BotHarness) -> None:
    """Was: "Da fehlt noch etwas: AG." and then "So geht's: /stats [AG]"."""
    assert await bot.dm("carl").say("carl", "/stats") == [
        "Da fehlt noch etwas: AG.\nSo geht's: /stats AG\nBeispiel: /stats ag2\n"
        "Gültige AGs: ag1, ag2, ag3"
    ]
