"""Dates and times as the alliance writes them (`03.12.2026 18:00`, `morgen 19 Uhr`, `Di 18:00`),
read into aware datetimes of the AG's zone (written back out in the reader's language by
bot/when_text.py).

Pure: no clock and no I/O; `now` and the zone are passed in, so tests need no sleeping.
Errors are `WhenError`s with a `code`; their text is made only once the reader is known.

Decisions, so that a misread is never silent (the bot echoes `format_full` of the result):
- A time alone (`18:00`) is today; once that has passed the answer is "past", not tomorrow.
- A weekday alone (`Di 18:00`) is the next such day on which that time is still ahead, today
  included; `nächsten Di` / `next Tue` is the first such day after today.
- `03.12.` without a year is this year, or next year once that day is over.
- Slash dates (`12/03/2026`) are refused: day-month and month-day order cannot be told apart.
- ` am` after a space is not a.m. (German `18:00 am Rathaus`); `10am` and `10 a.m.` are.
- A wall time in the spring gap is refused ("nonexistent"); one in the autumn repeat is refused
  ("ambiguous") unless a zone suffix (`MESZ`/`MEZ`, `CEST`/`CET`) says which is meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.i18n import Lang
from bot.rich import Rich

MAX_AHEAD = timedelta(days=732)  # about two years: further ahead is almost surely a typo
OFFSET_MIN, OFFSET_MAX, OFFSETS_MAX = timedelta(minutes=1), timedelta(days=30), 10

WEEKDAYS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        "mo montag mon monday",
        "di dienstag tu tue tues tuesday",
        "mi mittwoch we wed weds wednesday",
        "do donnerstag th thu thur thurs thursday",
        "fr freitag fri friday",
        "sa samstag sonnabend sat saturday",
        "so sonntag su sun sunday",
    )
):
    WEEKDAYS.update(dict.fromkeys(_names.split(), _i))

UNITS: dict[str, timedelta] = {}
for _td, _names in (
    (timedelta(minutes=1), "m min mins minute minuten minutes"),
    (timedelta(hours=1), "h std stunde stunden hour hours hr hrs"),
    (timedelta(days=1), "d t tag tage tagen day days"),
    (timedelta(weeks=1), "w wo woche wochen week weeks"),
):
    UNITS.update(dict.fromkeys(_names.split(), _td))

_NUMBERS = {
    **dict.fromkeys(("ein", "eine", "einer", "einem", "einen", "a", "an", "one"), 1),
    **{w: n for n, w in enumerate(("zwei", "drei", "vier", "fünf", "sechs"), 2)},
    **{w: n for n, w in enumerate(("two", "three", "four", "five", "six"), 2)},
}
ZONE_ALIASES = {"MESZ": "CEST", "MEZ": "CET", "CEST": "CEST", "CET": "CET"}
_END = r"(?=[\s,;]|$)"
_SLASH = re.compile(r"\d{1,4}/\d{1,2}(?:/\d{2,4})?" + _END)
_REL = re.compile(r"in\s+(?:(\d{1,4})\s*|([a-z]+)\s+)([a-zäöü]+)\.?" + _END, re.I)
_ON = re.compile(r"(?:am|on)\s+", re.I)
_AT = re.compile(r",?\s*(?:(?:um|at|@)\s+)?", re.I)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt](?=\d)|" + _END + ")")
_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})(\.(\d{4}|\d{2})?)?" + _END)
_DAYWORD = re.compile(
    r"(heute|today|übermorgen|uebermorgen|morgen|tomorrow|(?:the\s+)?day\s+after\s+tomorrow)"
    + _END,
    re.I,
)
_NEXT = re.compile(r"(nächste[nrs]?|naechste[nrs]?|kommende[nrs]?|next|coming)\s+", re.I)
_WORD = re.compile(r"([a-z]+)\.?" + _END, re.I)
_TIME = re.compile(
    r"(\d{1,2})(?::(\d{2})(?::(\d{2}))?|\.(\d{2})(?=\s*uhr)|(h)(\d{2})?)?"  # 18:00, 18.30 Uhr, 18h30
    r"(?:\s*([ap])\.m\.|([ap])m|\s+(p)m)?"  # 6pm, 6 pm, 6 p.m. (not ` am`: German "at the")
    r"(\s*uhr)?" + _END,
    re.I,
)
_SPACE = re.compile(r"\s*")
_SPACE_DIGIT = re.compile(r"\s+\d")
_COMMA = re.compile(r",?\s*(?=\d)")
_REST = re.compile(r"^[\s,;]*(?:[–—-]\s+)?")
_ZONE = re.compile(r"\s+([A-Za-z]{2,5})" + _END)
_DURATION = re.compile(r"(\d{1,5})\s*([a-zäöü]+)\.?\s*", re.I)
_DAY_OFFSETS = {"heute": 0, "today": 0, "morgen": 1, "tomorrow": 1}


class WhenError(ValueError):
    """A date, time or duration we cannot use. `code` is one of "unparsable", "past",
    "nonexistent" (spring DST gap), "ambiguous" (autumn repeat hour), "too_far"; `reason`
    narrows "unparsable" down (e.g. "bad_date", "slash", "missing_time", "duration")."""

    def __init__(
        self,
        code: str,
        reason: str = "",
        *,
        text: str = "",
        when: datetime | None = None,
        suggestion: datetime | None = None,
        zones: tuple[str, str] = ("", ""),
        weekdays: tuple[int, int] = (0, 0),
    ) -> None:
        super().__init__(f"{code}{':' + reason if reason else ''}: {text or when}")
        self.code, self.reason, self.text = code, reason, text
        self.when, self.suggestion = when, suggestion
        self.zones, self.weekdays = zones, weekdays

    def message(self, lang: Lang) -> Rich:
        """A short answer in the reader's language that says what would work."""
        from bot.when_text import explain  # cycle: explain formats with this module's rules

        return explain(self, lang)


def parse_when(
    text: str, *, now: datetime, tz: ZoneInfo, allow_past: bool = False
) -> tuple[datetime, str]:
    """The date/time at the start of `text` as an aware datetime in `tz`, and the rest of
    the text (the meeting title and link follow the date in `/meeting`)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(tz)
    p = _Parse(text, now)
    naive, exact = p.run()
    if exact is not None:
        result = exact
    else:
        first, second = (naive.replace(tzinfo=tz, fold=f) for f in (0, 1))
        if not allow_past and max(_utc(first), _utc(second)) <= _utc(now):
            raise WhenError(
                "past", when=_canon(first), suggestion=localize(naive + timedelta(1), tz)
            )
        result = _resolve(naive, tz, p.zone)
    if not allow_past and _utc(result) <= _utc(now):
        raise WhenError("past", when=result, suggestion=localize(naive + timedelta(1), tz))
    if _utc(result) - _utc(now) > MAX_AHEAD:
        raise WhenError("too_far", when=result)
    return result, p.rest()


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """A wall time in `tz` as RFC 5545 reads it: in the spring gap it moves forward by the
    gap (02:30 -> 03:30); in the autumn repeat it is the first (summer-time) one."""
    return _canon(naive.replace(tzinfo=tz, fold=0))


def parse_date(text: str, *, today: date) -> date:
    """A date alone (`31.03.2027`, `31.03.27`, `31.03.`, `2027-03-31`), e.g. for `--until`."""
    value = text.strip()
    if m := _DMY.fullmatch(value):
        day, month = int(m[1]), int(m[2])
        year = _year(m[4], day, month, today) if m[3] else None
        if year is not None:
            return _date(year, month, day, value)
    elif m := _ISO.fullmatch(value):
        return _date(int(m[1]), int(m[2]), int(m[3]), value)
    raise WhenError("unparsable", "date", text=value)


def parse_duration(text: str) -> timedelta:
    """`90m`, `1h30m`, `2d`, `1w`, `2 Tage`, `1 Stunde` -> timedelta (whole minutes)."""
    value, total, pos = text.strip(), timedelta(), 0
    while pos < len(value) and (m := _DURATION.match(value, pos)):
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


def _date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError("unparsable", "bad_date", text=text) from None


def _year(raw: str | None, day: int, month: int, today: date) -> int:
    """A written year (`26` is 2026); none: this year, or next once that day is over."""
    if raw:
        return int(raw) + (2000 if len(raw) == 2 else 0)
    return today.year + (1 if (month, day) < (today.month, today.day) else 0)


@dataclass
class _Parse:
    """One left-to-right pass over the start of the text."""

    text: str
    now: datetime
    pos: int = 0
    zone: str | None = None

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        m = pattern.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return m

    def rest(self) -> str:
        return _REST.sub("", self.text[self.pos :], count=1)

    def fail(self, reason: str = "") -> WhenError:
        return WhenError("unparsable", reason, text=" ".join(self.text[self.pos :].split()[:3]))

    def run(self) -> tuple[datetime, datetime | None]:
        """(wall time, and the exact instant for `in 2 Stunden`)."""
        self.take(_SPACE)
        if self.pos >= len(self.text):
            raise WhenError("unparsable", "empty")
        if m := self.take(_SLASH):
            raise WhenError("unparsable", "slash", text=m[0])
        start, today = self.pos, self.now.date()
        weekday: tuple[int, bool] | None = None
        default: time | None = None
        if (clock := self._time()) is not None:
            day, weekday = self._day(today, bare_weekday=False)  # `18 Uhr morgen`
            day = day or today
        elif m := self.take(_REL):
            amount = int(m[1]) if m[1] else _NUMBERS.get(m[2].lower())
            unit = UNITS.get(m[3].lower())
            if amount is None or unit is None:
                self.pos = start
                raise self.fail()
            if unit < timedelta(days=1):
                instant = _utc(self.now).replace(second=0, microsecond=0) + amount * unit
                local = instant.astimezone(self.now.tzinfo)
                return local.replace(tzinfo=None), local
            day = today + amount * unit
            default = self.now.time().replace(second=0, microsecond=0)
        else:
            day, weekday = self._day(today, bare_weekday=True)
        if clock is None:
            self.take(_AT)
            clock = self._time() or default
        if clock is None:
            if day is None and weekday is None:
                self.pos = start
                raise self.fail()
            raise WhenError("unparsable", "missing_time", text=self.text[start : self.pos].strip())
        m = _ZONE.match(self.text, self.pos)
        if m and (m[1].upper() in ZONE_ALIASES or m[1] in self._zone_names(day or today, clock)):
            self.zone, self.pos = m[1], m.end()
        if weekday is not None:
            day = self._weekday_day(today, clock, *weekday)
        assert day is not None
        return datetime.combine(day, clock), None

    def _day(
        self, today: date, *, bare_weekday: bool
    ) -> tuple[date | None, tuple[int, bool] | None]:
        """A day word, a numeric date or a weekday (optionally with a matching date)."""
        begin = self.pos
        self.take(_SPACE)
        on = self.take(_ON) is not None
        if m := self.take(_DAYWORD):
            return today + timedelta(_DAY_OFFSETS.get(m[1].lower(), 2)), None
        if (day := self._numeric(today)) is not None:
            return day, None
        strict = self.take(_NEXT) is not None
        before = self.pos
        m = self.take(_WORD)
        if m is None or m[1].lower() not in WEEKDAYS or not (bare_weekday or on or strict):
            self.pos = begin
            return None, None
        wanted = WEEKDAYS[m[1].lower()]
        self.take(_COMMA)
        if (day := self._numeric(today)) is not None:
            if day.weekday() != wanted:
                raise WhenError(
                    "unparsable",
                    "weekday",
                    text=self.text[before : self.pos].strip(),
                    when=datetime.combine(day, time()),
                    weekdays=(wanted, day.weekday()),
                )
            return day, None
        return None, (wanted, strict)

    def _numeric(self, today: date) -> date | None:
        if m := self.take(_ISO):
            return _date(int(m[1]), int(m[2]), int(m[3]), m[0].rstrip("Tt"))
        before = self.pos
        if m := self.take(_DMY):
            if not m[3] and not _SPACE_DIGIT.match(self.text, self.pos):
                self.pos = before  # `3.12` alone could be meant as a time: ask, don't guess
                return None
            day, month = int(m[1]), int(m[2])
            return _date(_year(m[4], day, month, today), month, day, m[0])
        return None

    def _time(self) -> time | None:
        before = self.pos
        m = self.take(_TIME)
        if m is None:
            return None
        hour, minute, second = int(m[1]), int(m[2] or m[4] or m[6] or 0), int(m[3] or 0)
        half = (m[7] or m[8] or m[9] or "").lower()
        if not (m[2] or m[4] or m[5] or half or m[10]):
            self.pos = before  # a bare number is no time
            return None
        if half:
            if not 1 <= hour <= 12:
                raise WhenError("unparsable", "bad_time", text=m[0])
            hour = hour % 12 + (12 if half == "p" else 0)
        if hour > 23 or minute > 59 or second > 59:
            raise WhenError("unparsable", "bad_time", text=m[0])
        return time(hour, minute, second)

    def _zone_names(self, day: date, clock: time) -> set[str]:
        naive = datetime.combine(day, clock)
        return {naive.replace(tzinfo=self.now.tzinfo, fold=f).tzname() or "" for f in (0, 1)}

    def _weekday_day(self, today: date, clock: time, wanted: int, strict: bool) -> date:
        ahead = (wanted - today.weekday()) % 7
        passed = datetime.combine(today, clock) <= self.now.replace(tzinfo=None)
        return today + timedelta(7 if ahead == 0 and (strict or passed) else ahead)
