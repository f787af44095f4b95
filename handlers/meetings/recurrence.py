"""Recurring meetings: a small rule (weekly, every N weeks, the nth weekday of the month),
how it is read from command flags, written as an RFC 5545 RRULE, and expanded.

Expansion is in LOCAL wall-clock time, then each occurrence is placed in the zone, so a
weekly 18:00 meeting stays 18:00 in winter and summer. A wall time that falls in the spring
gap moves forward by the gap (02:30 -> 03:30) and one in the autumn repeat is the first of
the two: that is how RFC 5545 (3.3.5) reads such times, so calendar apps agree with us.

The first meeting must itself be an occurrence of the rule: `--monthly 1Di` with a start
that is not a first Tuesday is refused with the next matching day, never moved silently.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from bot.i18n import Lang
from bot.rich import Rich
from bot.when import WEEKDAYS, WhenError, localize, parse_date
from bot.when_text import format_day

MAX_COUNT = 500
_MAX_STEPS = 100_000  # a bound for rules read from storage that might never match
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_EVERY = re.compile(r"(\d{1,2})\s*(?:w|wo|wochen?|weeks?)", re.I)
_ORDINALS = {
    **dict.fromkeys(("erste", "erster", "ersten", "first"), 1),
    **dict.fromkeys(("zweite", "zweiter", "zweiten", "second"), 2),
    **dict.fromkeys(("dritte", "dritter", "dritten", "third"), 3),
    **dict.fromkeys(("vierte", "vierter", "vierten", "fourth"), 4),
    **dict.fromkeys(("letzte", "letzter", "letzten", "last"), -1),
}
_MONTHLY = re.compile(r"([+-]?\d+)\.?\s*([a-zäöü]+)\.?", re.I)
_FLAG_ALIASES = {
    "wöchentlich": "weekly",
    "woechentlich": "weekly",
    "alle": "every",
    "monatlich": "monthly",
    "bis": "until",
    "anzahl": "count",
    "mal": "count",
}


@dataclass(frozen=True)
class Rule:
    """weekly (every `interval` weeks on the start's weekday) or monthly (the
    `monthly_nth` (1..4, -1 = last) `monthly_weekday` (0 = Monday); without them, the
    start's day of the month). Ends after `until` (a local date, inclusive) or `count`."""

    freq: Literal["weekly", "monthly"]
    interval: int = 1
    monthly_nth: int | None = None
    monthly_weekday: int | None = None
    until: date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        nth, weekday = self.monthly_nth, self.monthly_weekday
        if self.freq not in ("weekly", "monthly") or self.interval < 1:
            raise ValueError(f"bad rule: {self}")
        if (nth is None) != (weekday is None) or (nth is not None and self.freq != "monthly"):
            raise ValueError(f"monthly_nth and monthly_weekday go together, monthly only: {self}")
        if nth is not None and (nth not in (1, 2, 3, 4, -1) or not 0 <= (weekday or 0) <= 6):
            raise ValueError(f"bad monthly day: {self}")
        if (self.count is not None and self.count < 1) or (self.count and self.until):
            raise ValueError(f"count must be positive and not combined with until: {self}")

    def to_rrule(self, tz: ZoneInfo | None = None) -> str:
        """The RRULE value. With `tz`, UNTIL is the end of that local day in UTC, as RFC 5545
        requires next to a DTSTART with TZID; without, a plain date (for storage)."""
        parts = [f"FREQ={self.freq.upper()}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.monthly_nth is not None and self.monthly_weekday is not None:
            parts.append(f"BYDAY={self.monthly_nth}{_DAYS[self.monthly_weekday]}")
        if self.until is not None and tz is not None:
            end = localize(datetime.combine(self.until, time(23, 59, 59)), tz).astimezone(UTC)
            parts.append(f"UNTIL={end:%Y%m%dT%H%M%SZ}")
        elif self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%d}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        return ";".join(parts)

    @classmethod
    def from_rrule(cls, text: str, tz: ZoneInfo | None = None) -> Rule:
        """Read back what `to_rrule` writes; a UTC UNTIL is turned into a date in `tz`."""
        value = text.strip().removeprefix("RRULE:")
        parts = dict(p.split("=", 1) for p in value.upper().split(";") if p)
        unknown = set(parts) - {"FREQ", "INTERVAL", "BYDAY", "UNTIL", "COUNT", "WKST"}
        if unknown or parts.get("FREQ") not in ("WEEKLY", "MONTHLY"):
            raise ValueError(f"unsupported RRULE: {text}")
        nth = weekday = None
        if byday := parts.get("BYDAY"):
            m = re.fullmatch(r"([+-]?\d)(MO|TU|WE|TH|FR|SA|SU)", byday)
            if not m:
                raise ValueError(f"unsupported BYDAY: {byday}")
            nth, weekday = int(m[1]), _DAYS.index(m[2])
        return cls(
            "weekly" if parts["FREQ"] == "WEEKLY" else "monthly",
            int(parts.get("INTERVAL", "1")),
            nth,
            weekday,
            _until(parts["UNTIL"], tz) if "UNTIL" in parts else None,
            int(parts["COUNT"]) if "COUNT" in parts else None,
        )


from_rrule = Rule.from_rrule


def _until(raw: str, tz: ZoneInfo | None) -> date:
    if len(raw) == 8:
        return datetime.strptime(raw, "%Y%m%d").date()
    moment = datetime.strptime(raw.rstrip("Z"), "%Y%m%dT%H%M%S")
    if raw.endswith("Z"):
        return moment.replace(tzinfo=UTC).astimezone(tz or UTC).date()
    return moment.date()


class RuleError(WhenError):
    """Recurrence flags that make no sense; code "unparsable", `reason` says which."""

    def __init__(
        self,
        reason: str,
        *,
        text: str = "",
        rule: Rule | None = None,
        when: datetime | None = None,
        suggestion: datetime | None = None,
    ) -> None:
        super().__init__("unparsable", reason, text=text, when=when, suggestion=suggestion)
        self.rule = rule

    def message(self, lang: Lang) -> Rich:
        from handlers.meetings.rule_errors import explain  # cycle: it describes rules

        return explain(self, lang)


def parse_rule(flags: dict[str, str | None], *, start: datetime, tz: ZoneInfo) -> Rule | None:
    """The rule of `--weekly`, `--every 2w`, `--monthly [1Di|letzterFr]` with `--until
    31.03.2027` or `--count 10` (German flag names too); None when there is no repetition.
    `--monthly` alone repeats the start's weekday in the month (the 5th becomes "last")."""
    given = {
        _FLAG_ALIASES.get(k.lstrip("-").lower(), k.lstrip("-").lower()): v for k, v in flags.items()
    }
    start = start.astimezone(tz)
    wanted = [k for k in ("weekly", "every", "monthly") if k in given]
    until_raw, count_raw = given.get("until"), given.get("count")
    if "monthly" in wanted and len(wanted) > 1:
        raise RuleError("rule_conflict")
    if not wanted:
        if "until" in given or "count" in given:
            raise RuleError("end_without_rule")
        return None
    if until_raw is not None and count_raw is not None:
        raise RuleError("until_and_count")
    until = count = None
    if "until" in given:
        until = parse_date(until_raw or "", today=start.date())
        if until < start.date():
            raise RuleError("until_before_start", text=until_raw or "", when=start)
    if "count" in given:
        raw = (count_raw or "").strip()
        if not raw.isdecimal() or not 1 <= int(raw) <= MAX_COUNT:
            raise RuleError("count", text=raw)
        count = int(raw)
    if "monthly" in given:
        nth, weekday = _monthly(given["monthly"], start)
        rule = Rule("monthly", 1, nth, weekday, until, count)
        if start.date() != nth_weekday(start.year, start.month, nth, weekday):
            months = (start.month - 1 + k for k in range(2))
            days = (nth_weekday(start.year + m // 12, m % 12 + 1, nth, weekday) for m in months)
            day = next(d for d in days if d > start.date())
            other = localize(datetime.combine(day, start.time()), tz)
            raise RuleError("start_mismatch", rule=rule, when=start, suggestion=other)
        return rule
    interval = 1
    if "every" in given:
        m = _EVERY.fullmatch((given["every"] or "").strip())
        if not m or not 1 <= int(m[1]) <= 52:
            raise RuleError("every", text=(given["every"] or "").strip())
        interval = int(m[1])
    return Rule("weekly", interval, until=until, count=count)


def _monthly(raw: str | None, start: datetime) -> tuple[int, int]:
    value = (raw or "").strip().lower()
    if not value:
        nth = (start.day - 1) // 7 + 1
        return (-1 if nth == 5 else nth), start.weekday()
    which, day = 0, ""
    if m := _MONTHLY.fullmatch(value):
        which, day = int(m[1]), m[2]
    else:
        for word in sorted(_ORDINALS, key=len, reverse=True):
            if value.startswith(word):
                which, day = _ORDINALS[word], value[len(word) :].strip().rstrip(".")
                break
    if which not in (1, 2, 3, 4, -1) or day not in WEEKDAYS:
        raise RuleError("monthly", text=raw or "")
    return which, WEEKDAYS[day]


def occurrences(
    start: datetime,
    rule: Rule | None,
    *,
    after: datetime,
    until: datetime,
    limit: int = 500,
    tz: ZoneInfo | None = None,
) -> list[datetime]:
    """The occurrences in the half-open window `after <= occurrence < until` (so adjacent
    windows neither repeat nor miss one), at most `limit`, in the zone of `start` (or `tz`,
    for a start stored in UTC). The start is always the first occurrence (RFC 5545)."""
    if tz is not None:
        start = start.astimezone(tz)
    zone = start.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise ValueError("start needs a ZoneInfo time zone (or pass tz=)")
    lower, upper = after.astimezone(UTC), until.astimezone(UTC)
    found: list[datetime] = []
    for wall in _walls(start.replace(tzinfo=None), rule):
        moment = localize(wall, zone)
        if moment.astimezone(UTC) >= upper or len(found) >= limit:
            break
        if moment.astimezone(UTC) >= lower:
            found.append(moment)
    return found


def _walls(first: datetime, rule: Rule | None) -> Iterator[datetime]:
    """The wall times of a series: the start, then the rule's days after it, ending by the
    rule's count or until (the caller stops at its window's end)."""
    if rule is None:
        yield first
        return
    later = (
        wall
        for step in range(_MAX_STEPS)
        if (wall := _candidate(first, rule, step)) is not None and wall > first
    )
    for emitted, wall in enumerate(chain([first], later)):
        if (rule.count is not None and emitted >= rule.count) or (
            rule.until is not None and wall.date() > rule.until
        ):
            return
        yield wall


def _candidate(first: datetime, rule: Rule, step: int) -> datetime | None:
    if rule.freq == "weekly":
        return first + timedelta(weeks=step * rule.interval)
    months = first.month - 1 + step * rule.interval
    year, month = first.year + months // 12, months % 12 + 1
    if rule.monthly_nth is None or rule.monthly_weekday is None:
        if first.day > monthrange(year, month)[1]:
            return None  # RFC 5545: a month without that day has no occurrence
        return first.replace(year=year, month=month)
    return datetime.combine(
        nth_weekday(year, month, rule.monthly_nth, rule.monthly_weekday), first.time()
    )


def nth_weekday(year: int, month: int, nth: int, weekday: int) -> date:
    """The `nth` (1..4, or -1 for the last) `weekday` (0 = Monday) of a month."""
    if nth == -1:
        last = date(year, month, monthrange(year, month)[1])
        return last - timedelta((last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta((weekday - first.weekday()) % 7 + 7 * (nth - 1))


def describe(rule: Rule, lang_code: str) -> str:
    """`jede Woche`, `alle 2 Wochen`, `jeden 1. Dienstag im Monat, bis 31.03.2027`, `10-mal`."""
    de = lang_code == "de"
    n = rule.interval
    if rule.freq == "weekly":
        text = (
            ("jede Woche" if de else "every week")
            if n == 1
            else (f"alle {n} Wochen" if de else f"every {n} weeks")
        )
    elif rule.monthly_nth is None or rule.monthly_weekday is None:
        text = (
            ("jeden Monat" if de else "every month")
            if n == 1
            else (f"alle {n} Monate" if de else f"every {n} months")
        )
    else:
        day = get_day_names("wide", locale="de" if de else "en")[rule.monthly_weekday]
        if de:
            nth = "letzten" if rule.monthly_nth == -1 else f"{rule.monthly_nth}."
            text = (
                f"jeden {nth} {day} im Monat" if n == 1 else f"jeden {nth} {day}, alle {n} Monate"
            )
        else:
            nth = ("last", "first", "second", "third", "fourth")[max(rule.monthly_nth, 0)]
            text = (
                f"every {nth} {day} of the month" if n == 1 else f"the {nth} {day} every {n} months"
            )
    if rule.until is not None:
        text += (", bis " if de else ", until ") + format_day(rule.until, lang_code)
    if rule.count is not None:
        text += f", {rule.count}-mal" if de else f", {rule.count} times"
    return text
