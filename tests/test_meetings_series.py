"""Meeting series as people write them (issue 13): `/meeting ag2 jeden Dienstag 18 Uhr
Plenum` and the other forms of the issue, German option names in German answers, and
the question before a second meeting with the same AG, title and start.

The clock stands still at Thursday 3 December 2026, 10:00 in Berlin (09:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core import ButtonPress
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, Clock, ag2_with_lead, occurrences

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
async def ag2(bot: BotHarness) -> Ag2:
    return await ag2_with_lead(bot, Clock(NOW))


@pytest.mark.parametrize(
    ("words", "when"),
    [
        ("jeden Dienstag 18 Uhr", "Dienstag, 8. Dezember 2026, 18:00 Uhr, jede Woche"),
        ("dienstags um 18.30", "Dienstag, 8. Dezember 2026, 18:30 Uhr, jede Woche"),
        (
            "alle zwei Wochen donnerstags 19 Uhr",
            "Donnerstag, 3. Dezember 2026, 19:00 Uhr, alle 2 Wochen",
        ),
        ("alle 14 Tage mittwochs 19 Uhr", "Mittwoch, 9. Dezember 2026, 19:00 Uhr, alle 2 Wochen"),
        ("14-tägig sonntags 11 Uhr", "Sonntag, 6. Dezember 2026, 11:00 Uhr, alle 2 Wochen"),
        (
            "jeden 2. Mittwoch im Monat 19 Uhr",
            "Mittwoch, 9. Dezember 2026, 19:00 Uhr, jeden 2. Mittwoch im Monat",
        ),
        (
            "jeden ersten Montag im Monat 19 Uhr",
            "Montag, 7. Dezember 2026, 19:00 Uhr, jeden 1. Montag im Monat",
        ),
        (
            "jeden letzten Freitag im Monat 20 Uhr",
            "Freitag, 25. Dezember 2026, 20:00 Uhr, jeden letzten Freitag im Monat",
        ),
        ("jeden Monat am 15. 18 Uhr", "Dienstag, 15. Dezember 2026, 18:00 Uhr, jeden Monat"),
        ("ab 15.12. jeden Dienstag 18 Uhr", "Dienstag, 15. Dezember 2026, 18:00 Uhr, jede Woche"),
        (
            "jeden Dienstag 18 Uhr bis 31.03.2027",
            "Dienstag, 8. Dezember 2026, 18:00 Uhr, jede Woche, bis 31.03.2027",
        ),
        (
            "jeden Dienstag 18 Uhr --bis 31.03.2027",
            "Dienstag, 8. Dezember 2026, 18:00 Uhr, jede Woche, bis 31.03.2027",
        ),
        (
            "jeden Dienstag 18 Uhr --anzahl 3",
            "Dienstag, 8. Dezember 2026, 18:00 Uhr, jede Woche, 3-mal",
        ),
        ("Di 18 Uhr --alle 2 Wochen", "Dienstag, 8. Dezember 2026, 18:00 Uhr, alle 2 Wochen"),
    ],
)
async def test_a_series_in_words_is_planned(ag2: Ag2, words: str, when: str) -> None:
    [reply, _announced] = await ag2.anna.say("anna", f"/meeting ag2 {words} Plenum")
    assert reply.splitlines() == [
        "📅 Neues Treffen der AG Transparenz und Beteiligung: Plenum",
        when,
        "Kennung: m1",
        "Erinnerungen: 1 Tag und 1 Stunde vorher. Ändern mit /edit m1 …, absagen mit /cancel m1.",
    ]


async def test_the_rule_is_stored_and_expanded(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 jeden ersten Montag im Monat 19 Uhr Stammtisch")
    starts = [o.start_at for o in await occurrences(ag2.bot)]
    assert starts == [
        datetime(2026, 12, 7, 18, 0, tzinfo=UTC),
        datetime(2027, 1, 4, 18, 0, tzinfo=UTC),
    ]  # 60 days ahead exist as rows


async def test_english_series_words(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/lang en")
    for words, when in (
        ("every Tuesday 6pm", "Tuesday, 8 December 2026, 18:00, every week"),
        ("every other Thursday 7pm", "Thursday, 3 December 2026, 19:00, every 2 weeks"),
        (
            "first Monday of the month 7pm",
            "Monday, 7 December 2026, 19:00, every first Monday of the month",
        ),
    ):
        [reply, _announced] = await ag2.anna.say("anna", f"/meeting ag2 {words} {words[:5]}")
        assert reply.splitlines()[1] == when
    [reply] = await ag2.anna.say("anna", "/meeting ag2 every day 7pm Plenum")
    assert reply == (
        'I don\'t understand "every day 7pm Plenum" as a repetition. For example: every '
        "Tuesday 6pm, every other Thursday 7pm, first Monday of the month 7pm, every month on "
        "the 15th 6pm; or with --weekly, --every 2w and --monthly 2We."
    )


GERMAN_FORMS = (
    "Das geht z. B. so: jeden Dienstag 18 Uhr, alle zwei Wochen donnerstags 19 Uhr, "
    "jeden ersten Montag im Monat 19 Uhr, jeden Monat am 15. 18 Uhr"
)


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        (
            "jeden Tag 18 Uhr Plenum",
            "„jeden Tag 18 Uhr Plenum“ verstehe ich nicht als Wiederholung. "
            + GERMAN_FORMS
            + "; oder mit --wöchentlich, --alle 2w und --monatlich 2Mi.",
        ),
        (
            "alle 5 Wochen dienstags 18 Uhr Plenum",
            "„alle 5 Wochen dienstags 18“ verstehe ich nicht als Wiederholung. "
            + GERMAN_FORMS
            + "; oder mit --wöchentlich, --alle 2w und --monatlich 2Mi.",
        ),
        (
            "wöchentlich 18 Uhr Plenum",
            "An welchem Tag soll das Treffen sein? " + GERMAN_FORMS + ".",
        ),
        (
            "jeden Dienstag Plenum",
            "Mir fehlt die Uhrzeit. Schreib sie dazu, z. B. jeden Dienstag 18:00.",
        ),
        (
            "jeden Dienstag 16.12. 18 Uhr Plenum",
            "Der erste Termin (Mittwoch, 16. Dezember 2026, 18:00 Uhr) passt nicht zu „jede "
            "Woche“. Der nächste passende Termin wäre Dienstag, 22. Dezember 2026, 18:00 Uhr.",
        ),
        (
            "jeden Dienstag 18 Uhr Plenum --alle 2w",
            "Wähl bitte nur eine Wiederholung: --wöchentlich, --alle 2w oder --monatlich.",
        ),
    ],
)
async def test_an_unreadable_series_names_the_forms_that_work(
    ag2: Ag2, words: str, answer: str
) -> None:
    assert await ag2.anna.say("anna", f"/meeting ag2 {words}") == [answer]
    assert await occurrences(ag2.bot) == []


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        (
            "/meeting ag2 Di 18 Uhr Plenum --alle zwei",
            "„zwei“: Schreib den Abstand in Wochen, z. B. --alle 2w für alle 2 Wochen.",
        ),
        (
            "/meeting ag2 Di 18 Uhr Plenum --bis 31.03.2027",
            "--bis und --anzahl gehen nur zusammen mit --wöchentlich, --alle 2w oder --monatlich.",
        ),
        (
            "/meeting ag2 Di 18 Uhr Plenum --wöchentlich --bis 31.03.2027 --anzahl 3",
            "Nimm bitte entweder --bis oder --anzahl, nicht beides.",
        ),
        (
            "/meeting ag2 Di 18 Uhr Plenum --wöchentlich --anzahl 0",
            "--anzahl braucht eine Zahl von 1 bis 500.",
        ),
        (
            "/meeting ag2 Di 18 Uhr Plenum --monatlich 1Xy",
            "„1Xy“ verstehe ich nicht. Schreib z. B. --monatlich 1Di für den ersten Dienstag im "
            "Monat oder --monatlich letzterFr für den letzten Freitag.",
        ),
        ("/cancel m1 jetzt", "So geht's: /cancel m12 [--serie]"),
    ],
)
async def test_german_answers_name_the_german_options(ag2: Ag2, command: str, answer: str) -> None:
    await ag2.anna.say("anna", "/meeting ag2 10.12.2026 18:00 Vorher")
    assert await ag2.anna.say("anna", command) == [answer]


async def test_english_answers_name_the_english_options(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/lang en")
    assert await ag2.anna.say("anna", "/meeting ag2 Di 18 Uhr Plenum --every two") == [
        '"two": write the interval in weeks, e.g. --every 2w for every 2 weeks.'
    ]


# --- a second meeting with the same AG, title and start -------------------------------

QUESTION = [
    "In der AG Transparenz und Beteiligung gibt es schon Plenum am Dienstag, 8. Dezember "
    "2026, 18:00 Uhr (m1). Noch eins anlegen?\n"
    "Antworte innerhalb von 10 Minuten mit /meeting ja oder /meeting nein."
]


async def test_a_second_equal_meeting_is_asked_about_first(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 08.12.2026 18:00 Plenum")
    count = len(await occurrences(ag2.bot))
    assert await ag2.anna.say("anna", "/meeting ag2 jeden Dienstag 18 Uhr plenum") == QUESTION
    chat, buttons = ag2.bot.transport.buttons[-1]
    assert chat == ag2.anna.ref
    assert [(b.label, b.data) for b in buttons] == [
        ("Ja, anlegen", "mdup:yes"),
        ("Nein, nicht anlegen", "mdup:no"),
    ]
    assert await ag2.anna.say("anna", "/meeting nein") == ["Gut, ich lege kein zweites Treffen an."]
    assert len(await occurrences(ag2.bot)) == count
    assert await ag2.anna.say("anna", "/meeting ja") == [
        "Hier wartet kein Treffen auf deine Antwort (die Frage gilt 10 Minuten)."
    ]
    # Asked again and answered yes: now it is planned, with its own id.
    assert await ag2.anna.say("anna", "/meeting ag2 08.12.2026 18:00 Plenum") == QUESTION
    [reply, _announced] = await ag2.anna.say("anna", "/meeting JA")
    assert reply.splitlines()[2] == f"Kennung: m{count + 1}"
    # Another title or another time is no duplicate.
    [reply, _announced] = await ag2.anna.say("anna", "/meeting ag2 08.12.2026 18:00 Kasse")
    assert reply.startswith("📅 Neues Treffen")


async def test_the_buttons_answer_for_the_person_asked_only(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 08.12.2026 18:00 Plenum")
    await ag2.anna.say("anna", "/meeting ag2 08.12.2026 18:00 Plenum")
    dispatcher = ag2.bot.app.dispatcher
    foreign = ButtonPress(ag2.anna.ref, ag2.bot.user("ben"), "mdup:yes", "cb-1")
    assert await dispatcher.button_pressed(foreign) == (
        "Hier wartet kein Treffen auf deine Antwort (die Frage gilt 10 Minuten)."
    )
    sent = len(ag2.bot.transport.sent)
    press = ButtonPress(ag2.anna.ref, ag2.bot.user("anna"), "mdup:yes", "cb-2")
    assert await dispatcher.button_pressed(press) is None
    assert ag2.bot.transport.sent[sent].text.splitlines()[2] == "Kennung: m2"
    assert len(await occurrences(ag2.bot)) == 2


async def test_the_question_expires_after_ten_minutes(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 08.12.2026 18:00 Plenum")
    await ag2.anna.say("anna", "/meeting ag2 08.12.2026 18:00 Plenum")
    ag2.clock.advance(minutes=11)
    assert await ag2.anna.say("anna", "/meeting ja") == [
        "Hier wartet kein Treffen auf deine Antwort (die Frage gilt 10 Minuten)."
    ]
    assert len(await occurrences(ag2.bot)) == 1
