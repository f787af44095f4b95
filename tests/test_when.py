"""Dates and times as people write them, against a fixed clock: Saturday 28.11.2026 10:00
in Berlin. Also the DST gap and repeat hour, durations, reminder offsets and the answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import Translator
from bot.rich import Rich
from bot.when import (
    WhenError,
    parse_date,
    parse_duration,
    parse_offsets,
    parse_when,
)
from bot.when_text import format_duration, format_full, format_short

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 28, 10, 0, 37, tzinfo=BERLIN)  # a Saturday
OCTOBER = datetime(2026, 10, 1, 12, 0, tzinfo=BERLIN)  # before the autumn change
TRANSLATOR = Translator()
DE, EN = TRANSLATOR.for_language("de"), TRANSLATOR.for_language("en")


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def when(text: str, now: datetime = NOW, **kw: bool) -> tuple[datetime, str]:
    return parse_when(text, now=now, tz=BERLIN, **kw)


def error(text: str, now: datetime = NOW, **kw: bool) -> WhenError:
    with pytest.raises(WhenError) as caught:
        parse_when(text, now=now, tz=BERLIN, **kw)
    return caught.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03.12.2026 18:00", at(2026, 12, 3, 18)),
        ("3.12.2026 18 Uhr", at(2026, 12, 3, 18)),
        ("03.12.26 18:00", at(2026, 12, 3, 18)),
        ("03.12. 18:00", at(2026, 12, 3, 18)),
        ("3.12 18:00", at(2026, 12, 3, 18)),
        ("15.01. 18:00", at(2027, 1, 15, 18)),  # long over this year: next year
        ("2026-12-03 18:00", at(2026, 12, 3, 18)),
        ("2026-12-03T18:00", at(2026, 12, 3, 18)),
        ("am 03.12.2026 um 18 Uhr", at(2026, 12, 3, 18)),
        ("Do, 03.12.2026 18:00", at(2026, 12, 3, 18)),
        ("heute 18 Uhr", at(2026, 11, 28, 18)),
        ("morgen 19 Uhr", at(2026, 11, 29, 19)),
        ("Morgen um 19:30", at(2026, 11, 29, 19, 30)),
        ("übermorgen 10:00", at(2026, 11, 30, 10)),
        ("Di 18:00", at(2026, 12, 1, 18)),
        ("Di. 18:00", at(2026, 12, 1, 18)),
        ("Dienstag 18 Uhr", at(2026, 12, 1, 18)),
        ("am Dienstag um 18 Uhr", at(2026, 12, 1, 18)),
        ("nächsten Dienstag 18:00", at(2026, 12, 1, 18)),
        ("Sa 18:00", at(2026, 11, 28, 18)),  # today, still ahead
        ("Sa 09:00", at(2026, 12, 5, 9)),  # today's has passed: next week
        ("nächsten Samstag 18:00", at(2026, 12, 5, 18)),  # "next" is never today
        ("in 2 Stunden", at(2026, 11, 28, 12)),
        ("in 30 Minuten", at(2026, 11, 28, 10, 30)),
        ("in einer Stunde", at(2026, 11, 28, 11)),
        ("in 2h", at(2026, 11, 28, 12)),
        ("in 3 Tagen 18:00", at(2026, 12, 1, 18)),
        ("in 3 Tagen", at(2026, 12, 1, 10)),
        ("in 1 Woche 18 Uhr", at(2026, 12, 5, 18)),
        ("18:00", at(2026, 11, 28, 18)),
        ("18.30 Uhr", at(2026, 11, 28, 18, 30)),
        ("18h", at(2026, 11, 28, 18)),
        ("18h30", at(2026, 11, 28, 18, 30)),
        ("18 Uhr morgen", at(2026, 11, 29, 18)),
        ("today 6pm", at(2026, 11, 28, 18)),
        ("tomorrow 18:00", at(2026, 11, 29, 18)),
        ("tomorrow at 6:30 pm", at(2026, 11, 29, 18, 30)),
        ("tomorrow 10am", at(2026, 11, 29, 10)),
        ("day after tomorrow 12pm", at(2026, 11, 30, 12)),
        ("Tue 18:00", at(2026, 12, 1, 18)),
        ("next Tuesday 6:30pm", at(2026, 12, 1, 18, 30)),
        ("on Thursday 7 p.m.", at(2026, 12, 3, 19)),
        ("in 2 hours", at(2026, 11, 28, 12)),
        ("in 45 mins", at(2026, 11, 28, 10, 45)),
    ],
)
def test_german_and_english_forms(text: str, expected: datetime) -> None:
    result, rest = when(text)
    assert result == expected
    assert result.utcoffset() == expected.utcoffset()
    assert rest == ""


def test_midnight_12am_is_the_start_of_the_day() -> None:
    assert when("tomorrow 12am")[0] == at(2026, 11, 29, 0)


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        (
            "03.12.2026 18:00 Online-Treffen https://meet.example/ag2",
            "Online-Treffen https://meet.example/ag2",
        ),
        ("morgen 19 Uhr Plenum im Haus der Demokratie", "Plenum im Haus der Demokratie"),
        ("Di 18:00, Plenum", "Plenum"),
        ("Di 18:00 – Plenum", "Plenum"),
        ("18:00 am Rathaus", "am Rathaus"),  # German "am" is not a.m.
        ("in 2 Stunden Kurzabstimmung", "Kurzabstimmung"),
        ("Di 18:00 --weekly", "--weekly"),
        ("Di 18:00 AG Treffen", "AG Treffen"),
        ("18:00 So geht's weiter", "So geht's weiter"),  # a bare weekday after a time is title
    ],
)
def test_the_rest_of_the_text_is_returned(text: str, rest: str) -> None:
    assert when(text)[1] == rest


def test_relative_hours_are_real_hours_across_the_dst_change() -> None:
    night = datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN)  # 01:30 summer time
    result, _ = parse_when("in 2 Stunden", now=night, tz=BERLIN)
    assert result.astimezone(UTC) - night.astimezone(UTC) == timedelta(hours=2)
    assert (result.hour, result.minute, result.utcoffset()) == (2, 30, timedelta(hours=1))


@pytest.mark.parametrize(
    ("text", "reason", "shown"),
    [
        ("31.02.2026 18:00", "bad_date", "31.02.2026"),
        ("30.13.2026 18:00", "bad_date", "30.13.2026"),
        ("25:00", "bad_time", "25:00"),
        ("morgen 18:61", "bad_time", "18:61"),
        ("13pm", "bad_time", "13pm"),
        ("irgendwann", "", "irgendwann"),
        ("in Leipzig", "", "in Leipzig"),
        ("12/03/2026 6pm", "slash", "12/03/2026"),
        ("03.12.2026", "missing_time", "03.12.2026"),
        ("Dienstag Plenum", "missing_time", "Dienstag"),
        ("3.12", "", "3.12"),  # a time or a date? ask instead of guessing
        ("Do 04.12.2026 18:00", "weekday", "Do 04.12.2026"),
        ("03.12.2026 18:00 MESZ", "zone", "MESZ"),  # December is MEZ
        ("   ", "empty", ""),
    ],
)
def test_unparsable(text: str, reason: str, shown: str) -> None:
    err = error(text)
    assert (err.code, err.reason, err.text) == ("unparsable", reason, shown)


@pytest.mark.parametrize(
    "text", ["27.11.2026 18:00", "09:00", "heute 10 Uhr", "2026-01-01 12:00", "27.11. 18:00"]
)
def test_past(text: str) -> None:
    assert error(text).code == "past"


def test_past_is_allowed_when_asked() -> None:
    assert when("27.11.2026 18:00", allow_past=True)[0] == at(2026, 11, 27, 18)


def test_too_far_ahead() -> None:
    assert error("03.12.2030 18:00").code == "too_far"
    assert when("03.11.2028 18:00")[0] == at(2028, 11, 3, 18)


def test_spring_gap_is_nonexistent() -> None:
    err = error("2027-03-28 02:30")
    assert err.code == "nonexistent"
    assert err.suggestion == at(2027, 3, 28, 3, 30)
    assert err.message(DE).plain == (
        "Am 28.03.2027 gibt es 02:30 nicht (Zeitumstellung). Nimm z. B. 03:30."
    )
    spring = datetime(2026, 3, 1, 12, tzinfo=BERLIN)
    assert error("29.03.2026 02:30", now=spring).message(DE).plain == (
        "Am 29.03.2026 gibt es 02:30 nicht (Zeitumstellung). Nimm z. B. 03:30."
    )


def test_autumn_repeat_is_ambiguous_until_the_zone_is_named() -> None:
    err = error("2026-10-25 02:30", now=OCTOBER)
    assert err.code == "ambiguous"
    assert err.message(DE).plain == (
        "Am 25.10.2026 gibt es 02:30 zweimal (Zeitumstellung). "
        "Schreib 02:30 MESZ für das erste oder 02:30 MEZ für das zweite Mal."
    )
    for suffix, offset, hour_utc in (("MESZ", 2, 0), ("CEST", 2, 0), ("MEZ", 1, 1), ("cet", 1, 1)):
        result, rest = when(f"25.10.2026 02:30 {suffix} Plenum", now=OCTOBER)
        assert (result.hour, result.minute) == (2, 30)
        assert result.utcoffset() == timedelta(hours=offset)
        assert result.astimezone(UTC).hour == hour_utc
        assert rest == "Plenum"


def test_the_repeat_hour_is_written_with_its_zone() -> None:
    first, _ = when("25.10.2026 02:30 MESZ", now=OCTOBER)
    second, _ = when("25.10.2026 02:30 MEZ", now=OCTOBER)
    assert format_full(first, "de") == "Sonntag, 25. Oktober 2026, 02:30 Uhr MESZ"
    assert format_full(second, "en") == "Sunday, 25 October 2026, 02:30 CET"


def test_format_full_and_short() -> None:
    dt = at(2026, 12, 3, 18)
    assert format_full(dt, "de") == "Donnerstag, 3. Dezember 2026, 18:00 Uhr"
    assert format_full(dt, "en") == "Thursday, 3 December 2026, 18:00"
    assert format_short(dt, "de") == "Do 03.12. 18:00"
    assert format_short(dt, "en") == "Thu 3 Dec 18:00"
    assert format_full(dt.astimezone(UTC).astimezone(BERLIN), "de").endswith("18:00 Uhr")


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 11, 29), max_value=datetime(2028, 11, 1)))
def test_every_written_date_reads_back(naive: datetime) -> None:
    """What the bot writes (`dd.mm.yyyy HH:MM`) reads back as the same time, except in the
    DST gap and repeat hour, which are refused."""
    naive = naive.replace(second=0, microsecond=0)
    try:
        result, _ = when(naive.strftime("%d.%m.%Y %H:%M"))
    except WhenError as err:
        assert err.code in ("nonexistent", "ambiguous")
        return
    assert result.replace(tzinfo=None) == naive


@pytest.mark.parametrize(
    ("text", "minutes", "de", "en"),
    [
        ("2d", 2880, "2 Tage", "2 days"),
        ("1h", 60, "1 Stunde", "1 hour"),
        ("10m", 10, "10 Minuten", "10 minutes"),
        ("90m", 90, "1 Stunde, 30 Minuten", "1 hour, 30 minutes"),
        ("1h30m", 90, "1 Stunde, 30 Minuten", "1 hour, 30 minutes"),
        ("1w", 10080, "1 Woche", "1 week"),
        ("3d", 4320, "3 Tage", "3 days"),
        ("1d", 1440, "1 Tag", "1 day"),
        ("2 Tage", 2880, "2 Tage", "2 days"),
        ("1 Stunde", 60, "1 Stunde", "1 hour"),
    ],
)
def test_durations(text: str, minutes: int, de: str, en: str) -> None:
    td = parse_duration(text)
    assert td == timedelta(minutes=minutes)
    assert (format_duration(td, "de"), format_duration(td, "en")) == (de, en)


@pytest.mark.parametrize("text", ["", "2", "x", "1.5h", "30s", "-1h", "2 Monate", "1h and"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(WhenError) as caught:
        parse_duration(text)
    assert (caught.value.code, caught.value.reason) == ("unparsable", "duration")


def test_offsets_are_unique_and_largest_first() -> None:
    assert parse_offsets(["10m", "2d", "1h", "60m"]) == [
        timedelta(days=2),
        timedelta(hours=1),
        timedelta(minutes=10),
    ]
    assert parse_offsets(["2", "Tage", "1", "Stunde"]) == [timedelta(days=2), timedelta(hours=1)]
    assert parse_offsets(["30d", "1m"]) == [timedelta(days=30), timedelta(minutes=1)]
    assert parse_offsets([]) == []


@pytest.mark.parametrize(
    ("items", "reason"),
    [
        (["31d"], "offset_range"),
        (["0m"], "offset_range"),
        (["5w"], "offset_range"),
        (["1h", "soon"], "duration"),
        ([f"{n}m" for n in range(1, 12)], "too_many"),
    ],
)
def test_bad_offsets(items: list[str], reason: str) -> None:
    with pytest.raises(WhenError) as caught:
        parse_offsets(items)
    assert caught.value.reason == reason
    assert caught.value.message(DE).plain


def test_parse_date_for_until() -> None:
    today = NOW.date()
    assert parse_date("31.03.2027", today=today) == datetime(2027, 3, 31).date()
    assert parse_date("2027-03-31", today=today) == datetime(2027, 3, 31).date()
    assert parse_date("31.03.", today=today) == datetime(2027, 3, 31).date()
    with pytest.raises(WhenError):
        parse_date("31.02.2027", today=today)
    with pytest.raises(WhenError):
        parse_date("bald", today=today)


def test_answers_in_german_say_what_would_work() -> None:
    assert error("irgendwann").message(DE).plain == (
        "„irgendwann“ verstehe ich nicht als Datum und Uhrzeit. Das geht z. B. so: "
        "03.12.2026 18:00, morgen 19 Uhr, Di 18:00, in 2 Stunden."
    )
    assert error("31.02.2026 18:00").message(DE).plain == (
        "Den 31.02.2026 gibt es nicht im Kalender. Prüf bitte Tag und Monat."
    )
    assert error("09:00").message(DE).plain == (
        "Samstag, 28. November 2026, 09:00 Uhr ist schon vorbei. "
        "Nimm einen Zeitpunkt in der Zukunft, z. B. morgen 09:00."
    )
    assert error("12/03/2026").message(DE).plain.startswith("12/03/2026: Daten mit Schrägstrich")
    assert error("03.12.2026").message(DE).plain == (
        "Mir fehlt die Uhrzeit. Schreib sie dazu, z. B. 03.12.2026 18:00."
    )
    assert error("Do 04.12.2026 18:00").message(DE).plain == (
        "Der 04.12.2026 ist ein Freitag, kein Donnerstag. Welcher Tag ist gemeint?"
    )


@pytest.mark.parametrize(
    "text",
    ["irgendwann", "", "31.02.2026 18:00", "25:00", "09:00", "03.12.2030 18:00", "12/03/2026"],
)
def test_every_answer_exists_in_english_too(text: str) -> None:
    message = error(text).message(EN)
    assert isinstance(message, Rich) and message.plain
    assert error("2026-10-25 02:30", now=OCTOBER).message(EN).plain
    assert "tomorrow 7pm" in error("irgendwann").message(EN).plain
