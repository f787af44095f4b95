"""Meeting series in words: `jeden Dienstag 18 Uhr`, `dienstags um 18.30`, `alle zwei Wochen
donnerstags`, `jeden 2. Mittwoch im Monat`, `jeden Monat am 15.`, `ab 15.12. ...`,
`... bis 31.03.2027`, and the modest English forms (`every other Thursday 7pm`).

The series words are taken off the front of the text; what remains (the time, perhaps a
date, then the title) goes to the one date reader, `bot.when.parse_when`. Without a date,
the first meeting is the rule's first day from today on whose time is still ahead; `ab`
(`from`) names the day the series starts at the earliest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.when import MAX_AHEAD, WEEKDAYS, When, WhenError, localize, parse_date, read_when
from handlers.meetings.recurrence import Rule, RuleError, nth_weekday, parse_rule

_PLURALS = {
    **dict.fromkeys(("montags", "mondays"), 0),
    **dict.fromkeys(("dienstags", "tuesdays"), 1),
    **dict.fromkeys(("mittwochs", "wednesdays"), 2),
    **dict.fromkeys(("donnerstags", "thursdays"), 3),
    **dict.fromkeys(("freitags", "fridays"), 4),
    **dict.fromkeys(("samstags", "sonnabends", "saturdays"), 5),
    **dict.fromkeys(("sonntags", "sundays"), 6),
}
_ORDINAL = {
    **dict.fromkeys(("1.", "1st", "erste", "ersten", "erster", "first"), 1),
    **dict.fromkeys(("2.", "2nd", "zweite", "zweiten", "zweiter", "second", "other"), 2),
    **dict.fromkeys(("3.", "3rd", "dritte", "dritten", "dritter", "third"), 3),
    **dict.fromkeys(("4.", "4th", "vierte", "vierten", "vierter", "fourth"), 4),
    **dict.fromkeys(("letzte", "letzten", "letzter", "last"), -1),
}
_COUNT = {"1": 1, "2": 2, "3": 3, "4": 4, "zwei": 2, "drei": 3, "vier": 4}
_COUNT |= {"two": 2, "three": 3, "four": 4, "other": 2, "second": 2}
_DAYS = {"7": 1, "14": 2, "21": 3, "28": 4, "vierzehn": 2}


def _alt(words: object) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # type: ignore[call-overload]


_E = r"\.?(?=[\s,;]|$)[\s,;]*"  # a word ends; commas and spaces after it go too
_DAY = rf"({_alt(WEEKDAYS)})"
_DATE = r"(\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})?|\d{4}-\d{1,2}-\d{1,2})"
_MONTH = r"(?:monats?|month)"
_OF_MONTH = rf"(?:(?:im|in\s+the|des|eines|jeden|jedes|of\s+the|of\s+each|of\s+every|every)\s+{_MONTH}|monatlich|monthly)"
_EVERY = r"(?:jeden|jede|jedes|jeder|every|each|immer)"
_PARTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern + _E, re.I))
    for name, pattern in (
        ("first", rf"(?:ab|from|starting(?:\s+on)?)\s+(?:dem\s+|the\s+)?{_DATE}"),
        ("until", rf"(?:bis|until|till)\s+(?:zum\s+|einschließlich\s+|the\s+)?{_DATE}"),
        ("monthday", rf"(?:{_EVERY}\s+{_MONTH}|monatlich|monthly)\s+(?:am|on\s+the|on)\s+(\d{{1,2}})(?:\.|st|nd|rd|th)"),
        ("monthday", rf"(?:{_EVERY}\s+|am\s+|on\s+the\s+|the\s+)?(\d{{1,2}})(?:\.|st|nd|rd|th)\s+{_OF_MONTH}"),
        ("nth", rf"(?:({_EVERY})\s+)?(?:am\s+|on\s+the\s+|the\s+)?({_alt(_ORDINAL)})\s+{_DAY}(?:\s+({_OF_MONTH}))?"),
        ("month", rf"(?:{_EVERY}\s+{_MONTH}|monatlich|monthly)"),
        ("interval", rf"(?:alle|every)\s+({_alt(_COUNT)})\s+(?:wochen|weeks)"),
        ("interval_days", r"(?:alle|every)\s+(\d{1,2}|vierzehn)\s+(?:tage|days)"),
        ("interval_days", r"(\d{1,2}|vierzehn)\s*(?:-\s*)?tägig"),
        ("interval2", r"(?:zweiwöchentlich|zweiwöchig|biweekly|fortnightly|jede\s+zweite\s+woche|every\s+(?:other|second)\s+week)"),
        ("weekly", r"(?:wöchentlich|woechentlich|weekly|jede\s+woche|every\s+week)"),
        ("weekday", rf"{_EVERY}\s+(?:am\s+|on\s+)?{_DAY}"),
        ("weekday", rf"(?:immer\s+|on\s+|am\s+)?({_alt(_PLURALS)})"),
        ("weekday_on", rf"(?:am|on)\s+{_DAY}"),
    )
)  # fmt: skip
_TRIGGER = re.compile(
    r"^(?:jeden|jede|jedes|jeder|alle|every|each|immer|wöchentlich|woechentlich|monatlich|"
    r"täglich|weekly|monthly|daily|biweekly|fortnightly|\d+\s*(?:-\s*)?tägig|\w+tags|\w+days)"
    r"(?=[\s,.;]|$)",
    re.I,
)
_UNTIL_LAST = re.compile(rf"(?<![^\s,;])(?:bis|until|till)\s+(?:zum\s+|the\s+)?{_DATE}\.?$", re.I)
_AT = re.compile(r"^(?:um|at|@)\s+", re.I)
_DOT_TIME = re.compile(r"^(\d{1,2})\.(\d{2})(?=[\s,;]|$)")


@dataclass
class _Words:
    """What the series words said, before a first date is known."""

    weekly: bool = False
    interval: int = 1
    weekday: int | None = None
    nth: int | None = None
    monthday: int | None = None
    monthly: bool = False
    first: str | None = None
    until: str | None = None


def read_series(text: str, *, now: datetime, tz: ZoneInfo) -> tuple[Rule, When] | None:
    """(rule, the first start with its end and the rest: title and link) when `text` starts with series words;
    None when it does not; a `RuleError` naming the forms that work when it is unreadable."""
    words, pos = _Words(), 0
    rule_seen = False
    while True:
        for name, pattern in _PARTS:
            if m := pattern.match(text, pos):
                if name == "weekday_on" and not rule_seen:
                    continue
                _apply(words, name, m)
                rule_seen = rule_seen or name not in ("first", "until")
                pos = m.end()
                break
        else:
            break
    rest = text[pos:]
    if not rule_seen:
        if _TRIGGER.match(text.strip()):
            raise RuleError("words", text=_head(text))
        return None
    if _TRIGGER.match(rest.strip()):
        raise RuleError("words", text=_head(text))
    return _resolve(words, rest, text[:pos].strip(" ,;"), now=now, tz=tz)


def _apply(words: _Words, name: str, m: re.Match[str]) -> None:
    if name == "first":
        words.first = m[1]
    elif name == "until":
        words.until = m[1]
    elif name == "monthday":
        words.monthday = int(m[1])
    elif name == "nth":
        nth, monthly = _ORDINAL[m[2].lower()], bool(m[4])
        words.weekday = WEEKDAYS[m[3].lower()]
        if nth == 2 and not monthly and not words.monthly and m[2].lower() != "2.":
            words.interval, words.weekly = 2, True  # `jeden zweiten Dienstag`: every other
        else:
            words.nth, words.monthly = nth, True
    elif name == "month":
        words.monthly = True
    elif name == "interval":
        words.interval, words.weekly = _COUNT[m[1].lower()], True
    elif name == "interval_days":
        if m[1].lower() not in _DAYS:
            raise RuleError("words", text=m[0].strip())
        words.interval, words.weekly = _DAYS[m[1].lower()], True
    elif name == "interval2":
        words.interval, words.weekly = 2, True
    elif name == "weekly":
        words.weekly = True
    else:
        key = m[1].lower()
        words.weekday = _PLURALS[key] if key in _PLURALS else WEEKDAYS[key]
        words.weekly = words.weekly or not words.monthly


def _head(text: str) -> str:
    return " ".join(text.split()[:5])


def _resolve(
    words: _Words, rest: str, text: str, *, now: datetime, tz: ZoneInfo
) -> tuple[Rule, When]:
    local_now = now.astimezone(tz)
    today = local_now.date()
    if words.monthly and (words.weekly and words.interval != 1):
        raise RuleError("rule_conflict")
    if words.monthday is not None and not 1 <= words.monthday <= 31:
        raise RuleError("words", text=_head(text))
    anchor = parse_date(words.first, today=today) if words.first else today
    if words.first and words.weekday is None and words.monthday is None:
        words.weekday = anchor.weekday()  # `ab 15.12. alle zwei Wochen`: that day's weekday
    rest = _AT.sub("", rest.lstrip(" ,;"), count=1)  # `dienstags um 18.30`: the time alone
    rest = _DOT_TIME.sub(lambda m: f"{m[1]}:{m[2]}", rest, count=1)
    clock, exact, after, length = _clock(rest, text, anchor, tz)
    until_text, after = _until(after)
    words.until = until_text or words.until
    if exact is not None:
        first = exact
        if words.first and exact < anchor:
            raise RuleError("words", text=_head(text))
    else:
        first = _first_day(words, anchor, clock, local_now, text)
    if exact is not None:
        _check_match(words, first, clock, tz)
    rule = _rule(words, first)
    start = localize(datetime.combine(first, clock), tz)
    until = parse_date(words.until, today=first) if words.until else None
    if until is not None and until < first:
        raise RuleError("until_before_start", text=words.until or "", when=start)
    if start <= now:
        raise WhenError("past", when=start, suggestion=start + timedelta(days=7))
    if start - now > MAX_AHEAD:
        raise WhenError("too_far", when=start)
    end = localize(datetime.combine(first, clock) + length, tz) if length else None
    return (
        Rule(rule.freq, rule.interval, rule.monthly_nth, rule.monthly_weekday, until),
        When(start, end, after),
    )


def _clock(
    rest: str, phrase: str, anchor: date, tz: ZoneInfo
) -> tuple[time, date | None, str, timedelta | None]:
    """The time in `rest` (and a date written there too, the series' exact first day),
    and the length of a range (`18-20 Uhr`)."""
    if not rest.strip():
        raise WhenError("unparsable", "missing_time", text=phrase)
    seen = []
    for day in (anchor, anchor + timedelta(days=1)):
        midnight = localize(datetime.combine(day, time()), tz)
        try:
            found = read_when(rest, now=midnight, tz=tz, allow_past=True)
        except WhenError as exc:
            if exc.code in ("nonexistent", "ambiguous", "too_far"):
                continue  # this day has no such wall time; the other one will say
            if exc.code == "unparsable" and not exc.reason:
                if not any(c.isdigit() for c in rest):
                    raise WhenError("unparsable", "missing_time", text=phrase) from None
                raise RuleError("words", text=_head(f"{phrase} {rest}")) from None
            raise
        length = (
            None
            if found.end is None
            else found.end.replace(tzinfo=None) - found.start.replace(tzinfo=None)
        )
        seen.append((day, found.start.replace(tzinfo=None), found.rest, length))
    if not seen:
        raise WhenError("unparsable", text=_head(rest))
    day, moment, after, length = seen[0]
    clock = moment.time()
    explicit = any(m.date() != d for d, m, _, _ in seen)
    return clock, (moment.date() if explicit else None), after, length


def _until(after: str) -> tuple[str | None, str]:
    """An end right after the time (`18 Uhr bis 31.03.2027 Plenum`) or after the title
    (`18 Uhr Plenum bis 31.03.2027`)."""
    if m := _PARTS[1][1].match(after):
        return m[1], after[m.end() :]
    if m := _UNTIL_LAST.search(after):
        return m[1], after[: m.start()].rstrip(" ,;")
    return None, after


def _first_day(words: _Words, anchor: date, clock: time, now: datetime, text: str) -> date:
    """The rule's first day on or after `anchor` whose meeting is still ahead."""
    naive_now = now.replace(tzinfo=None)
    for step in range(400):
        day = anchor + timedelta(days=step)
        if datetime.combine(day, clock) <= naive_now or not _on_rule(words, day, text):
            continue
        return day
    raise RuleError("words", text=_head(text))


def _on_rule(words: _Words, day: date, text: str) -> bool:
    if words.weekday is None and words.monthday is None:
        raise RuleError("weekday", text=_head(text))
    return _matches(words, day)


def _check_match(words: _Words, first: date, clock: time, tz: ZoneInfo) -> None:
    """A date written next to the series words must be one of the series' days."""
    if (words.weekday is None and words.monthday is None) or _matches(words, first):
        return
    later = next(
        first + timedelta(d) for d in range(1, 400) if _matches(words, first + timedelta(d))
    )
    start = localize(datetime.combine(first, clock), tz)
    other = localize(datetime.combine(later, clock), tz)
    raise RuleError("start_mismatch", rule=_rule(words, first), when=start, suggestion=other)


def _matches(words: _Words, day: date) -> bool:
    if words.monthday is not None:
        return day.day == words.monthday
    if words.nth is not None and words.weekday is not None:
        return day == nth_weekday(day.year, day.month, words.nth, words.weekday)
    return day.weekday() == words.weekday


def _rule(words: _Words, first: date) -> Rule:
    if words.monthday is not None:
        return Rule("monthly")
    if words.nth is not None:
        return Rule("monthly", 1, words.nth, words.weekday)
    if words.monthly:
        nth = (first.day - 1) // 7 + 1
        return Rule("monthly", 1, -1 if nth == 5 else nth, first.weekday())
    return Rule("weekly", words.interval)


def read_start(
    text: str, flags: dict[str, str | None], *, now: datetime, tz: ZoneInfo
) -> tuple[When, Rule | None]:
    """The first start (with the end of a range) and the rest (title, link) of `/meeting`'s
    text, and its rule: series words or a single date with the flags (`--alle 2w`); an end
    (`--bis`, `--anzahl`) may follow series words too."""
    series = read_series(text, now=now, tz=tz)
    if series is None:
        found = read_when(text, now=now, tz=tz)
        return found, parse_rule(flags, start=found.start, tz=tz)
    rule, found = series
    start = found.start
    if {"weekly", "every", "monthly"} & flags.keys():
        raise RuleError("rule_conflict")
    if flags:
        ends = parse_rule({"weekly": None, **flags}, start=start, tz=tz)
        assert ends is not None  # `weekly` is given
        if rule.until is not None and ends.count:
            raise RuleError("until_and_count")
        until = ends.until or rule.until
        rule = Rule(
            rule.freq, rule.interval, rule.monthly_nth, rule.monthly_weekday, until, ends.count
        )
    return found, rule
