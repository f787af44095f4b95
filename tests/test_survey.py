"""The founding survey: the templates in config/survey.toml, launching questions as polls,
the private walk-through, and the per-question results."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from handlers.survey.templates import SurveyError, parse_survey, read_survey
from storage.polls import polls
from tests.support.fake import ROOT, BotHarness
from tests.support.poll_chat import AG2, Clock, counts_of, last_poll, setup_ag

SURVEY = ROOT / "config" / "survey.toml"
Q1 = (
    "Haben Sie Interesse, sich in einem zivilgesellschaftlichen Bündnis für Mitteldeutschland "
    "einzubringen? Wenn ja, in welcher Form?"
)
Q1_OPTIONS = (
    "Ich möchte mich aktiv an einem Koordinierungskreis beteiligen.",
    "Ich möchte mich zu passenden Anlässen und Themen einbringen.",
    "Ich möchte weiter zum Projekt informiert werden.",
    "Aktuell kein Interesse.",
)
SCALE = (
    "Stimme voll zu",
    "Stimme eher zu",
    "Teils/teils",
    "Stimme eher nicht zu",
    "Stimme gar nicht zu",
)


@pytest.fixture(autouse=True)
def fixed_clock(request: pytest.FixtureRequest) -> None:
    if "bot" in request.fixturenames:
        request.getfixturevalue("bot").app.services.clock = Clock()


# --- the templates -------------------------------------------------------------------------


def test_the_shipped_survey_has_the_questions_of_the_slides() -> None:
    questions = read_survey(SURVEY)

    assert [(q.id, q.key, q.kind) for q in questions] == [
        (1, "interesse", "single"),
        (2, "bereich", "multi"),
        (3, "region", "multi"),
        (4, "strukturwandel", "scale"),
        (5, "zusammenarbeit", "multi"),
        (6, "projekte", "single"),
    ]
    q1, q2, q3, q4, q5, q6 = questions
    assert (q1.text, q1.options) == (Q1, Q1_OPTIONS)
    assert q2.text == "Aus welchem Bereich kommen Sie?"
    assert q3.text == "Wo sind Sie bzw. ist Ihre Organisation hauptsächlich aktiv?"
    assert q3.options[0] == "Leipzig (Stadt)" and q3.options[-1] == "Überregional / anderswo"
    assert q4.text == "Einschätzungen zum Strukturwandel"
    assert q4.options == SCALE and q4.examples and len(q4.statements) >= 3
    assert q5.text == (
        "In welchem Bereich sind Sie an einer engeren überregionalen Zusammenarbeit interessiert?"
    )
    assert q5.options[:3] == (
        "Dorf-/Stadt-/Regionalentwicklung",
        "Klima & Umwelt",
        "Demokratie, Partizipation & Engagement",
    )
    assert q6.options == ("Ja, bereits beteiligt", "Ja, in naher Zukunft geplant", "Nein")
    items = q4.items()
    assert [i.number for i in items][:2] == ["4.1", "4.2"]
    assert items[0].question == f"{q4.text}: {q4.statements[0]}"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"kind": "ranking"}, "`kind` must be one of single, multi, scale"),
        ({"options": ["Nur eine"]}, "needs 2 to 12 options"),
        ({"options": [str(i) for i in range(13)]}, "needs 2 to 12 options"),
        ({"options": ["Ja", "ja"]}, "an option appears twice"),
        ({"text": "x" * 301}, "longer than 300 characters"),
        ({"key": "Mit Leerzeichen"}, "`key` must be a word"),
    ],
)
def test_a_broken_template_is_named_precisely(change: dict[str, object], problem: str) -> None:
    data = tomllib.loads(SURVEY.read_text(encoding="utf-8"))
    data["question"][0].update(change)

    with pytest.raises(SurveyError, match="question 1") as caught:
        parse_survey(data)
    assert problem in str(caught.value)


async def test_an_unreadable_survey_file_gets_a_clear_answer(
    bot: BotHarness, tmp_path: Path
) -> None:
    broken = tmp_path / "survey.toml"
    broken.write_text("[[question]]\nid = 1\n", encoding="utf-8")
    settings = bot.app.services.settings
    bot.app.services.settings = dataclasses.replace(settings, survey_file=broken)

    assert await bot.dm("ben").say("ben", "/survey") == [
        "Der Fragebogen ist gerade nicht lesbar; ein Admin muss die Datei prüfen."
    ]


# --- /survey -------------------------------------------------------------------------------


async def test_survey_lists_the_questions(bot: BotHarness) -> None:
    [listing] = await bot.dm("ben").say("ben", "/survey")

    rows = listing.splitlines()
    assert rows[0] == "Der Gründungsfragebogen:"
    assert rows[1] == f"1. interesse – {Q1} (eine Antwort)"
    assert rows[2] == "2. bereich – Aus welchem Bereich kommen Sie? (mehrere Antworten)"
    assert rows[4] == (
        "4. strukturwandel – Einschätzungen zum Strukturwandel (Skala, 4 Aussagen – Beispiele)"
    )
    assert rows[-1] == (
        "Als Umfrage in deiner AG starten (Leitung): /survey 1 · Selbst ausfüllen: /survey run"
        " · Ergebnisse: /survey results"
    )


@pytest.mark.parametrize("ref", ["1", "interesse", "Inter"])
async def test_a_lead_launches_a_question_as_a_poll(bot: BotHarness, ref: str) -> None:
    group = await setup_ag(bot)

    [report] = await group.say("anna", f"/survey {ref} --for 3d")

    _, spec = last_poll(bot.transport)
    assert (spec.question, spec.options, spec.multi) == (Q1, Q1_OPTIONS, False)
    assert report.startswith(f"Umfrage {spec.poll_id} läuft in 1 Chat")


async def test_a_multi_question_is_launched_with_several_answers(bot: BotHarness) -> None:
    group = await setup_ag(bot)

    await group.say("anna", "/survey bereich")

    _, spec = last_poll(bot.transport)
    assert spec.multi and spec.options[0] == "Kultur" and len(spec.options) == 10


async def test_a_scale_question_becomes_one_poll_per_statement(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    statements = read_survey(SURVEY)[3].statements

    [report] = await group.say("anna", "/survey 4")

    specs = [spec for _, spec in bot.transport.polls]
    assert [s.question for s in specs] == [
        f"Einschätzungen zum Strukturwandel: {s}" for s in statements
    ]
    assert all(s.options == SCALE and not s.multi for s in specs)
    assert report.splitlines()[0] == "4 Umfragen gestartet, eine je Aussage:"
    assert report.splitlines()[1] == f"• {specs[0].poll_id} {statements[0]}"


async def test_a_member_cannot_launch_a_survey_question(bot: BotHarness) -> None:
    group = await setup_ag(bot)

    assert await group.say("ben", "/survey 1") == [
        f"Umfragen starten dürfen nur die Leitung der AG „{AG2}“ und Admins."
    ]
    assert bot.transport.polls == []


async def test_an_unknown_question(bot: BotHarness) -> None:
    group = await setup_ag(bot)

    assert await group.say("anna", "/survey 9") == [
        "Die Frage „9“ gibt es nicht. /survey zeigt alle."
    ]


# --- /survey run ---------------------------------------------------------------------------


async def test_survey_run_walks_through_every_question(bot: BotHarness) -> None:
    dm = bot.dm("eva")

    [first] = await dm.say("eva", "/survey run")
    assert "Deine Antworten werden mit deinem Namen gespeichert" in first
    assert "Frage 1 von 9\n" + Q1 in first
    assert first.endswith("Antworte mit /vote 1, überspringen mit /vote -.")

    [second] = await dm.say("eva", "/vote 2")
    assert second.startswith(f"Danke! Deine Stimme zählt: „{Q1_OPTIONS[1]}“\n\nFrage 2 von 9\n")
    assert "Antworte mit /vote 1 (mehrere: /vote 1,3), überspringen mit /vote -." in second

    await dm.say("eva", "/vote 1,4")
    [skipped] = await dm.say("eva", "/vote -")
    assert skipped.startswith("Übersprungen.\n\nFrage 4 von 9\n")
    for _ in range(5):
        await dm.say("eva", "/vote 1")
    [last] = await dm.say("eva", "/vote 3")
    assert last.endswith("Das war die letzte Frage – danke! Die Ergebnisse aller: /survey results")

    [overview] = await bot.dm("fritz").say("fritz", "/survey results")
    rows = overview.splitlines()
    assert rows[1] == f"1. 1 Antwort – am häufigsten: „{Q1_OPTIONS[1]}“ (100 %)"
    assert rows[2] == (
        "2. 1 Antwort – Gleichstand: „Kultur“ und „Klima- und Umweltschutz“ (je 100 %)"
    )
    assert rows[3] == "3. 0 Antworten"
    assert rows[9] == "6. 1 Antwort – am häufigsten: „Nein“ (100 %)"


async def test_survey_run_continues_after_a_break_and_a_new_run_replaces_answers(
    bot: BotHarness,
) -> None:
    dm = bot.dm("eva")
    await dm.say("eva", "/survey run")
    await dm.say("eva", "/vote 1")

    [again] = await dm.say("eva", "/survey run")
    assert again.startswith("Weiter geht's mit dem Fragebogen.\n\nFrage 2 von 9")

    for _ in range(8):
        await dm.say("eva", "/vote 1")
    [restart] = await dm.say("eva", "/survey run")
    assert "Frage 1 von 9" in restart
    await dm.say("eva", "/vote 4")

    [detail] = await bot.dm("eva").say("eva", "/survey results 1")
    assert detail.splitlines()[1:5] == [
        f"1. {Q1_OPTIONS[0]} – 0 (0 %)",
        f"2. {Q1_OPTIONS[1]} – 0 (0 %)",
        f"3. {Q1_OPTIONS[2]} – 0 (0 %)",
        f"4. {Q1_OPTIONS[3]} – 1 (100 %) ██████████",
    ]


async def test_survey_run_only_in_a_private_chat(bot: BotHarness) -> None:
    assert await bot.group("ag2-gruppe").say("eva", "/survey run") == [
        "/survey run funktioniert nur im privaten Chat mit mir."
    ]


async def test_a_named_ag_poll_from_a_template_feeds_the_survey_once_per_person(
    bot: BotHarness,
) -> None:
    group = await setup_ag(bot)
    await group.say("anna", "/survey 1")
    _, spec = last_poll(bot.transport)
    # ben answers in the AG poll, then in the walk-through: he counts once.
    await bot.dm("ben").say("ben", f"/vote {spec.poll_id} 1")
    await bot.dm("carl").say("carl", f"/vote {spec.poll_id} 3")
    await bot.dm("ben").say("ben", "/survey run")
    await bot.dm("ben").say("ben", "/vote 2")

    async with bot.app.services.db.read() as session:
        standing = await polls.standing_poll(session, "interesse")
    assert standing is not None
    assert await counts_of(bot, standing.short_id) == [0, 1, 1, 0]
    assert await counts_of(bot, spec.poll_id) == [1, 0, 1, 0], "the AG poll keeps its own"


async def test_an_anonymous_ag_poll_stays_out_of_the_survey(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    await group.say("anna", "/survey 6 --anonymous")
    _, spec = last_poll(bot.transport)
    assert spec.anonymous

    [overview] = await bot.dm("ben").say("ben", "/survey results")

    assert "6. 0 Antworten" in overview.splitlines()


async def test_an_edited_template_starts_a_new_standing_poll(
    bot: BotHarness, tmp_path: Path
) -> None:
    dm = bot.dm("eva")
    await dm.say("eva", "/survey run")
    await dm.say("eva", "/vote 1")
    async with bot.app.services.db.read() as session:
        old = await polls.standing_poll(session, "interesse")
    assert old is not None

    edited = tmp_path / "survey.toml"
    edited.write_text(
        SURVEY.read_text(encoding="utf-8").replace("Aktuell kein Interesse.", "Gerade nicht."),
        encoding="utf-8",
    )
    settings = bot.app.services.settings
    bot.app.services.settings = dataclasses.replace(settings, survey_file=edited)
    [detail] = await bot.dm("eva").say("eva", "/survey results 1")

    assert "4. Gerade nicht. – 0 (0 %)" in detail.splitlines()
    async with bot.app.services.db.read() as session:
        new = await polls.standing_poll(session, "interesse")
        kept = await polls.poll_by_short_id(session, old.short_id)
    assert new is not None and new.id != old.id
    assert kept is not None and kept.closed_at is not None and kept.standing_key is None
    assert await counts_of(bot, old.short_id) == [1, 0, 0, 0], "earlier answers stay readable"
