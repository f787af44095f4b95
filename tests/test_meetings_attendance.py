"""Who comes and how people are reminded: /rsvp and its buttons, /attendance, /remind,
/reminders, and /ics (parsed back with the `icalendar` library)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.core import ButtonPress, Capabilities, ChatRef
from tests.support.fake import BotHarness, FakeTransport
from tests.support.meetings import Ag2, ag2_with_lead, reminders, sent_to

BERLIN = ZoneInfo("Europe/Berlin")
LEADS_ONLY = "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."


@pytest.fixture
async def ag2(bot: BotHarness) -> Ag2:
    setup = await ag2_with_lead(bot)
    await setup.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen")
    return setup


# --- /rsvp and the buttons ------------------------------------------------------------


async def test_rsvp_in_german_and_english_words(ag2: Ag2) -> None:
    assert await ag2.ben.say("ben", "/rsvp m1 ja") == [
        "✅ Schön, dass du kommst: Online-Treffen, Donnerstag, 3. Dezember 2026, 18:00 Uhr."
    ]
    assert await ag2.ben.say("ben", "/rsvp 1 maybe") == [
        "❓ Ich habe dich mit „vielleicht“ eingetragen: Online-Treffen, "
        "Donnerstag, 3. Dezember 2026, 18:00 Uhr."
    ]
    assert await ag2.ben.say("ben", "/rsvp m1 no") == [
        "❌ Schade! Ich habe eingetragen, dass du nicht kommst: Online-Treffen, "
        "Donnerstag, 3. Dezember 2026, 18:00 Uhr."
    ]
    assert await ag2.ben.say("ben", "/rsvp m1 gerne") == ["Antworte mit ja, nein oder vielleicht."]
    assert await ag2.ben.say("ben", "/rsvp m9 ja") == [
        "Ein Treffen m9 kenne ich nicht. /meetings zeigt die Kennungen."
    ]


async def test_no_answers_for_cancelled_or_past_meetings(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 04.12.2026 18:00 Zweites")
    await ag2.anna.say("anna", "/cancel m2")
    assert await ag2.ben.say("ben", "/rsvp m2 ja") == ["m2 ist abgesagt."]
    ag2.clock.set(datetime(2026, 12, 3, 17, 30, tzinfo=UTC))
    assert await ag2.ben.say("ben", "/rsvp m1 ja") == ["m1 hat schon begonnen oder ist vorbei."]


async def test_a_button_press_stores_the_answer_and_returns_a_toast(ag2: Ag2) -> None:
    dispatcher = ag2.bot.app.dispatcher
    press = ButtonPress(ag2.group.ref, ag2.bot.user("carla"), "rsvp:1:yes", "cb-1")
    toast = await dispatcher.button_pressed(press)
    assert toast == "✅ Eingetragen: Du kommst zu „Online-Treffen“ (Do 03.12. 18:00)."
    toast = await dispatcher.button_pressed(
        ButtonPress(ag2.group.ref, ag2.bot.user("ben"), "rsvp:1:maybe", "cb-2")
    )
    assert toast == "❓ Eingetragen: vielleicht zu „Online-Treffen“ (Do 03.12. 18:00)."
    [reply] = await ag2.anna.say("anna", "/attendance m1")
    assert "✅ Dabei (1): @carla" in reply
    assert "❓ Vielleicht (1): @ben" in reply
    # A stale or foreign button does nothing and says so briefly.
    toast = await dispatcher.button_pressed(
        ButtonPress(ag2.group.ref, ag2.bot.user("ben"), "rsvp:99:yes", "cb-3")
    )
    assert toast == "Ein Treffen m99 kenne ich nicht. /meetings zeigt die Kennungen."
    assert (
        await dispatcher.button_pressed(
            ButtonPress(ag2.group.ref, ag2.bot.user("ben"), "rsvp:1:perhaps", "cb-4")
        )
        is None
    )


# --- /attendance ---------------------------------------------------------------------


async def test_the_lead_sees_who_comes_privately(ag2: Ag2) -> None:
    await ag2.ben.say("ben", "/rsvp m1 ja")
    assert await ag2.group.say("anna", "/attendance m1") == [
        "Online-Treffen (m1), Donnerstag, 3. Dezember 2026, 18:00 Uhr\n"
        "✅ Dabei (1): @ben\n"
        "❌ Abgesagt (0): –\n"
        "❓ Vielleicht (0): –\n"
        "Noch keine Antwort: 1 Mitglied",
        "Ich habe es dir privat geschickt.",
    ]
    assert sent_to(ag2.bot, "dm-anna")[-1].startswith("Online-Treffen (m1)")
    assert await ag2.ben.say("ben", "/attendance m1") == [LEADS_ONLY]


# --- /remind -------------------------------------------------------------------------


async def test_private_reminders_on_and_off(ag2: Ag2) -> None:
    assert await ag2.ben.say("ben", "/remind") == [
        "Private Erinnerungen sind aus. Einschalten mit /remind on."
    ]
    assert await ag2.ben.say("ben", "/remind on") == [
        "Du bekommst die Erinnerungen deiner AGs ab jetzt auch privat von mir. "
        "Abschalten mit /remind off."
    ]
    assert await ag2.ben.say("ben", "/remind") == [
        "Private Erinnerungen sind an. Abschalten mit /remind off."
    ]
    assert await ag2.ben.say("ben", "/remind off") == [
        "Private Erinnerungen sind aus. Die Erinnerungen in den Chats deiner AGs kommen weiter."
    ]
    assert await ag2.ben.say("ben", "/remind vielleicht") == ["So geht's: /remind on|off"]


async def test_remind_on_in_a_group_tells_how_to_open_the_private_chat(ag2: Ag2) -> None:
    ag2.bot.transport.unreachable.add("carla")
    assert await ag2.group.say("carla", "/remind on") == [
        "Das schicke ich dir nur privat, aber ich kann dir noch nicht schreiben. "
        "Öffne bitte zuerst den privaten Chat mit mir: https://example.org/start-bot"
    ]


# --- /reminders ----------------------------------------------------------------------


async def test_reminder_offsets_per_ag(ag2: Ag2) -> None:
    assert await ag2.ben.say("ben", "/reminders ag2") == [
        "Erinnerungen für die AG Transparenz und Beteiligung: 1 Tag und 1 Stunde vorher "
        "(Standard). Die Leitung ändert das z. B. mit /reminders ag2 2d 1h 10m."
    ]
    assert await ag2.ben.say("ben", "/reminders ag2 2d") == [LEADS_ONLY]
    assert await ag2.group.say("anna", "/reminders 2d 1h 10m") == [
        "Erinnerungen für die AG Transparenz und Beteiligung jetzt: 2 Tage, 1 Stunde und "
        "10 Minuten vorher. Das gilt auch für den 1 schon geplanten Termin."
    ]
    rows = {(r.offset_seconds, r.status) for r in await reminders(ag2.bot)}
    assert rows == {(172800, "pending"), (86400, "cancelled"), (3600, "pending"), (600, "pending")}

    assert await ag2.anna.say("anna", "/reminders ag2 5w") == [
        "5w: Erinnerungen gehen von 1 Minute bis 30 Tage vor dem Termin."
    ]
    assert await ag2.anna.say("anna", "/reminders ag2 30s") == [
        "„30s“ verstehe ich nicht als Dauer. Schreib z. B. 1d, 2h, 30m, 1h30m."
    ]
    [reply] = await ag2.anna.say("anna", "/reminders ag2 standard")
    assert reply.startswith(
        "Erinnerungen für die AG Transparenz und Beteiligung jetzt: 1 Tag und 1 Stunde"
    )
    rows = {(r.offset_seconds, r.status) for r in await reminders(ag2.bot)}
    assert rows == {
        (172800, "cancelled"),
        (86400, "pending"),
        (3600, "pending"),
        (600, "cancelled"),
    }


# --- /ics ----------------------------------------------------------------------------


async def test_the_calendar_file_parses_back(ag2: Ag2) -> None:
    await ag2.anna.say(
        "anna",
        "/meeting ag2 Di 18:00 Plenum https://meet.example/plenum --weekly --until 31.03.2027 "
        "--ort Haus der Demokratie",
    )
    await ag2.anna.say("anna", "/cancel m3")  # 8.12.
    await ag2.anna.say("anna", "/edit m4 Mi 16.12.2026 19:00")

    assert await ag2.ben.say("ben", "/ics ag2") == []  # a file, no text
    sent = ag2.bot.transport.files[-1]
    assert (sent.filename, sent.mime, sent.chat.id) == ("ag2.ics", "text/calendar", "dm-ben")
    assert sent.caption is not None
    assert sent.caption.plain == (
        "3 Termine der AG Transparenz und Beteiligung zum Importieren in deinen Kalender."
    )

    cal = icalendar.Calendar.from_ical(sent.data)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events: dict[str, Any] = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        "meeting-1@buendnisbot",
        "meeting-2@buendnisbot",
        "occurrence-4@buendnisbot",
    }
    single = events["meeting-1@buendnisbot"]
    assert single.decoded("DTSTART") == datetime(2026, 12, 3, 18, 0, tzinfo=BERLIN)
    assert single.decoded("DTEND") == datetime(2026, 12, 3, 19, 0, tzinfo=BERLIN)
    assert str(single["SUMMARY"]) == "Online-Treffen"

    series = events["meeting-2@buendnisbot"]
    assert str(series["SUMMARY"]) == "Plenum"
    assert str(series["LOCATION"]) == "Haus der Demokratie"
    assert str(series["URL"]) == "https://meet.example/plenum"
    assert series.decoded("DTSTART") == datetime(2026, 12, 1, 18, 0, tzinfo=BERLIN)
    assert series["DTSTART"].params["TZID"] == "Europe/Berlin"
    rule = series["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    # The end of 31 March in Berlin (summer time), in UTC as RFC 5545 wants it with a TZID.
    assert rule["UNTIL"] == [datetime(2027, 3, 31, 21, 59, 59, tzinfo=UTC)]
    exdates = sorted(d.dt for ex in _as_list(series["EXDATE"]) for d in ex.dts)
    assert exdates == [
        datetime(2026, 12, 8, 18, 0, tzinfo=BERLIN),
        datetime(2026, 12, 15, 18, 0, tzinfo=BERLIN),
    ]
    moved = events["occurrence-4@buendnisbot"]
    assert moved.decoded("DTSTART") == datetime(2026, 12, 16, 19, 0, tzinfo=BERLIN)
    assert int(moved["SEQUENCE"]) == 1


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


async def test_ics_is_for_members_and_falls_back_to_text_without_files(sqlite_url: str) -> None:
    textonly = FakeTransport(platform="text", capabilities=Capabilities(files=False, buttons=False))
    bot = await BotHarness.create(sqlite_url, more=(textonly,))
    try:
        ag2 = await ag2_with_lead(bot)
        await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen")
        assert await bot.dm("carla").say("carla", "/ics ag2") == [
            "Das sehen nur Mitglieder der AG „Transparenz und Beteiligung“. "
            "Mit /join ag2 kannst du beitreten."
        ]
        chat = bot.dm("dora", platform="text")
        await chat.say("dora", "/join ag2")
        assert await chat.say("dora", "/ics ag2") == [
            "Hier kann ich keine Dateien schicken. Die Treffen als Liste:\n"
            "Die nächsten Treffen:\n"
            "• m1 Do 03.12. 18:00 – Online-Treffen (ag2)\n"
            "Zusagen mit /rsvp m1 ja."
        ]
        assert isinstance(chat.ref, ChatRef)
    finally:
        await bot.close()
