"""A small, fast iCalendar (RFC 5545) writer for feeds.

`icalendar` builds a component tree and takes ~150 ms for 500 events; a feed is asked
for by every subscribed calendar app every few hours, so its lines are written here
directly: TEXT values escaped (backslash, `;`, `,`, line breaks; other control
characters dropped), lines folded at 75 octets without splitting a UTF-8 character,
CRLF line ends. The VTIMEZONE blocks still come from `icalendar` (generated from
zoneinfo's transitions), once per zone and span, cached. Tests parse every feed back
with `icalendar`.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

LINE_OCTETS = 75
TIMEZONE_YEARS_AHEAD = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text(value: str) -> str:
    """A TEXT value (SUMMARY, LOCATION, DESCRIPTION)."""
    value = _CONTROL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def uri(value: str) -> str:
    """A URI value (URL): no control characters or spaces can be in one."""
    return _CONTROL.sub("", value).replace("\n", "").replace("\r", "").replace(" ", "%20")


def fold(line: str) -> str:
    """The content line, folded into pieces of at most 75 octets, with CRLF."""
    if len(line) <= LINE_OCTETS // 4:  # short enough whatever its characters
        return line + "\r\n"
    data = line.encode()
    if len(data) <= LINE_OCTETS:
        return line + "\r\n"
    pieces: list[str] = []
    limit = LINE_OCTETS
    while data:
        cut = min(limit, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:  # inside a UTF-8 character
            cut -= 1
        pieces.append(data[:cut].decode())
        data = data[cut:]
        limit = LINE_OCTETS - 1  # continuation lines begin with a space
    return "\r\n ".join(pieces) + "\r\n"


def utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def local(name: str, moment: datetime, tz: ZoneInfo) -> str:
    """`DTSTART;TZID=Europe/Berlin:20261203T180000`."""
    return f"{name};TZID={tz.key}:{moment.astimezone(tz).strftime('%Y%m%dT%H%M%S')}"


def local_list(name: str, moments: list[datetime], tz: ZoneInfo) -> str:
    values = ",".join(f"{m.astimezone(tz):%Y%m%dT%H%M%S}" for m in sorted(moments))
    return f"{name};TZID={tz.key}:{values}"


@functools.lru_cache(maxsize=64)
def vtimezone(key: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE block of zone `key` from 1 January `first_year` to `last_year`."""
    cal = Calendar()
    event = Event()
    event.add("dtstart", datetime(first_year, 1, 2, 12, tzinfo=ZoneInfo(key)))
    cal.add_component(event)
    cal.add_missing_timezones(first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1))
    block = cal.walk("VTIMEZONE")[0]
    return bytes(block.to_ical()).decode()


def timezone_block(tz: ZoneInfo, first: date) -> str:
    """The zone's VTIMEZONE from the year before `first` (whole years, so cached) on."""
    return vtimezone(tz.key, first.year - 1, first.year + TIMEZONE_YEARS_AHEAD)
