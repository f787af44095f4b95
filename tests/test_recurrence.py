"""Recurring meetings: rules from flags, RRULE round-trips, and expansion in local time
across DST (a weekly 18:00 stays 18:00 while its UTC hour changes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Translator
from bot.when import WhenError
from handlers.meetings.recurrence import (
    Rule,
    RuleError,
    describe,
    from_rrule,
    nth_weekday,
    occurrences,
    parse_rule,
)

BERLIN = ZoneInfo("Europe/Berlin")
DE = Translator().for_language("de")
FAR = datetime(2030, 1, 1, tzinfo=BERLIN)


def at(y: int, mo: int, d: int, h: int = 18, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def expand(start: datetime, rule: Rule | None, **kw: datetime) -> list[datetime]:
    return occurrences(start, rule, after=kw.get("after", start), until=kw.get("until", FAR))


def test_weekly_keeps_local_time_across_both_dst_changes() -> None:
    start = at(2026, 10, 13)  # Tuesday, summer time
    found = expand(start, Rule("weekly"), until=at(2027, 4, 1))
    assert all((o.hour, o.minute, o.weekday()) == (18, 0, 1) for o in found)
    assert [o.astimezone(UTC).hour for o in found[:4]] == [16, 16, 17, 17]
    assert found[-2:] == [at(2027, 3, 23), at(2027, 3, 30)]
    assert [o.astimezone(UTC).hour for o in found[-2:]] == [17, 16]
    assert len(found) == 25


def test_every_two_weeks_and_the_window() -> None:
    start = at(2026, 12, 1)
    found = expand(start, Rule("weekly", 2), after=at(2026, 12, 20), until=at(2027, 2, 1))
    assert found == [at(2026, 12, 29), at(2027, 1, 12), at(2027, 1, 26)]


def test_the_window_is_half_open() -> None:
    start = at(2026, 12, 1)
    rule = Rule("weekly")
    first = occurrences(start, rule, after=start, until=at(2026, 12, 15))
    second = occurrences(start, rule, after=at(2026, 12, 15), until=at(2026, 12, 29))
    assert first == [at(2026, 12, 1), at(2026, 12, 8)]
    assert second == [at(2026, 12, 15), at(2026, 12, 22)]


def test_monthly_first_tuesday_across_months_and_dst() -> None:
    found = expand(at(2026, 12, 1), Rule("monthly", monthly_nth=1, monthly_weekday=1))[:6]
    assert [o.date() for o in found] == [
        date(2026, 12, 1),
        date(2027, 1, 5),
        date(2027, 2, 2),
        date(2027, 3, 2),
        date(2027, 4, 6),
        date(2027, 5, 4),
    ]
    assert {o.hour for o in found} == {18}
    assert found[4].utcoffset() == timedelta(hours=2)


def test_monthly_last_friday() -> None:
    found = expand(at(2026, 11, 27), Rule("monthly", monthly_nth=-1, monthly_weekday=4))[:6]
    assert [o.day for o in found] == [27, 25, 29, 26, 26, 30]
    assert found[-1] == at(2027, 4, 30)


def test_monthly_on_the_same_day_skips_months_without_it() -> None:
    found = expand(at(2027, 1, 31), Rule("monthly"))[:3]
    assert found == [at(2027, 1, 31), at(2027, 3, 31), at(2027, 5, 31)]


def test_until_is_inclusive_and_count_counts_the_start() -> None:
    assert expand(at(2026, 12, 1), Rule("weekly", until=date(2026, 12, 15)))[-1] == at(2026, 12, 15)
    found = expand(at(2026, 12, 1), Rule("weekly", count=3), after=at(2026, 12, 5))
    assert found == [at(2026, 12, 8), at(2026, 12, 15)]
    far = datetime(2040, 1, 1, tzinfo=BERLIN)
    assert len(occurrences(at(2026, 12, 1), Rule("weekly"), after=at(2026, 1, 1), until=far)) == 500


def test_single_meeting_and_a_start_stored_in_utc() -> None:
    start = at(2026, 12, 1)
    assert expand(start, None) == [start]
    assert expand(start, None, after=at(2026, 12, 2)) == []
    utc = start.astimezone(UTC)
    found = occurrences(utc, Rule("weekly"), after=utc, until=at(2027, 6, 1), tz=BERLIN)
    assert found[-1] == at(2027, 5, 25) and found[-1].hour == 18


def test_a_wall_time_in_the_gap_moves_forward_and_the_repeat_is_the_first() -> None:
    gap = expand(at(2027, 3, 21, 2, 30), Rule("weekly"), until=at(2027, 4, 1))
    assert [(o.day, o.hour, o.minute) for o in gap] == [(21, 2, 30), (28, 3, 30)]
    repeat = expand(at(2026, 10, 18, 2, 30), Rule("weekly"), until=at(2026, 11, 1))
    assert repeat[1].utcoffset() == timedelta(hours=2)  # the first 02:30, summer time


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (Rule("weekly", 2, count=5), "FREQ=WEEKLY;INTERVAL=2;COUNT=5"),
        (Rule("monthly", monthly_nth=1, monthly_weekday=1), "FREQ=MONTHLY;BYDAY=1TU"),
        (Rule("monthly", monthly_nth=-1, monthly_weekday=4), "FREQ=MONTHLY;BYDAY=-1FR"),
        (Rule("weekly", until=date(2027, 3, 31)), "FREQ=WEEKLY;UNTIL=20270331"),
        (Rule("monthly"), "FREQ=MONTHLY"),
    ],
)
def test_rrule_round_trip(rule: Rule, text: str) -> None:
    assert rule.to_rrule() == text
    assert from_rrule(text) == rule == Rule.from_rrule("RRULE:" + text)


def test_until_in_utc_next_to_a_tzid() -> None:
    rule = Rule("weekly", until=date(2027, 3, 31))
    assert rule.to_rrule(BERLIN) == "FREQ=WEEKLY;UNTIL=20270331T215959Z"
    assert Rule("weekly", until=date(2027, 1, 31)).to_rrule(BERLIN).endswith("T225959Z")
    assert from_rrule(rule.to_rrule(BERLIN), BERLIN) == rule


@pytest.mark.parametrize("text", ["FREQ=DAILY", "FREQ=WEEKLY;BYHOUR=3", "FREQ=MONTHLY;BYDAY=TU"])
def test_unsupported_rrules_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        from_rrule(text)


def test_rules_check_themselves() -> None:
    with pytest.raises(ValueError):
        Rule("weekly", monthly_nth=1, monthly_weekday=1)
    with pytest.raises(ValueError):
        Rule("monthly", monthly_nth=5, monthly_weekday=1)
    with pytest.raises(ValueError):
        Rule("weekly", count=3, until=date(2027, 1, 1))


def test_nth_weekday() -> None:
    assert nth_weekday(2026, 12, 1, 1) == date(2026, 12, 1)
    assert nth_weekday(2027, 1, -1, 4) == date(2027, 1, 29)
    assert nth_weekday(2027, 2, 4, 6) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("flags", "start", "rule"),
    [
        ({}, at(2026, 12, 1), None),
        ({"--all": None}, at(2026, 12, 1), None),
        ({"--weekly": None}, at(2026, 12, 1), Rule("weekly")),
        ({"weekly": ""}, at(2026, 12, 1), Rule("weekly")),
        ({"--every": "2w"}, at(2026, 12, 1), Rule("weekly", 2)),
        ({"--every": "3 Wochen"}, at(2026, 12, 1), Rule("weekly", 3)),
        ({"--monthly": None}, at(2026, 12, 1), Rule("monthly", 1, 1, 1)),
        ({"--monthly": None}, at(2026, 12, 29), Rule("monthly", 1, -1, 1)),  # 5th -> last
        ({"--monthly": "1Di"}, at(2026, 12, 1), Rule("monthly", 1, 1, 1)),
        ({"--monthly": "1Tu"}, at(2026, 12, 1), Rule("monthly", 1, 1, 1)),
        ({"--monthly": "1. Dienstag"}, at(2026, 12, 1), Rule("monthly", 1, 1, 1)),
        ({"--monthly": "erster Di"}, at(2026, 12, 1), Rule("monthly", 1, 1, 1)),
        ({"--monthly": "letzterFr"}, at(2026, 11, 27), Rule("monthly", 1, -1, 4)),
        ({"--monthly": "-1Fr"}, at(2026, 11, 27), Rule("monthly", 1, -1, 4)),
        ({"--monthly": "last Fri"}, at(2026, 11, 27), Rule("monthly", 1, -1, 4)),
        (
            {"--weekly": None, "--until": "31.03.2027"},
            at(2026, 12, 1),
            Rule("weekly", until=date(2027, 3, 31)),
        ),
        ({"--weekly": None, "--count": "10"}, at(2026, 12, 1), Rule("weekly", count=10)),
        (
            {"--wöchentlich": None, "--bis": "2027-03-31"},
            at(2026, 12, 1),
            Rule("weekly", until=date(2027, 3, 31)),
        ),
    ],
)
def test_rules_from_flags(flags: dict[str, str | None], start: datetime, rule: Rule | None) -> None:
    assert parse_rule(flags, start=start, tz=BERLIN) == rule


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        ({"--weekly": None, "--monthly": None}, "rule_conflict"),
        ({"--every": "2w", "--monthly": "1Di"}, "rule_conflict"),
        ({"--monthly": "5Di"}, "monthly"),
        ({"--monthly": "1Xy"}, "monthly"),
        ({"--every": "14d"}, "every"),
        ({"--every": None}, "every"),
        ({"--every": "0w"}, "every"),
        ({"--until": "31.03.2027"}, "end_without_rule"),
        ({"--weekly": None, "--until": "01.11.2026"}, "until_before_start"),
        ({"--weekly": None, "--until": "31.03.2027", "--count": "3"}, "until_and_count"),
        ({"--weekly": None, "--count": "0"}, "count"),
        ({"--weekly": None, "--count": "viele"}, "count"),
        ({"--weekly": None, "--until": "bald"}, "date"),
        ({"--monthly": "1Do"}, "start_mismatch"),
    ],
)
def test_nonsense_flags_are_refused(flags: dict[str, str | None], reason: str) -> None:
    with pytest.raises(WhenError) as caught:
        parse_rule(flags, start=at(2026, 12, 1), tz=BERLIN)
    assert (caught.value.code, caught.value.reason) == ("unparsable", reason)
    assert caught.value.message(DE).plain


def test_a_start_that_does_not_match_the_rule_gets_the_right_date() -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule({"--monthly": "1Di"}, start=at(2026, 12, 3), tz=BERLIN)
    assert caught.value.suggestion == at(2027, 1, 5)
    assert caught.value.message(DE).plain == (
        "Der erste Termin (Donnerstag, 3. Dezember 2026, 18:00 Uhr) passt nicht zu "
        "„jeden 1. Dienstag im Monat“. Der nächste passende Termin wäre Dienstag, 5. Januar 2027, "
        "18:00 Uhr."
    )
    with pytest.raises(RuleError) as caught:
        parse_rule({"--monthly": "letzterDi"}, start=at(2026, 12, 1), tz=BERLIN)
    assert caught.value.suggestion == at(2026, 12, 29)


def test_german_answers_for_flags() -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule({"--monthly": "5Di"}, start=at(2026, 12, 1), tz=BERLIN)
    assert caught.value.message(DE).plain == (
        "„5Di“ verstehe ich nicht. Schreib z. B. --monatlich 1Di für den ersten Dienstag im "
        "Monat oder --monatlich letzterFr für den letzten Freitag."
    )  # German option names in German (issue 13: they were --monthly)


@pytest.mark.parametrize(
    ("rule", "de", "en"),
    [
        (Rule("weekly"), "jede Woche", "every week"),
        (Rule("weekly", 2), "alle 2 Wochen", "every 2 weeks"),
        (
            Rule("monthly", 1, 1, 1),
            "jeden 1. Dienstag im Monat",
            "every first Tuesday of the month",
        ),
        (
            Rule("monthly", 1, -1, 4, until=date(2027, 3, 31)),
            "jeden letzten Freitag im Monat, bis 31.03.2027",
            "every last Friday of the month, until 31 Mar 2027",
        ),
        (Rule("weekly", count=10), "jede Woche, 10-mal", "every week, 10 times"),
        (Rule("monthly"), "jeden Monat", "every month"),
    ],
)
def test_describe(rule: Rule, de: str, en: str) -> None:
    assert (describe(rule, "de"), describe(rule, "en")) == (de, en)
