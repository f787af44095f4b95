"""The small pieces of reading a date that can be wrong on their own: a calendar date (and
which year a date without one means), a clock time, a weekday with a part of the day grown
onto it (`Montagabend`)."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta

from bot import when_words as w
from bot.when_error import WhenError

RECENT = timedelta(days=92)  # a yearless date this far back is a slip, not next year


def make_date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError("unparsable", "bad_date", text=text) from None


def dated(raw: str | None, day: int, month: int, today: date, text: str) -> date:
    """A written year (`26` is 2026); none: this year, next year once that day is long over,
    and refused when it was only recently (`01.12.` on 3 December is a slip, not 2027)."""
    if raw:
        return make_date(int(raw) + (2000 if len(raw) == 2 else 0), month, day, text)
    make_date(2000, month, day, text)  # a leap year: only 29.02. may wait for its year
    this = _first_from(today.year, month, day)
    if this >= today:
        return this
    following = _first_from(today.year + 1, month, day)
    if today - this <= RECENT:
        raise WhenError(
            "past",
            "no_year",
            text=text,
            when=datetime.combine(this, time()),
            suggestion=datetime.combine(following, time()),
        )
    return following


def _first_from(year: int, month: int, day: int) -> date:
    """The date in `year`, or (29.02.) in the first leap year from it."""
    while (month, day) == (2, 29) and not calendar.isleap(year):
        year += 1
    return date(year, month, day)


def weekday_and_part(word: str) -> tuple[int, str] | None:
    """`dienstag` -> (1, ""), `montagabend` -> (0, "abend"); `dienstags` (a series) -> None."""
    if word in w.WEEKDAYS:
        return w.WEEKDAYS[word], ""
    for part in w.COMPOUND_PARTS:
        day = word.removesuffix(part)
        if day != word and len(day) > 3 and day in w.WEEKDAYS:
            return w.WEEKDAYS[day], part
    return None


def clock_of(m: re.Match[str]) -> time:
    hour, minute, second = int(m[1]), int(m[2] or m[4] or m[6] or 0), int(m[3] or 0)
    half = (m[7] or m[8] or m[9] or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise WhenError("unparsable", "bad_time", text=m[0])
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise WhenError("unparsable", "bad_time", text=m[0])
    return time(hour, minute, second)
