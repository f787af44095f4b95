"""An AG's meetings as an RFC 5545 calendar file (`/ics ag2`), importable into common apps.

Times are written in the AG's zone with a TZID and a VTIMEZONE generated from the zoneinfo
transitions, so a recurring 18:00 stays 18:00 across DST in the calendar app as in the bot.
Escaping, line folding (75 octets) and CRLF are left to `icalendar`, which does them right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur, vUri

from handlers.meetings.recurrence import Rule

PRODID = "-//Buendnisbot//Meetings//DE"
# RDATE-style VTIMEZONEs end where they are generated; cover far beyond any meeting.
TIMEZONE_YEARS_AHEAD = 20


@dataclass
class IcsEvent:
    """One meeting (or series, with `rule`); `exdates` are cancelled occurrences of it."""

    uid: str
    start: datetime
    end: datetime | None
    title: str
    description: str = ""
    location: str = ""
    url: str = ""
    rule: Rule | None = None
    exdates: list[datetime] = field(default_factory=list)
    cancelled: bool = False
    sequence: int = 0  # raise on every edit, so calendar apps replace the older copy


def calendar(
    events: list[IcsEvent], *, name: str, tz: ZoneInfo, now: datetime | None = None
) -> bytes:
    """A VCALENDAR (METHOD:PUBLISH) of `events`, all times in `tz`. `now` is the DTSTAMP
    (defaults to the current time; pass it for reproducible output)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz.key)
    for item in events:
        cal.add_component(_event(item, tz, stamp))
    first, last = _span(events, stamp)
    cal.add_missing_timezones(first_date=first, last_date=last)
    return bytes(cal.to_ical())


def _event(item: IcsEvent, tz: ZoneInfo, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", item.start.astimezone(tz))
    if item.end is not None:
        event.add("dtend", item.end.astimezone(tz))
    event.add("summary", item.title)
    if item.description:
        event.add("description", item.description)
    if item.location:
        event.add("location", item.location)
    if item.url:
        event.add("url", vUri(item.url))
    if item.rule is not None:
        event.add("rrule", vRecur.from_ical(item.rule.to_rrule(tz)))
    if item.exdates:
        event.add("exdate", [d.astimezone(tz) for d in sorted(item.exdates)])
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    event.add("sequence", item.sequence)
    return event


def _span(events: list[IcsEvent], stamp: datetime) -> tuple[date, date]:
    """The dates the VTIMEZONE must cover: from the earliest meeting to well past the last."""
    starts = [e.start.date() for e in events] or [stamp.date()]
    ends = [e.rule.until for e in events if e.rule and e.rule.until] + starts + [stamp.date()]
    first = min(starts) - timedelta(days=1)
    last = max(ends)
    return first, date(last.year + TIMEZONE_YEARS_AHEAD, 1, 1)
