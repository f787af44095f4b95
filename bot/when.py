"""Dates and times as the alliance writes them (`03.12.2026 18:00`, `morgen 19 Uhr`, `Di 18:00`,
`16. Dez. 19–21 Uhr`, `Mittwoch, den 16. Dezember, 19 Uhr`), read into aware datetimes of the
AG's zone (written back out in the reader's language by bot/when_text.py). The words are in
bot/when_words.py, the reading pass in bot/when_read.py; meetings and poll deadlines both
read through `read_when`.

Pure: no clock and no I/O; `now` and the zone are passed in, so tests need no sleeping.
Errors are `WhenError`s with a `code`; their text is made only once the reader is known.

Decisions, so that a misread is never silent (the bot echoes `format_full` of the result):
- A time alone (`18:00`) is today; once that has passed the answer is "past", not tomorrow.
- A weekday alone (`Di 18:00`) is the next such day on which that time is still ahead, today
  included; `nächsten Di` / `next Tue` is the first such day after today; `nächste Woche Mi`
  is the Wednesday of the next calendar week.
- `03.12.` without a year is this year; once that day is over by more than about three
  months it is next year; a date only recently over is refused with the year to write.
- `19-21 Uhr`, `18:30 - 20:30`, `19 bis 21 Uhr` set an end; an end before the start is refused.
- `abends`/`Abend` (also in `Montagabend`) makes `8 Uhr` 20:00.
- Slash dates (`12/03/2026`) are refused: day-month and month-day order cannot be told apart.
- ` am` after a space is not a.m. (German `18:00 am Rathaus`); `10am` and `10 a.m.` are.
- A wall time in the spring gap is refused ("nonexistent"); one in the autumn repeat is refused
  ("ambiguous") unless a zone suffix (`MESZ`/`MEZ`, `CEST`/`CET`) says which is meant.
- A date or time part that cannot be placed (twice, or contradicting) is refused, never
  left in the title.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.when_error import WhenError
from bot.when_parts import dated, make_date
from bot.when_read import Reader
from bot.when_words import DMY, DURATION, ISO, REST, UNITS, WEEKDAYS, ZONE_ALIASES
from storage.text import visible

__all__ = [
    "MAX_AHEAD", "UNITS", "WEEKDAYS", "ZONE_ALIASES", "When", "WhenError", "is_ambiguous",
    "localize", "parse_date", "parse_duration", "parse_offsets", "parse_when", "read_when",
]  # fmt: skip

MAX_AHEAD = timedelta(days=732)  # about two years: further ahead is almost surely a typo
OFFSET_MIN, OFFSET_MAX, OFFSETS_MAX = timedelta(minutes=1), timedelta(days=30), 10


@dataclass(frozen=True)
class When:
    """A start, maybe an end (`19-21 Uhr`), and the text after them (a title, a link)."""

    start: datetime
    end: datetime | None
    rest: str


def read_when(
    text: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    allow_past: bool = False,
    default_time: time | None = None,
) -> When:
    """The date/time (and end) at the start of `text`, aware in `tz`, and the rest of the
    text. `default_time` is taken when no time is written (a poll deadline `Freitag` is
    Friday 23:59); without it a missing time is refused."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(tz)
    text = visible(text)  # a zero-width space or RTL mark pasted along breaks no date
    reading = Reader(text, now, default_time).run()
    naive = reading.start
    if reading.exact is not None:
        result = reading.exact
    else:
        first, second = (naive.replace(tzinfo=tz, fold=f) for f in (0, 1))
        if not allow_past and max(_utc(first), _utc(second)) <= _utc(now):
            raise WhenError(
                "past", when=_canon(first), suggestion=localize(naive + timedelta(1), tz)
            )
        result = _resolve(naive, tz, reading.zone)
    if not allow_past and _utc(result) <= _utc(now):
        raise WhenError("past", when=result, suggestion=localize(naive + timedelta(1), tz))
    if _utc(result) - _utc(now) > MAX_AHEAD:
        raise WhenError("too_far", when=result)
    end = localize(reading.end, tz) if reading.end is not None else None
    return When(result, end, REST.sub("", text[reading.pos :], count=1))


def parse_when(
    text: str, *, now: datetime, tz: ZoneInfo, allow_past: bool = False
) -> tuple[datetime, str]:
    """The start at the beginning of `text` and the rest (see `read_when`)."""
    found = read_when(text, now=now, tz=tz, allow_past=allow_past)
    return found.start, found.rest


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """A wall time in `tz` as RFC 5545 reads it: in the spring gap it moves forward by the
    gap (02:30 -> 03:30); in the autumn repeat it is the first (summer-time) one."""
    return _canon(naive.replace(tzinfo=tz, fold=0))


def parse_date(text: str, *, today: date) -> date:
    """A date alone (`31.03.2027`, `31.03.27`, `31.03.`, `2027-03-31`), e.g. for `--until`."""
    value = text.strip()
    if (m := DMY.fullmatch(value)) and m[3]:
        return dated(m[4], int(m[1]), int(m[2]), today, value)
    if m := ISO.fullmatch(value):
        return make_date(int(m[1]), int(m[2]), int(m[3]), value)
    raise WhenError("unparsable", "date", text=value)


def parse_duration(text: str) -> timedelta:
    """`90m`, `1h30m`, `2d`, `1w`, `2 Tage`, `1 Stunde` -> timedelta (whole minutes)."""
    value, total, pos = text.strip(), timedelta(), 0
    while pos < len(value) and (m := DURATION.match(value, pos)):
        unit = UNITS.get(m[2].lower())
        if unit is None:
            break
        total, pos = total + int(m[1]) * unit, m.end()
    if not value or pos < len(value):
        raise WhenError("unparsable", "duration", text=value)
    return total


def parse_offsets(items: list[str]) -> list[timedelta]:
    """Reminder offsets (`2d 1h 10m`, also `2 Tage 1 Stunde`): unique, largest first, each
    between a minute and 30 days, at most ten."""
    merged: list[str] = []
    for item in (i.strip() for i in items):
        if merged and merged[-1].isdigit() and item.lower().rstrip(".") in UNITS:
            merged[-1] += " " + item
        elif item:
            merged.append(item)
    offsets: set[timedelta] = set()
    for item in merged:
        offset = parse_duration(item)
        if not OFFSET_MIN <= offset <= OFFSET_MAX:
            raise WhenError("unparsable", "offset_range", text=item)
        offsets.add(offset)
    if len(offsets) > OFFSETS_MAX:
        raise WhenError("unparsable", "too_many", text=str(len(offsets)))
    return sorted(offsets, reverse=True)


def is_ambiguous(naive: datetime, tz: tzinfo) -> bool:
    first, second = (naive.replace(tzinfo=tz, fold=f) for f in (0, 1))
    return first.utcoffset() != second.utcoffset() and _canon(first).replace(tzinfo=None) == naive


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def _canon(dt: datetime) -> datetime:
    """The same instant, re-read from UTC: fixes up `fold` and moves out of a DST gap."""
    assert dt.tzinfo is not None
    return dt.astimezone(UTC).astimezone(dt.tzinfo)


def _resolve(naive: datetime, tz: ZoneInfo, zone: str | None) -> datetime:
    """Check a wall time against the zone's transitions via `fold` and a UTC round-trip."""
    first, second = (naive.replace(tzinfo=tz, fold=f) for f in (0, 1))
    names = (first.tzname() or "", second.tzname() or "")
    wanted = ZONE_ALIASES.get(zone.upper(), zone) if zone else None
    if first.utcoffset() == second.utcoffset():
        if wanted and wanted != names[0]:
            raise WhenError("unparsable", "zone", text=zone or "", when=first, zones=names)
        return _canon(first)
    if _canon(first).replace(tzinfo=None) != naive:
        raise WhenError("nonexistent", when=first, suggestion=_canon(first), zones=names)
    if wanted in names:
        return _canon(second if wanted == names[1] else first)
    if wanted:
        raise WhenError("unparsable", "zone", text=zone or "", when=first, zones=names)
    raise WhenError("ambiguous", when=first, zones=names)
