"""/edit as issue 13 found it: a date the bot cannot read never becomes the title, place,
link and title change on their own, and the reminders move only with the time.

The clock is the test's (`Clock`, Saturday 28.11.2026 10:00 UTC).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.meetings.models import Meeting
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead, occurrences


async def meetings(bot: BotHarness) -> list[Meeting]:
    async with bot.app.services.db.read() as session:
        return list(await session.scalars(select(Meeting).order_by(Meeting.id)))


PLENUM = "/meeting ag2 03.12.2026 18:00 Plenum"


@pytest.fixture
async def ag2(bot: BotHarness) -> Ag2:
    ag2 = await ag2_with_lead(bot)
    await ag2.anna.say("anna", PLENUM)
    return ag2


async def test_an_unreadable_date_is_refused_not_made_the_title(ag2: Ag2) -> None:
    hint = " Nur den Titel ändern: /edit m1 --titel Neuer Titel."
    for change, why in (
        (
            "nächste Woche",
            "Welcher Tag nächste Woche? Schreib ihn dazu, z. B. nächste Woche Mittwoch 18 Uhr.",
        ),
        (
            "gestern 18 Uhr",
            "„gestern 18 Uhr“ verstehe ich nicht als Datum und Uhrzeit. Das geht z. B. so: "
            "03.12.2026 18:00, morgen 19 Uhr, Di 18:00, in 2 Stunden.",
        ),
    ):
        [reply] = await ag2.anna.say("anna", f"/edit m1 {change}")
        assert reply == why + hint
    [occurrence] = await occurrences(ag2.bot)
    assert occurrence.title is None  # still the meeting's own title, "Plenum"
    [reply] = await ag2.anna.say("anna", "/meetings ag2")
    assert "Plenum" in reply and "Woche" not in reply


async def test_a_title_is_changed_with_titel_quoted_or_as_plain_words(ag2: Ag2) -> None:
    assert await ag2.anna.say("anna", "/edit m1 --titel Nächste Woche Plenum") == [
        "Geändert: Nächste Woche Plenum (m1), Donnerstag, 3. Dezember 2026, 18:00 Uhr."
    ]
    assert await ag2.anna.say("anna", "/edit m1 „Treffen am Montag“") == [
        "Geändert: Treffen am Montag (m1), Donnerstag, 3. Dezember 2026, 18:00 Uhr."
    ]
    assert await ag2.anna.say("anna", "/edit m1 Plenum mit Gästen") == [
        "Geändert: Plenum mit Gästen (m1), Donnerstag, 3. Dezember 2026, 18:00 Uhr."
    ]
    [reply, _told] = await ag2.anna.say("anna", "/edit m1 19:00 --titel Zwei Titel")
    assert reply == (
        "Geändert: Zwei Titel (m1), Donnerstag, 3. Dezember 2026, 19:00 Uhr. "
        "Die Erinnerungen kommen zur neuen Zeit."
    )
    assert await ag2.anna.say("anna", "/edit m1 Eins --titel Zwei") == [
        "So geht's: /edit m1 19:30, /edit m1 --titel Neuer Titel oder "
        "/edit m1 --ort Haus der Vereine."
    ]


async def test_place_link_and_title_alone_need_no_date(ag2: Ag2) -> None:
    told = len(ag2.in_group())
    assert await ag2.anna.say("anna", "/edit m1 --ort Haus der Vereine") == [
        "Geändert: Plenum (m1), Donnerstag, 3. Dezember 2026, 18:00 Uhr. Ort: Haus der Vereine."
    ]
    assert await ag2.anna.say("anna", "/edit m1 https://meet.example/plenum") == [
        "Geändert: Plenum (m1), Donnerstag, 3. Dezember 2026, 18:00 Uhr."
    ]
    assert await ag2.anna.say("anna", "/edit m1 --titel Plenum im Dezember") == [
        "Geändert: Plenum im Dezember (m1), Donnerstag, 3. Dezember 2026, 18:00 Uhr."
    ]
    assert len(ag2.in_group()) == told  # nothing moved, so the group is not told
    [meeting] = await meetings(ag2.bot)
    assert (meeting.place, meeting.url) == ("Haus der Vereine", "https://meet.example/plenum")


async def test_reminders_move_only_when_the_time_does(ag2: Ag2) -> None:
    assert await ag2.anna.say("anna", "/edit m1 03.12.2026 18:00") == [
        "m1 liegt schon am Donnerstag, 3. Dezember 2026, 18:00 Uhr; ich habe nichts geändert."
    ]
    [reply, told] = await ag2.anna.say("anna", "/edit m1 04.12.2026 18:00")
    assert reply == (
        "Geändert: Plenum (m1), Freitag, 4. Dezember 2026, 18:00 Uhr. "
        "Die Erinnerungen kommen zur neuen Zeit."
    )
    assert told.startswith("🔁 Verschoben: Plenum")


async def test_nothing_to_change_shows_the_forms(ag2: Ag2) -> None:
    assert await ag2.anna.say("anna", "/edit m1 --titel") == [
        "So geht's: /edit m1 19:30, /edit m1 --titel Neuer Titel oder "
        "/edit m1 --ort Haus der Vereine."
    ]


async def test_english_names_the_english_options(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/lang en")
    [reply] = await ag2.anna.say("anna", "/edit m1 next week")
    assert reply == (
        "Which day next week? Add it, e.g. next week Wednesday 6pm. "
        "Only the title: /edit m1 --title New title."
    )
    await ag2.anna.say("anna", "/meeting ag2 Di 18:00 Weekly --weekly")
    assert await ag2.anna.say("anna", "/edit m3 19:00 --all") == [
        "I don't move a whole series. Cancel it with /cancel m3 --all and plan it anew."
    ]


async def test_a_range_is_refused_not_cut_to_its_start(ag2: Ag2) -> None:
    """/edit moves the start of one date; a range's end would be lost without a word."""
    assert await ag2.anna.say("anna", "/edit m1 19-21 Uhr") == [
        "Mit /edit verschiebe ich nur den Beginn; die Dauer bleibt. "
        "Schreib nur die neue Anfangszeit, z. B. /edit m1 19:00."
    ]
    [occurrence] = await occurrences(ag2.bot)
    assert occurrence.start_at == occurrence.original_start
