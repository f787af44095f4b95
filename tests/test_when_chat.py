"""Issue 13's dates through the real dispatcher: the phrase that crashed the reader, month
names, the bot's own date read back, a time range whose end shows in the reply, the
reminder and the `.ics` DTEND, a recent past date without a year, `/poll --until Freitag`.

The clock stands on Thursday 3.12.2026 10:00 in Berlin (09:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, Clock, ag2_with_lead, occurrences, reminders, sent_to
from tests.support.poll_chat import Clock as PollClock
from tests.support.poll_chat import last_poll, poll_row, setup_ag, start_poll

THURSDAY = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
HEAD = "📅 Neues Treffen der AG Transparenz und Beteiligung: Plenum"


@pytest.fixture
async def ag2(bot: BotHarness) -> Ag2:
    return await ag2_with_lead(bot, Clock(THURSDAY))


async def planned(ag2: Ag2, text: str) -> list[str]:
    """The first two lines of the lead's answer: the headline and the date."""
    [reply, _announced] = await ag2.anna.say("anna", text)
    return reply.splitlines()[:2]


async def test_a_time_before_the_date_is_read_not_a_crash(ag2: Ag2) -> None:
    """Was: AssertionError at `assert day is not None` -> "Da ist bei mir etwas schiefgegangen"."""
    assert await planned(ag2, "/meeting ag2 um 19 Uhr am 29.12. Plenum") == [
        HEAD,
        "Dienstag, 29. Dezember 2026, 19:00 Uhr",
    ]


async def test_a_weekday_with_a_month_name_is_read(ag2: Ag2) -> None:
    """Was: "Mir fehlt die Uhrzeit" although the time is there."""
    assert await planned(ag2, "/meeting ag2 Mittwoch, den 16. Dezember, 19 Uhr Plenum") == [
        HEAD,
        "Mittwoch, 16. Dezember 2026, 19:00 Uhr",
    ]


@pytest.mark.parametrize(
    ("when", "line"),
    [
        ("16. Dezember 19 Uhr", "Mittwoch, 16. Dezember 2026, 19:00 Uhr"),
        ("16. Dez. 19:00", "Mittwoch, 16. Dezember 2026, 19:00 Uhr"),
        ("12.01.2027 19.30", "Dienstag, 12. Januar 2027, 19:30 Uhr"),
        ("Montagabend 19 Uhr", "Montag, 7. Dezember 2026, 19:00 Uhr"),
        ("morgen Abend 19 Uhr", "Freitag, 4. Dezember 2026, 19:00 Uhr"),
        ("heute Abend 20 Uhr", "Donnerstag, 3. Dezember 2026, 20:00 Uhr"),
        ("Samstag ab 18 Uhr", "Samstag, 5. Dezember 2026, 18:00 Uhr"),
        ("nächsten Dienstag 18 Uhr", "Dienstag, 8. Dezember 2026, 18:00 Uhr"),
        ("kommenden Freitag 18 Uhr", "Freitag, 4. Dezember 2026, 18:00 Uhr"),
        ("nächste Woche Mittwoch 18 Uhr", "Mittwoch, 9. Dezember 2026, 18:00 Uhr"),
        ("übermorgen 18 Uhr", "Samstag, 5. Dezember 2026, 18:00 Uhr"),
        ("16.12. 19:00-21:00", "Mittwoch, 16. Dezember 2026, 19:00–21:00 Uhr"),
        ("19 bis 21 Uhr", "Donnerstag, 3. Dezember 2026, 19:00–21:00 Uhr"),
    ],
)
async def test_the_issues_phrasings_plan_meetings(ag2: Ag2, when: str, line: str) -> None:
    """Each was refused or misread before (issue 13)."""
    assert await planned(ag2, f"/meeting ag2 {when} Plenum") == [HEAD, line]


@pytest.mark.parametrize(
    ("when", "line"),
    [
        ("16.12. 19 Uhr 30", "Mittwoch, 16. Dezember 2026, 19:30 Uhr"),
        ("16.12. 19 Uhr 30 bis 21 Uhr 15", "Mittwoch, 16. Dezember 2026, 19:30–21:15 Uhr"),
    ],
)
async def test_minutes_after_uhr_are_the_time_not_the_title(ag2: Ag2, when: str, line: str) -> None:
    """Was: 19:00 with the title "30 Plenum" (and "15 Plenum" after the end)."""
    assert await planned(ag2, f"/meeting ag2 {when} Plenum") == [HEAD, line]


async def test_invisible_characters_pasted_along_break_no_date(ag2: Ag2) -> None:
    """Was: "„16.12.\u200b 19 Uhr“ verstehe ich nicht als Datum und Uhrzeit", for a
    date that looks right (a zero-width space, a right-to-left mark)."""
    text = "/meeting ag2 \u200f16.12.\u200b 19\u200bUhr\u200f Plenum"
    assert await planned(ag2, text) == [HEAD, "Mittwoch, 16. Dezember 2026, 19:00 Uhr"]


async def test_the_bots_own_date_reads_back(ag2: Ag2) -> None:
    """The date line of one answer, typed again, plans the same time."""
    [_head, line] = await planned(ag2, "/meeting ag2 16. Jan. 2027 19:00 Plenum")
    assert line == "Samstag, 16. Januar 2027, 19:00 Uhr"
    [question] = await ag2.anna.say("anna", f"/meeting ag2 {line} Plenum")
    assert question.startswith("In der AG Transparenz und Beteiligung gibt es schon Plenum am Sa")
    assert await planned(ag2, "/meeting ja") == [HEAD, line]
    [first, second] = await occurrences(ag2.bot)
    assert first.start_at == second.start_at == datetime(2027, 1, 16, 18, 0, tzinfo=UTC)


async def test_a_time_range_sets_the_end_shown_everywhere(ag2: Ag2) -> None:
    """Was: the end became the title ("20:30 Uhr Plenum") and the meeting lasted an hour."""
    [reply, announced] = await ag2.anna.say("anna", "/meeting ag2 29.12. 18:30 - 20:30 Uhr Plenum")
    assert reply.splitlines()[:2] == [HEAD, "Dienstag, 29. Dezember 2026, 18:30–20:30 Uhr"]
    assert announced.splitlines()[1] == "Dienstag, 29. Dezember 2026, 18:30–20:30 Uhr"
    # The range, as the bot wrote it, reads back as the same range.
    [_, again] = await planned(ag2, "/meeting ag2 Dienstag, 29. Dezember 2026, 18:30–20:30 Uhr")
    assert again == "Dienstag, 29. Dezember 2026, 18:30–20:30 Uhr"

    # The calendar file ends the event at 20:30.
    assert await ag2.ben.say("ben", "/ics ag2") == []
    calendar = Calendar.from_ical(ag2.bot.transport.files[-1].data)
    [event, _again] = [c for c in calendar.walk("VEVENT")]
    assert event["SUMMARY"] == "Plenum"
    assert event.decoded("DTSTART").strftime("%d.%m.%Y %H:%M") == "29.12.2026 18:30"
    assert event.decoded("DTEND").strftime("%d.%m.%Y %H:%M") == "29.12.2026 20:30"

    # The reminder a day before names the end too.
    first = (await reminders(ag2.bot))[0]
    ag2.clock.set(first.due_at)
    await ag2.engine.fire(first.id)
    [reminder] = [t for t in sent_to(ag2.bot, "ag2-gruppe") if t.startswith("⏰")]
    assert reminder.splitlines()[:2] == [
        "⏰ Erinnerung: Plenum – AG Transparenz und Beteiligung",
        "Dienstag, 29. Dezember 2026, 18:30–20:30 Uhr (noch 1 Tag)",
    ]


async def test_ranges_in_english_and_the_short_forms(ag2: Ag2) -> None:
    assert await planned(ag2, "/meeting ag2 Di 18–20 Uhr Plenum") == [
        HEAD,
        "Dienstag, 8. Dezember 2026, 18:00–20:00 Uhr",
    ]
    [row] = [o for o in await occurrences(ag2.bot)]
    assert (row.start_at.hour, row.start_at.minute) == (17, 0)
    await ag2.anna.say("anna", "/lang en")
    [reply, _] = await ag2.anna.say("anna", "/meeting ag2 Dec 16 7-9pm Plenum")
    assert "Wednesday, 16 December 2026, 19:00–21:00" in reply


async def test_an_end_before_the_start_is_refused(ag2: Ag2) -> None:
    assert await ag2.anna.say("anna", "/meeting ag2 16.12. 21:00-19:00 Plenum") == [
        "21:00-19:00: Das Ende liegt vor dem Anfang. Schreib es z. B. so: 19:00-21:00."
    ]
    assert await ag2.anna.say("anna", "/meeting ag2 16.12. 19-21 Uhr Plenum --dauer 3h") == [
        "Bitte nur eins: das Ende (19:00–21:00) oder --dauer."
    ]
    await ag2.anna.say("anna", "/lang en")
    assert await ag2.anna.say("anna", "/meeting ag2 16.12. 21:00-19:00 Plenum") == [
        "21:00-19:00: the end is before the start. Write it like 19:00-21:00."
    ]
    assert await occurrences(ag2.bot) == []


async def test_a_recent_date_without_a_year_is_asked_about_not_moved_a_year(ag2: Ag2) -> None:
    """Was: 1 December 2027, silently."""
    assert await ag2.anna.say("anna", "/meeting ag2 01.12. 18 Uhr Test") == [
        "Der 01.12.2026 ist schon vorbei. Meintest du 01.12.2027? Dann schreib das Jahr dazu."
    ]
    await ag2.anna.say("anna", "/lang en")
    assert await ag2.anna.say("anna", "/meeting ag2 01.12. 18 Uhr Test") == [
        "1 Dec 2026 is already over. Did you mean 1 Dec 2027? Then add the year."
    ]
    assert await occurrences(ag2.bot) == []
    # Long over (January): next year, as before.
    [_, line] = (await ag2.anna.say("anna", "/meeting ag2 15.01. 18 Uhr Test"))[0].splitlines()[:2]
    assert line == "Friday, 15 January 2027, 18:00"


async def test_a_date_part_that_cannot_be_placed_is_refused_not_titled(ag2: Ag2) -> None:
    assert await ag2.anna.say("anna", "/meeting ag2 Freitag 19 Uhr 20 Uhr Plenum") == [
        "„20 Uhr“ passt nicht dazu: Datum und Uhrzeit bitte nur einmal. Das geht z. B. so: "
        "03.12.2026 18:00, morgen 19 Uhr, Di 18:00, in 2 Stunden."
    ]
    assert await ag2.anna.say("anna", "/meeting ag2 nächste Woche Plenum") == [
        "Welcher Tag nächste Woche? Schreib ihn dazu, z. B. nächste Woche Mittwoch 18 Uhr."
    ]
    assert await occurrences(ag2.bot) == []


async def test_poll_until_a_weekday_reads_like_a_meeting(bot: BotHarness) -> None:
    """Was: refused, while `/meeting Freitag ...` worked."""
    group = await setup_ag(bot)
    bot.app.services.clock = PollClock(THURSDAY)

    short_id = await start_poll(group, "anna", '/poll "Wann?" "Di" "Mi" --until Freitag')

    poll = await poll_row(bot, short_id)
    assert poll.closes_at is not None
    assert poll.closes_at.astimezone(UTC) == datetime(2026, 12, 4, 22, 59, tzinfo=UTC)
    _, spec = last_poll(bot.transport)
    assert spec.fallback.plain.endswith("Läuft bis Freitag, 4. Dezember 2026, 23:59 Uhr.")
    short_id = await start_poll(
        group, "anna", '/poll "Wann?" "Di" "Mi" --until 16. Dezember 19 Uhr'
    )
    poll = await poll_row(bot, short_id)
    assert poll.closes_at is not None
    assert poll.closes_at.astimezone(UTC) - THURSDAY == timedelta(days=13, hours=9)
    assert await group.say("anna", '/poll "Wann?" "Di" "Mi" --until 01.12.') == [
        "Der 01.12.2026 ist schon vorbei. Meintest du 01.12.2027? Dann schreib das Jahr dazu."
    ]
    assert await group.say("anna", '/poll "Wann?" "Di" "Mi" --until Freitag 18-20 Uhr') == [
        "Nach --until bitte nur ein Zeitpunkt, kein Zeitraum. Beispiel: --until Freitag 18 Uhr."
    ]
