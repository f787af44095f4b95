"""Bad input to the Terminumfrage commands gets a short answer that says what would work
(and, for dates, which one)."""

from __future__ import annotations

import pytest

from bot.core import ButtonPress
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead
from tests.test_datepoll import start


@pytest.fixture
async def ag2(bot: BotHarness) -> Ag2:
    return await ag2_with_lead(bot)


async def create(ag2: Ag2, text: str) -> list[str]:
    return await ag2.anna.say("anna", "/terminumfrage ag2 " + text)


async def test_one_date_or_sixteen(ag2: Ag2) -> None:
    assert await create(ag2, '"Plenum" Di 1.12. 19 Uhr') == [
        "Bitte mindestens 2 Termine, getrennt mit „;“, z. B. "
        '/datepoll ag2 "Plenum im Januar" 12.1. 19 Uhr; 13.1. 18:30.'
    ]
    sixteen = "; ".join(f"{day}.12. 19 Uhr" for day in range(1, 17))
    assert await create(ag2, f'"Plenum" {sixteen}') == [
        "Höchstens 15 Termine, du hast 16 geschrieben."
    ]


async def test_a_past_or_unreadable_date_is_named(ag2: Ag2) -> None:
    [past] = await create(ag2, '"Plenum" Di 1.12. 19 Uhr; 27.11. 18 Uhr')
    assert past.startswith("Termin 2 („27.11. 18 Uhr“): ")
    [unreadable] = await create(ag2, '"Plenum" Di 1.12. 19 Uhr; Mi 2.12. 18:30; irgendwann')
    assert unreadable.startswith("Termin 3 („irgendwann“): ")
    assert await create(ag2, '"Plenum" Di 1.12. 19 Uhr; Mi 2.12. 18:30 im Rathaus') == [
        "Termin 2: „im Rathaus“ verstehe ich nicht. Nur Datum und Uhrzeit, z. B. 12.1. 19 Uhr."
    ]
    assert await create(ag2, '"Plenum" Di 1.12. 19 Uhr; 1.12. 19:00') == [
        "Termin 2 ist derselbe wie Termin 1."
    ]


async def test_title_and_options(ag2: Ag2) -> None:
    assert await create(ag2, "Plenum Di 1.12. 19 Uhr; Mi 2.12. 18:30") == [
        "Schreib den Titel in Anführungszeichen vor die Termine, z. B. "
        '/datepoll ag2 "Plenum im Januar" 12.1. 19 Uhr; 13.1. 18:30.'
    ]
    # A title of blanks is no title (it was "too long").
    assert await create(ag2, '"  " Di 1.12. 19 Uhr; Mi 2.12. 18:30') == [
        "Schreib den Titel in Anführungszeichen vor die Termine, z. B. "
        '/datepoll ag2 "Plenum im Januar" 12.1. 19 Uhr; 13.1. 18:30.'
    ]
    assert await create(ag2, '"Plenum" Di 1.12. 19 Uhr; Mi 2.12. 18:30 --link www') == [
        "Nach --link bitte einen Link (https://…)."
    ]
    assert await create(ag2, '"Plenum" Di 1.12. 19 Uhr; Mi 2.12. 18:30 --ort') == [
        "Nach --ort fehlt der Wert."
    ]


async def test_only_a_lead_starts_one(ag2: Ag2) -> None:
    assert await ag2.ben.say(
        "ben", '/terminumfrage ag2 "Plenum" Di 1.12. 19 Uhr; Mi 2.12. 18 Uhr'
    ) == ["Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."]


async def test_bad_answers(ag2: Ag2) -> None:
    sid = await start(ag2)
    how = (
        "Schreib je Termin die Nummer und ja, wenn nötig oder nein, z. B. 1 ja 2 nein 3 wenn nötig."
    )
    assert await ag2.ben.say("ben", f"/termin {sid} 1 gerne") == [
        "„gerne“ verstehe ich nicht. " + how
    ]
    assert await ag2.ben.say("ben", f"/termin {sid} ja") == [how]
    assert await ag2.ben.say("ben", f"/termin {sid} 1 ja 4 nein") == [
        "Einen Termin 4 gibt es nicht; die Terminumfrage hat 3."
    ]
    assert await ag2.ben.say("ben", f"/termin {sid} 1 ja 2") == [
        "Zu Termin 2 fehlt die Antwort: ja, wenn nötig oder nein."
    ]
    assert await ag2.ben.say("ben", "/termin zzzz 1 ja") == [
        "Eine Terminumfrage zzzz kenne ich nicht."
    ]
    # /termin planned a meeting before Terminumfragen came; the AG's name says so.
    assert await ag2.ben.say("ben", "/termin ag2 Di 19 Uhr Plenum") == [
        "/termin beantwortet eine Terminumfrage. Einen Termin planen: /meeting ag2 …"
    ]
    # Nothing was stored by any of these.
    [shown] = await ag2.ben.say("ben", f"/termin {sid}")
    assert "ja 0 · wenn nötig 0 · nein 0 · offen 2" in shown.split("\n")[1]


async def test_a_non_member_in_the_group_cannot_answer(ag2: Ag2) -> None:
    sid = await start(ag2)
    assert await ag2.group.say("dora", f"/termin {sid} 1 ja") == [
        "Antworten dürfen nur Mitglieder der AG Transparenz und Beteiligung. Beitreten: /join ag2"
    ]


async def test_a_superscript_number_is_no_number(ag2: Ag2) -> None:
    """`²` passes str.isdigit() but not int(): typed or forged into a button, it gets the
    usual answer (no crash)."""
    sid = await start(ag2)
    assert await ag2.anna.say("anna", f"/festlegen {sid} ²") == [
        f"Welcher Termin? Eine Nummer von 1 bis 3, z. B. /festlegen {sid} 1."
    ]
    press = ButtonPress(ag2.group.ref, ag2.bot.user("ben"), f"dp:{sid}:²:y")
    assert await ag2.bot.app.dispatcher.button_pressed(press) is None


async def test_an_archived_ags_terminumfrage_rests(ag2: Ag2) -> None:
    """Archiving the AG stops its Terminumfrage: no answers (typed or pressed), no nudge,
    and no pick (that would plan a meeting in an AG where `/meeting` is refused)."""
    sid = await start(ag2)
    await ag2.bot.dm("admin").say("admin", "/ag archive ag2")
    rests = f"Die AG Transparenz und Beteiligung ist archiviert; ihre Terminumfrage {sid} ruht."
    assert await ag2.ben.say("ben", f"/termin {sid} 1 ja") == [rests]
    press = ButtonPress(ag2.group.ref, ag2.bot.user("ben"), f"dp:{sid}:1:y")
    assert await ag2.bot.app.dispatcher.button_pressed(press) == rests
    assert await ag2.anna.say("anna", f"/festlegen {sid} 1 ja") == [rests]
    assert await ag2.anna.say("anna", f"/erinnern {sid}") == [
        f"{sid} nimmt keine Antworten mehr an; erinnern lohnt nicht."
    ]
    assert (await ag2.ben.say("ben", "/terminumfrage"))[0].startswith(
        "In deinen AGs läuft gerade keine Terminumfrage."
    )
    await ag2.bot.dm("admin").say("admin", "/ag restore ag2")
    [saved] = await ag2.ben.say("ben", f"/termin {sid} 1 ja")
    assert saved.startswith("Gespeichert.")


async def test_a_deadline_after_every_date_is_refused(ag2: Ag2) -> None:
    """Answers (and the nudge a day before the deadline) after the last date are no use:
    the lead could pick none of the dates by then."""
    assert await create(ag2, '"Plenum" Di 1.12. 19 Uhr; Mi 2.12. 18:30 --bis 5.12.') == [
        "Die Frist (--bis) muss vor dem letzten Termin liegen."
    ]
    [made, _] = await create(ag2, '"Plenum" Di 1.12. 19 Uhr; Mi 2.12. 18:30 --bis 1.12. 20 Uhr')
    assert "Antworten bis Di 01.12. 20:00." in made.split("\n")
