"""One left-to-right pass over the start of a text, filling the parts of a date: a day (a
day word, a numeric date, a day and a month name), a weekday (maybe in the next week), a
clock time (maybe with an end), a part of the day and a zone, in any order, with small words
(`am`, `um`, `den`, commas) between them. The first word that is no such part starts the
title. A part that comes twice (`19 Uhr 20 Uhr`) or contradicts another (`Do 04.12.2026`)
is refused, never left to the title.

Pure: the wall times come out naive; bot/when.py places them in the zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot import when_words as w
from bot.when_error import WhenError
from bot.when_parts import clock_of, dated, make_date, weekday_and_part

_TIME_WORDS = ("um", "ab", "gegen", "at", "@", "von", "from")
# `19 Uhr 30`: the minutes said after the hour, as Germans say and write them.
_UHR_MINUTES = re.compile(
    r" ([0-5]\d)(?=[\s,;]|$)(?!\s?(?:uhr|min|std|stund|h\b|jahr|leute|person|mensch|teilnehm))",
    re.I,
)  # not `19 Uhr 20 Uhr`, nor a count that starts the title (`19 Uhr 30 Jahre Bündnis`)
_NOUNS = ("abend", "nachmittag", "vormittag", "mittag", "nacht")  # `abends` reads after a time


@dataclass
class Reading:
    """What was read: the wall times, the exact instant of `in 2 Stunden`, a zone suffix."""

    start: datetime
    end: datetime | None
    exact: datetime | None
    zone: str | None
    pos: int


class Reader:
    def __init__(self, text: str, now: datetime, default: time | None) -> None:
        self.text, self.now, self.today = text, now, now.date()
        self.pos, self.start_pos, self.after = 0, 0, ""
        self.day: date | None = None
        self.weekday: int | None = None
        self.strict, self.evening, self.meridiem = False, False, False
        self.week: int | None = None
        self.week_text, self.part_at = "", 0
        self.clock: time | None = None
        self.end: time | None = None
        self.range_text = ""
        self.zone: str | None = None
        self.default = default
        self._end_pm = False
        self.weekday_at, self.day_at = 0, 0

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        m = pattern.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return m

    def fail(self, reason: str = "") -> WhenError:
        return WhenError("unparsable", reason, text=" ".join(self.text[self.pos :].split()[:3]))

    def twice(self, text: str) -> WhenError:
        return WhenError("unparsable", "twice", text=text.strip(" ,"))

    def run(self) -> Reading:
        self.take(w.SPACE)
        if self.pos >= len(self.text):
            raise WhenError("unparsable", "empty")
        if m := self.take(w.SLASH):
            raise WhenError("unparsable", "slash", text=m[0])
        self.start_pos = self.pos
        if m := self.take(w.REL):
            amount = int(m[1]) if m[1] else w.NUMBERS.get(m[2].lower())
            unit = w.UNITS.get(m[3].lower())
            if amount is None or unit is None:
                self.pos = self.start_pos
                raise self.fail()
            if unit < timedelta(days=1):
                instant = self.now.astimezone(UTC).replace(second=0, microsecond=0)
                local = (instant + amount * unit).astimezone(self.now.tzinfo)
                self._no_more()
                return Reading(local.replace(tzinfo=None), None, local, None, self.pos)
            self.day = self.today + amount * unit
            self.default = self.default or self.now.time().replace(second=0, microsecond=0)
        while self._part():
            pass
        return self._finish()

    def _part(self) -> bool:
        begin = self.pos
        filler = self.take(w.FILLER)
        self.after = (filler[1] or "").lower() if filler else ""
        self.part_at = self.pos
        if self.pos < len(self.text):
            if self.take(w.SLASH):
                raise WhenError("unparsable", "slash", text=self.text[self.part_at : self.pos])
            readers: list[Callable[[], bool]] = [
                self._iso, self._dmy, self._day_month, self._month_day, self._day_word,
                self._week, self._weekday, self._day_part,
            ]  # fmt: skip
            # After a date `19.30` is a time; before one, `19.12.` is a date.
            readers.insert(0 if self._dated() else len(readers), self._time)
            for reader in readers:
                if reader():
                    return True
                self.pos = self.part_at
        self.pos = begin
        return False

    # --- days ---------------------------------------------------------------------------

    def _set_day(self, day: date) -> bool:
        shown = self.text[self.part_at : self.pos]
        if (self.day is not None and self.day != day) or self.week is not None:
            raise self.twice(shown)
        if self.weekday is not None and day.weekday() != self.weekday:
            raise self._mismatch(day, self.weekday, self.weekday_at)
        self.day, self.day_at = day, self.part_at
        return True

    def _mismatch(self, day: date, wanted: int, since: int) -> WhenError:
        return WhenError(
            "unparsable",
            "weekday",
            text=self.text[since : self.pos].strip(" ,"),
            when=datetime.combine(day, time()),
            weekdays=(wanted, day.weekday()),
        )

    def _iso(self) -> bool:
        if m := self.take(w.ISO):
            return self._set_day(make_date(int(m[1]), int(m[2]), int(m[3]), m[0].rstrip("Tt")))
        return False

    def _dmy(self) -> bool:
        m = self.take(w.DMY)
        if m is None:
            return False
        day, month = int(m[1]), int(m[2])
        if not m[3] and (month > 12 or (not self.clock and not self._digit_follows())):
            return False  # `3.12` alone could be meant as a time: ask, don't guess
        return self._set_day(dated(m[4], day, month, self.today, m[0]))

    def _digit_follows(self) -> bool:
        return w.SPACE_DIGIT.match(self.text, self.pos) is not None

    def _day_month(self) -> bool:
        m = self.take(w.DAY_MONTH)
        if m is None or (month := w.MONTHS.get(m[2].lower())) is None:
            return False
        return self._set_day(dated(m[3], int(m[1]), month, self.today, m[0]))

    def _month_day(self) -> bool:
        m = self.take(w.MONTH_DAY)
        if m is None or (month := w.MONTHS.get(m[1].lower())) is None:
            return False
        return self._set_day(dated(m[3], int(m[2]), month, self.today, m[0]))

    def _day_word(self) -> bool:
        m = self.take(w.DAYWORD)
        if m is None:
            return False
        word = m[1].lower()
        self.evening = self.evening or word == "tonight"
        return self._set_day(self.today + timedelta(w.DAY_OFFSETS.get(word, 2)))

    def _week(self) -> bool:
        m = self.take(w.WEEK)
        if m is None:
            return False
        if self.week is not None or self.day is not None:
            raise self.twice(m[0])
        first = m[1].lower()
        self.week = 0 if first in ("diese", "this") else 2 if first.startswith("über") else 1
        self.week_text = m[0]
        return True

    def _weekday(self) -> bool:
        strict = self.take(w.NEXT) is not None
        plain = not strict and self.take(w.THIS) is not None
        m = self.take(w.WEEKDAY_WORD)
        if m is None or (split := weekday_and_part(m[1].lower())) is None:
            return False
        wanted, part = split
        named = strict or plain or self.after in ("am", "on") or bool(part)
        if self.clock is not None and not named and len(m[1]) < 4:
            return False  # `18:00 So geht's weiter`: a short word after the time is title
        if self.weekday is not None and self.weekday != wanted:
            raise self.twice(m[0])
        if self.day is not None and self.day.weekday() != wanted:
            raise self._mismatch(self.day, wanted, self.day_at)
        self.weekday, self.weekday_at = wanted, self.part_at
        self.strict = self.strict or strict
        self.evening = self.evening or part in w.EVENING
        return True

    def _day_part(self) -> bool:
        if m := self.take(w.DAY_PART):
            if self.clock is not None and m[1].lower() in _NOUNS:
                return False  # `19 Uhr Abend der Begegnung`: the noun starts the title
            self.evening = self.evening or m[1].lower().split()[-1] in w.EVENING
            return True
        return False

    # --- times --------------------------------------------------------------------------

    def _time(self) -> bool:
        m = self.take(w.CLOCK)
        if m is None:
            return False
        strong = bool(m[2] or m[5] or m[7] or m[8] or m[9] or m[10])
        dotted = m[4] is not None
        after_time = self.after in _TIME_WORDS
        if self.clock is not None and not strong:
            return False  # `Di 18:00 von 2 Leuten`: a number after the time is title
        if dotted and not (m[10] or after_time) and self._digit_follows():
            return False  # `Di 8.12 18 Uhr`: a date, the time follows
        minutes = self._uhr_minutes(m)
        end, range_ok = self._range_end()
        if not (strong or after_time or (dotted and self._dated()) or range_ok):
            return False
        if self.clock is not None:
            raise self.twice(self.text[self.part_at : self.pos])
        self.clock, self.meridiem = clock_of(m), bool(m[7] or m[8] or m[9])
        if minutes is not None:
            self.clock = self.clock.replace(minute=minutes)
        if end is not None:
            self.end, self.range_text = end, self.text[self.part_at : self.pos]
            if not self.meridiem and self._end_pm and self.clock.hour < 12:
                later = self.clock.replace(hour=self.clock.hour + 12)
                self.clock = later if later < end else self.clock
        zone = w.ZONE.match(self.text, self.pos)
        if zone and (zone[1].upper() in w.ZONE_ALIASES or zone[1] in self._zone_names()):
            self.zone, self.pos = zone[1], zone.end()
        return True

    def _uhr_minutes(self, m: re.Match[str]) -> int | None:
        """The `30` of `19 Uhr 30` (taken), or None: a title never starts with it."""
        if not m[10] or m[2] or m[4] or m[6]:
            return None
        minutes = self.take(_UHR_MINUTES)
        return int(minutes[1]) if minutes else None

    def _dated(self) -> bool:
        return self.day is not None or self.weekday is not None

    def _range_end(self) -> tuple[time | None, bool]:
        """The end of `19-21 Uhr`, `18:30 - 20:30`, `19 bis 21 Uhr`, or none (a dash before
        a title stays with the title)."""
        self._end_pm = False
        sep = w.RANGE.match(self.text, self.pos)
        if sep is None:
            return None, False
        m = w.CLOCK.match(self.text, sep.end())
        if m is None:
            return None, False
        end_strong = bool(m[2] or m[5] or m[7] or m[8] or m[9] or m[10])
        attached = bool(sep[1]) and sep[0] == sep[1]
        if not (end_strong or m[4] is not None or sep[2] or attached):
            return None, False
        self.pos = m.end()
        self._end_pm = bool(m[7] or m[8] or m[9]) and (m[7] or m[8] or m[9]).lower() == "p"
        end, minutes = clock_of(m), self._uhr_minutes(m)
        end = end if minutes is None else end.replace(minute=minutes)
        return end, end_strong or bool(sep[2]) or self._dated()

    def _zone_names(self) -> set[str]:
        naive = datetime.combine(self.day or self.today, self.clock or time())
        return {naive.replace(tzinfo=self.now.tzinfo, fold=f).tzname() or "" for f in (0, 1)}

    # --- the end ------------------------------------------------------------------------

    def _finish(self) -> Reading:
        placed = self.day or self.clock or self.weekday is not None or self.week is not None
        if not placed:  # nothing, or only a part of the day (`Abend der Begegnung`)
            self.pos = self.start_pos
            raise self.fail()
        read = self.text[self.start_pos : self.pos].strip(" ,")
        if self.week is not None and self.weekday is None:
            raise WhenError("unparsable", "week_day", text=read)
        clock = self.clock or self.default
        if clock is None:
            raise WhenError("unparsable", "missing_time", text=read)
        end = self.end
        if self.evening and not self.meridiem and 1 <= clock.hour < 12:
            clock = clock.replace(hour=clock.hour + 12)
            end = end.replace(hour=end.hour + 12) if end and end.hour < 12 else end
        if self.weekday is not None and self.day is None:
            self.day = self._weekday_day(clock, self.weekday)
        day = self.day or self.today
        if end is not None and end <= clock:
            raise WhenError("unparsable", "end_before", text=self.range_text.strip(" ,"))
        self._no_more()
        start = datetime.combine(day, clock)
        return Reading(
            start, datetime.combine(day, end) if end else None, None, self.zone, self.pos
        )

    def _weekday_day(self, clock: time, wanted: int) -> date:
        if self.week is not None:
            monday = self.today - timedelta(self.today.weekday()) + timedelta(weeks=self.week)
            return monday + timedelta(wanted)
        ahead = (wanted - self.today.weekday()) % 7
        passed = datetime.combine(self.today, clock) <= self.now.replace(tzinfo=None)
        return self.today + timedelta(7 if ahead == 0 and (self.strict or passed) else ahead)

    def _no_more(self) -> None:
        """A clock time or date right after what was read cannot be placed: refuse it
        rather than let it become the title (`in 2 Stunden 18 Uhr`)."""
        filler = w.FILLER.match(self.text, self.pos)
        m = w.CLOCK.match(self.text, filler.end() if filler else self.pos)
        if m and (m[2] or m[10]):
            raise self.twice(m[0])
