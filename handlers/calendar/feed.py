"""The feed itself: meetings as VEVENTs, written with handlers/calendar/ics_write.py.

- One UID per meeting (`meeting-<id>@<host>`); a series is one VEVENT with its RRULE,
  the cancelled dates as EXDATE, and a moved or renamed date as a VEVENT of the same UID
  with RECURRENCE-ID (its slot in the series), as RFC 5545 means exceptions.
- SEQUENCE is the meeting's change count (`meeting.sequence`), so it rises with every
  /edit and /cancel and calendar apps replace their copy.
- A cancelled single meeting stays in the feed with STATUS:CANCELLED.
- The meeting link is in DESCRIPTION (calendar apps show it; many ignore URL) and URL.
- No names of people: who comes is not in any feed.
- The "Dabei" feed lists each date the person said yes to as its own VEVENT
  (`occurrence-<id>@<host>`); a date of theirs that was cancelled stays, cancelled.
- DTSTAMP is the feed's last change, so the same data gives the same bytes and ETag.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import Lang
from handlers.calendar import ics_write as w
from handlers.meetings.recurrence import Rule
from handlers.meetings.text import meeting_title
from storage.meetings.feed import FeedMeeting
from storage.meetings.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from storage.models import Ag

PRODID = "-//Buendnisbot//Kalender//DE"
REFRESH = "PT1H"  # how often calendar apps should look again (most decide themselves)


@dataclass(frozen=True)
class Dated:
    """One date of the "Dabei" feed."""

    occurrence: Occurrence
    meeting: Meeting
    ag: Ag


def changed(meeting: Meeting) -> datetime:
    return meeting.changed_at or meeting.created_at


def calendar(
    name: str, events: Iterator[list[str]], zones: set[str], first: datetime, stamp: datetime
) -> bytes:
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
    for lines in events:
        out += [w.fold(line) for line in lines]
    out.append("END:VCALENDAR\r\n")
    return "".join(out).encode()


def _common(
    lang: Lang, meeting: Meeting, ag: Ag, title: str | None, stamp: datetime, status: str
) -> list[str]:
    description = lang.t("AG {ag}", ag=ag.name).plain
    if meeting.url:
        description += "\n" + meeting.url
    lines = [
        f"DTSTAMP:{w.utc(stamp)}",
        f"SUMMARY:{w.text(meeting_title(lang, title if title is not None else meeting.title))}",
        f"DESCRIPTION:{w.text(description)}",
    ]
    if meeting.place:
        lines.append(f"LOCATION:{w.text(meeting.place)}")
    if meeting.url:
        lines.append(f"URL:{w.uri(meeting.url)}")
    lines += [
        f"STATUS:{status}",
        f"SEQUENCE:{meeting.sequence or 0}",
        f"LAST-MODIFIED:{w.utc(changed(meeting))}",
    ]
    return lines


def _when(meeting: Meeting, start: datetime, tz: ZoneInfo) -> list[str]:
    end = start + timedelta(minutes=meeting.duration_minutes)
    return [w.local("DTSTART", start, tz), w.local("DTEND", end, tz)]


def meeting_events(
    item: FeedMeeting, lang: Lang, host: str, stamp: datetime
) -> Iterator[list[str]]:
    """The VEVENTs of one meeting or series."""
    meeting, ag = item.meeting, item.ag
    tz = ZoneInfo(meeting.timezone)
    uid = f"UID:meeting-{meeting.id}@{host}"
    called_off = meeting.status == MeetingStatus.CANCELLED.value
    if not meeting.rrule:
        for o in item.occurrences:
            off = called_off or o.status == OccurrenceStatus.CANCELLED.value
            status = "CANCELLED" if off else "CONFIRMED"
            yield [
                "BEGIN:VEVENT",
                uid,
                *_when(meeting, o.start_at, tz),
                *_common(lang, meeting, ag, o.title, stamp, status),
                "END:VEVENT",
            ]
        return
    cancelled = [o for o in item.occurrences if o.status == OccurrenceStatus.CANCELLED.value]
    moved = [
        o
        for o in item.occurrences
        if o.status != OccurrenceStatus.CANCELLED.value
        and (o.start_at != o.original_start or o.title is not None)
    ]
    rule = Rule.from_rrule(meeting.rrule, tz).to_rrule(tz)
    master = ["BEGIN:VEVENT", uid, *_when(meeting, meeting.start_at, tz), f"RRULE:{rule}"]
    if cancelled:
        master.append(w.local_list("EXDATE", [o.original_start for o in cancelled], tz))
    status = "CANCELLED" if called_off else "CONFIRMED"
    yield [*master, *_common(lang, meeting, ag, None, stamp, status), "END:VEVENT"]
    for o in moved:
        yield [
            "BEGIN:VEVENT",
            uid,
            w.local("RECURRENCE-ID", o.original_start, tz),
            *_when(meeting, o.start_at, tz),
            *_common(lang, meeting, ag, o.title, stamp, "CONFIRMED"),
            "END:VEVENT",
        ]


def going_events(items: list[Dated], lang: Lang, host: str, stamp: datetime) -> Iterator[list[str]]:
    for item in items:
        o, meeting = item.occurrence, item.meeting
        off = (
            meeting.status == MeetingStatus.CANCELLED.value
            or o.status == OccurrenceStatus.CANCELLED.value
        )
        yield [
            "BEGIN:VEVENT",
            f"UID:occurrence-{o.id}@{host}",
            *_when(meeting, o.start_at, ZoneInfo(meeting.timezone)),
            *_common(lang, meeting, item.ag, o.title, stamp, "CANCELLED" if off else "CONFIRMED"),
            "END:VEVENT",
        ]
