"""The `.ics` export parsed back with `icalendar` and checked: header, time zone, escaping,
folding, and that a calendar app expanding the RRULE gets the bot's own occurrences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar, Event, Timezone

from handlers.meetings.ics import IcsEvent, calendar
from handlers.meetings.recurrence import Rule, occurrences

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
START = datetime(2026, 12, 1, 18, 0, tzinfo=BERLIN)  # first Tuesday
TITLE = "Plenum: Übergänge, Öffentlichkeit; Ärger"
LONG = "Tagesordnung – Bürgerbeteiligung im Revier. " * 120  # ~5,000 characters


def _export(**changes: object) -> bytes:
    series = IcsEvent(
        uid="m1-ag2@buendnisbot",
        start=START,
        end=START + timedelta(hours=2),
        title=TITLE,
        description=LONG,
        location="Leipzig, Haus der Demokratie",
        url="https://meet.example/ag2",
        rule=Rule("monthly", monthly_nth=1, monthly_weekday=1, until=date(2027, 12, 31)),
        exdates=[datetime(2027, 1, 5, 18, tzinfo=BERLIN)],
    )
    for key, value in changes.items():
        setattr(series, key, value)
    single = IcsEvent(
        uid="m2-ag2@buendnisbot",
        start=datetime(2027, 7, 7, 17, 0, tzinfo=UTC),  # given in UTC, written in Berlin
        end=None,
        title="Sommerfest",
        cancelled=True,
    )
    return calendar([series, single], name="AG 2 – Transparenz und Beteiligung", tz=BERLIN, now=NOW)


def _events(raw: bytes) -> list[Event]:
    return Calendar.from_ical(raw).events


def test_header_and_time_zone() -> None:
    cal = Calendar.from_ical(_export())
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]).startswith("-//")
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "AG 2 – Transparenz und Beteiligung"
    zones = list(cal.walk("VTIMEZONE"))
    assert [str(z["TZID"]) for z in zones] == ["Europe/Berlin"]


def test_the_vtimezone_has_berlin_offsets_for_years_ahead() -> None:
    zone = next(iter(Calendar.from_ical(_export()).walk("VTIMEZONE")))
    assert isinstance(zone, Timezone)
    tz = zone.to_tz()
    for moment in (datetime(2027, 1, 5, 18), datetime(2027, 7, 6, 18), datetime(2035, 7, 3, 18)):
        expected = moment.replace(tzinfo=BERLIN).utcoffset()
        assert moment.replace(tzinfo=tz).utcoffset() == expected


def test_event_fields_survive_the_round_trip() -> None:
    series, single = _events(_export())
    assert str(series["UID"]) == "m1-ag2@buendnisbot"
    assert series["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert series.start == START
    assert series.end == START + timedelta(hours=2)
    assert series.stamp == NOW
    assert series.summary == TITLE
    assert series.description == LONG
    assert series.location == "Leipzig, Haus der Demokratie"
    assert series.url == "https://meet.example/ag2"
    assert series.status == "CONFIRMED"
    assert [r.to_ical() for r in series.rrules] == [
        b"FREQ=MONTHLY;UNTIL=20271231T225959Z;BYDAY=1TU"
    ]
    assert series.exdates == [datetime(2027, 1, 5, 18, tzinfo=BERLIN)]
    assert single.start == datetime(2027, 7, 7, 19, 0, tzinfo=BERLIN)
    assert single["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert "DTEND" not in single
    assert single.status == "CANCELLED"


def test_text_is_escaped_folded_and_crlf() -> None:
    raw = _export()
    assert "SUMMARY:Plenum: Übergänge\\, Öffentlichkeit\\; Ärger".encode() in raw
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in lines) <= 75
    description = [i for i, line in enumerate(lines) if line.startswith(b"DESCRIPTION:")]
    continuation = lines[description[0] + 1 : description[0] + 60]
    assert all(line.startswith(b" ") for line in continuation)


def test_a_calendar_app_expands_the_series_like_the_bot() -> None:
    series = _events(_export())[0]
    rule = rrulestr(series.rrules[0].to_ical().decode(), dtstart=series.start)
    window_end = datetime(2028, 6, 1, tzinfo=BERLIN)
    theirs = [d.astimezone(UTC) for d in rule if d < window_end]
    ours = occurrences(
        START,
        Rule("monthly", monthly_nth=1, monthly_weekday=1, until=date(2027, 12, 31)),
        after=START,
        until=window_end,
    )
    assert theirs == [d.astimezone(UTC) for d in ours]
    assert len(ours) == 13 and ours[-1] == datetime(2027, 12, 7, 18, tzinfo=BERLIN)
    assert {d.astimezone(BERLIN).hour for d in theirs} == {18}


def test_weekly_series_across_dst_matches_too() -> None:
    start = datetime(2027, 3, 9, 18, tzinfo=BERLIN)
    rule = Rule("weekly", 2, count=6)
    raw = calendar([IcsEvent("w@x", start, None, "AG 1", rule=rule)], name="AG 1", tz=BERLIN)
    event = _events(raw)[0]
    expanded = list(rrulestr(event.rrules[0].to_ical().decode(), dtstart=event.start))
    ours = occurrences(start, rule, after=start, until=datetime(2028, 1, 1, tzinfo=BERLIN))
    assert [d.astimezone(UTC) for d in expanded] == [d.astimezone(UTC) for d in ours]
    assert [d.astimezone(UTC).hour for d in ours] == [17, 17, 16, 16, 16, 16]


def test_an_empty_calendar_is_valid() -> None:
    cal = Calendar.from_ical(calendar([], name="AG 3", tz=BERLIN, now=NOW))
    assert list(cal.walk("VEVENT")) == []
    assert str(cal["X-WR-CALNAME"]) == "AG 3"
