"""How `/poll` tells the question from the answers (issue 13): a question ending in "?",
answers separated by commas or lines, quotes as before, and a question back where the
words leave it open, never a guess such as the question "Wann" with the answer "Plenum?"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.fake import BotHarness
from tests.support.poll_chat import Clock, last_poll, poll_row, setup_ag


@pytest.fixture(autouse=True)
def fixed_clock(bot: BotHarness) -> None:
    bot.app.services.clock = Clock()


def started(short_id: str) -> list[str]:
    return [
        f"Umfrage {short_id} läuft in 1 Chat: Ag2-Gruppe (Fake).\n"
        f"Ergebnis: /results {short_id} · Beenden: /close {short_id}"
    ]


@pytest.mark.parametrize(
    ("text", "question", "options"),
    [
        ("/poll Wann Plenum? Di Mi Do", "Wann Plenum?", ("Di", "Mi", "Do")),
        (
            "/poll Wann ist Plenum? Di 18 Uhr, Mi 19 Uhr, Do 17 Uhr",
            "Wann ist Plenum?",
            ("Di 18 Uhr", "Mi 19 Uhr", "Do 17 Uhr"),
        ),
        (
            "/poll Wann ist Plenum?\nDi 18 Uhr\nMi 19 Uhr, mit Essen\n",
            "Wann ist Plenum?",
            ("Di 18 Uhr", "Mi 19 Uhr, mit Essen"),
        ),
        (
            "/poll\nWo treffen wir uns\n- Halle\n- Leipzig\n--for 3d",
            "Wo treffen wir uns",
            ("Halle", "Leipzig"),
        ),
        ("/poll Essen, Pizza, Pasta --multi", "Essen", ("Pizza", "Pasta")),
        ('/poll "Wann Plenum?" Di Mi Do', "Wann Plenum?", ("Di", "Mi", "Do")),
        ('/poll Wann Plenum? "Di 18 Uhr" "Mi 19 Uhr"', "Wann Plenum?", ("Di 18 Uhr", "Mi 19 Uhr")),
        ('/poll "Kommst du?" "Ja, gern" "Nein" --for 2d', "Kommst du?", ("Ja, gern", "Nein")),
    ],
    ids=[
        "question mark",
        "commas",
        "lines",
        "bullets",
        "commas only",
        "quoted question",
        "quoted answers",
        "quoted with commas",
    ],
)
async def test_the_question_and_the_answers_as_people_type_them(
    bot: BotHarness, text: str, question: str, options: tuple[str, ...]
) -> None:
    group = await setup_ag(bot)

    replies = await group.say("anna", text)

    _, spec = last_poll(bot.transport)
    assert (spec.question, spec.options) == (question, options)
    assert replies == started(spec.poll_id)


@pytest.mark.parametrize("text", ["/poll Wann Plenum Di Mi Do", "/poll Essen Pizza Pasta --for 3d"])
async def test_unclear_words_get_a_question_back_not_a_guess(bot: BotHarness, text: str) -> None:
    group = await setup_ag(bot)

    assert await group.say("anna", text) == [
        "Wo hört die Frage auf? Schreib ein Fragezeichen dahinter und die Antworten danach, "
        "mit Kommas getrennt: /poll Wann treffen wir uns? Di 18 Uhr, Mi 19 Uhr. Oder die "
        "Frage in die erste Zeile und jede Antwort in eine eigene Zeile."
    ]
    assert bot.transport.polls == []


async def test_the_question_back_in_english(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    await bot.dm("anna").say("anna", "/lang en")

    assert await bot.dm("anna").say("anna", "/poll Wann Plenum Di Mi --ag ag2") == [
        "Where does the question end? Put a question mark after it and the answers after "
        "that, separated by commas: /poll When shall we meet? Tue 6pm, Wed 7pm. Or the "
        "question on the first line and each answer on a line of its own."
    ]
    assert bot.transport.polls == [] and group.ref


async def test_a_question_without_answers_gets_an_example_without_quotes(bot: BotHarness) -> None:
    group = await setup_ag(bot)

    assert await group.say("anna", "/poll Wann ist Plenum?") == [
        "Eine Umfrage braucht mindestens 2 Antworten. "
        "Beispiel: /poll Wann treffen wir uns? Di 18 Uhr, Mi 19 Uhr"
    ]
    assert bot.transport.polls == []


@pytest.mark.parametrize(
    "text",
    [
        "/poll Wo treffen wir uns? Haus der Vereine Café Rosa",
        "/poll Wann Plenum? Di 18 Uhr Mi 19:00",
        "/poll Wann Plenum? Di 18 Mi 19",
    ],
)
async def test_answers_of_several_words_without_commas_get_a_question_back(
    bot: BotHarness, text: str
) -> None:
    """Was: a poll with the answers "Haus", "der", "Vereine", "Café", "Rosa" (each word
    one answer), or "Di", "18", "Uhr", "Mi", "19:00"."""
    group = await setup_ag(bot)

    assert await group.say("anna", text) == [
        "Wo hört die Frage auf? Schreib ein Fragezeichen dahinter und die Antworten danach, "
        "mit Kommas getrennt: /poll Wann treffen wir uns? Di 18 Uhr, Mi 19 Uhr. Oder die "
        "Frage in die erste Zeile und jede Antwort in eine eigene Zeile."
    ]
    assert bot.transport.polls == []


async def test_a_deadline_before_the_question_leaves_the_question(bot: BotHarness) -> None:
    """Was: "Nach --until verstehe ich „Wann Plenum? Di, Mi“ nicht." (the flag took every
    word up to the next flag)."""
    group = await setup_ag(bot)

    replies = await group.say("anna", "/poll --until Freitag 18 Uhr Wann Plenum? Di, Mi")

    _, spec = last_poll(bot.transport)
    assert (spec.question, spec.options) == ("Wann Plenum?", ("Di", "Mi"))
    assert replies == started(spec.poll_id)
    closes = (await poll_row(bot, spec.poll_id)).closes_at
    assert closes is not None and closes.replace(tzinfo=UTC) == datetime(
        2026, 12, 4, 17, 0, tzinfo=UTC
    )
    assert await group.say("anna", "/poll --until Freitag 18-20 Uhr Wann? Di, Mi") == [
        "Nach --until bitte nur ein Zeitpunkt, kein Zeitraum. Beispiel: --until Freitag 18 Uhr."
    ]
