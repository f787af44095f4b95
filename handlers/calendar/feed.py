"""The feed itself: meetings as VEVENTs, written with handlers/calendar/ics_write.py.

- One UID per meeting (`meeting-<id>@<host>`); a series is one VEVENT with its RRULE,
  the cancelled dates as EXDATE, and a moved or renamed date as a VEVENT of the same UID
  with RECURRENCE-ID (its slot in the series), as RFC 5545 means exceptions.
- SEQUENCE is the meeting's change count (`meeting.sequence`), so it rises with every
  /edit and /cancel and calendar apps replace their copy.
- A cancelled single meeting stays in the feed with STATUS:CANCELLED; a series cancelled
  from some date on (`/cancel --serie`) ends with an UNTIL at its last date that took
  place, and is CANCELLED as a whole only when none did.
- The meeting link is in DESCRIPTION (calendar apps show it; many ignore URL) and URL.
- No names of people: who comes is not in any feed.
- The "Dabei" feed lists each date the person said yes to as its own VEVENT
  (`occurrence-<id>@<host>`); a date of theirs that was cancelled stays, cancelled.
- DTSTAMP is the feed's last change, so the same data gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import Lang
from handlers.calendar import ics_write as w
from handlers.meetings.recurrence import Rule
from handlers.meetings.text import meeting_title
from storage.meetings.feed import FeedDate, FeedMeeting

PRODID = "-//Buendnisbot//Kalender//DE"
REFRESH = "PT1H"  # how often calendar apps should look again (most decide themselves)


@dataclass
class Writer:
    """Writes VEVENTs for one feed: its reader's language, the host in UIDs, DTSTAMP."""

    lang: Lang
    host: str
    stamp: datetime

    def __post_init__(self) -> None:
        self._described: dict[tuple[str, str], str] = {}
        self._made: dict[tuple[int, str | None, str], list[str]] = {}
        self._stamp = f"DTSTAMP:{w.utc(self.stamp)}"

    def meeting(self, m: FeedMeeting) -> Iterator[list[str]]:
        """The VEVENTs of one meeting or series."""
        tz = ZoneInfo(m.timezone)
        uid = f"UID:meeting-{m.id}@{self.host}"
        if not m.rrule:
            for d in m.dates:
                status = "CANCELLED" if m.cancelled or d.cancelled else "CONFIRMED"
                yield ["BEGIN:VEVENT", uid, *self._when(m, d.start_at, tz)]
                yield self._common(m, d.title, status)
                yield ["END:VEVENT"]
            return
        rule = Rule.from_rrule(m.rrule, tz)
        live = [d for d in m.dates if not d.cancelled]
        ended = m.cancelled and bool(live)
        if ended:  # cancelled from some date on: the series ends with its last live date
            last = max(d.original_start for d in live).astimezone(tz).date()
            rule = replace(rule, until=last, count=None)
        cancelled = [
            d.original_start
            for d in m.dates
            if d.cancelled
            and (rule.until is None or d.original_start.astimezone(tz).date() <= rule.until)
        ]
        moved = [d for d in live if d.start_at != d.original_start or d.title is not None]
        yield ["BEGIN:VEVENT", uid, *self._when(m, m.start_at, tz), f"RRULE:{rule.to_rrule(tz)}"]
        if cancelled:
            yield [w.local_list("EXDATE", cancelled, tz)]
        status = "CANCELLED" if m.cancelled and not ended else "CONFIRMED"
        yield [*self._common(m, None, status), "END:VEVENT"]
        for d in moved:
            yield ["BEGIN:VEVENT", uid, w.local("RECURRENCE-ID", d.original_start, tz)]
            yield [*self._when(m, d.start_at, tz), *self._common(m, d.title, "CONFIRMED")]
            yield ["END:VEVENT"]

    def date(self, m: FeedMeeting, d: FeedDate) -> list[str]:
        """One date of the "Dabei" feed."""
        status = "CANCELLED" if m.cancelled or d.cancelled else "CONFIRMED"
        return [
            "BEGIN:VEVENT",
            f"UID:occurrence-{d.id}@{self.host}",
            *self._when(m, d.start_at, ZoneInfo(m.timezone)),
            *self._common(m, d.title, status),
            "END:VEVENT",
        ]

    def _when(self, m: FeedMeeting, start: datetime, tz: ZoneInfo) -> list[str]:
        end = start + timedelta(minutes=m.duration_minutes)
        return [w.local("DTSTART", start, tz), w.local("DTEND", end, tz)]

    def _common(self, m: FeedMeeting, title: str | None, status: str) -> list[str]:
        """What every VEVENT of the meeting says; the same for most dates, so made once."""
        key = (m.id, title, status)
        if key not in self._made:
            self._made[key] = self._make(m, title, status)
        return self._made[key]

    def _make(self, m: FeedMeeting, title: str | None, status: str) -> list[str]:
        lines = [
            self._stamp,
            f"SUMMARY:{w.text(meeting_title(self.lang, title if title is not None else m.title))}",
            f"DESCRIPTION:{self._description(m.ag_name, m.url)}",
        ]
        if m.place:
            lines.append(f"LOCATION:{w.text(m.place)}")
        if m.url:
            lines.append(f"URL:{w.uri(m.url)}")
        lines += [f"STATUS:{status}", f"SEQUENCE:{m.sequence}", f"LAST-MODIFIED:{w.utc(m.changed)}"]
        return lines

    def _description(self, ag_name: str, url: str) -> str:
        key = (ag_name, url)
        if key not in self._described:
            described = self.lang.t("AG {ag}", ag=ag_name).plain
            self._described[key] = w.text(described + ("\n" + url if url else ""))
        return self._described[key]


def calendar(name: str, events: Iterable[list[str]], zones: set[str], first: datetime) -> bytes:
    head = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{w.text(name)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}",
        f"X-PUBLISHED-TTL:{REFRESH}",
    ]
    out = [w.fold(line) for line in head]
    out += [w.timezone_block(ZoneInfo(key), first.date()) for key in sorted(zones)]
    out += [w.fold(line) for lines in events for line in lines]
    out.append("END:VCALENDAR\r\n")
    return "".join(out).encode()
