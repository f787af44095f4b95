"""A few hundred phrasings as volunteers write dates, each with the exact start (and end) it
must read as or the refusal it must get (tests/when_corpus_table.py), against a fixed clock:
Thursday 3.12.2026 10:00 in Berlin, and Monday 28.12.2026 for the turn of the year.

Each kind reports its share understood; at least 95 % of every kind must read exactly as
expected, and every refusal must be a `WhenError` (never another exception). Recurrence in
words has its own table (the series reader). Word salads of date words raise nothing but
`WhenError` either.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import Translator
from bot.when import WhenError, read_when
from bot.when_text import format_full, format_span
from tests import when_corpus_table as table

BERLIN = ZoneInfo("Europe/Berlin")
THURSDAY = datetime(2026, 12, 3, 10, 0, tzinfo=BERLIN)
YEAR_END = datetime(2026, 12, 28, 10, 0, tzinfo=BERLIN)
SHARE = 0.95
TRANSLATOR = Translator()


def outcome(text: str, now: datetime) -> str:
    """What the reader made of `text`: `YYYY-MM-DD HH:MM[-HH:MM]`, or the refusal's code."""
    try:
        found = read_when(text, now=now, tz=BERLIN)
    except WhenError as err:
        for lang in ("de", "en"):  # every refusal can be explained
            assert err.message(TRANSLATOR.for_language(lang)).plain
        return err.code + (f":{err.reason}" if err.reason else "")
    read = found.start.strftime("%Y-%m-%d %H:%M")
    if found.end is not None:
        read += found.end.strftime("-%H:%M")
    return read + (f" +{found.rest!r}" if found.rest else "")


def understood(kind: str, phrasings: dict[str, str], now: datetime) -> None:
    wrong = {text: got for text in phrasings if (got := outcome(text, now)) != phrasings[text]}
    share = 1 - len(wrong) / len(phrasings)
    print(f"{kind}: {share:.0%} of {len(phrasings)} understood")
    misses = "\n".join(f"  {t!r}: {g} (expected {phrasings[t]})" for t, g in wrong.items())
    assert share >= SHARE, f"{kind}: only {share:.0%} understood:\n{misses}"


@pytest.mark.parametrize(
    ("kind", "phrasings"),
    [
        ("weekday + time", table.WEEKDAY_TIME),
        ("numeric dates", table.NUMERIC),
        ("month names", table.MONTH_NAMES),
        ("relative", table.RELATIVE),
        ("time ranges", table.RANGES),
    ],
)
def test_each_kind_is_understood(kind: str, phrasings: dict[str, str]) -> None:
    understood(kind, phrasings, THURSDAY)


def test_the_turn_of_the_year() -> None:
    understood("turn of the year", table.YEAR_WRAP, YEAR_END)


def test_every_rejection_is_a_when_error_with_its_reason() -> None:
    """Not a share: each phrase here must be refused, for the reason given."""
    got = {text: outcome(text, THURSDAY) for text in table.REJECTIONS}
    assert got == table.REJECTIONS


def test_the_table_is_a_few_hundred_phrasings() -> None:
    kinds = (table.WEEKDAY_TIME, table.NUMERIC, table.MONTH_NAMES, table.RELATIVE)
    total = sum(map(len, (*kinds, table.RANGES, table.REJECTIONS, table.YEAR_WRAP)))
    assert total >= 300


def test_a_title_after_the_date_is_the_rest() -> None:
    assert outcome("29.12. 18:30 - 20:30 Uhr Plenum", THURSDAY) == (
        "2026-12-29 18:30-20:30 +'Plenum'"
    )
    assert outcome("um 19 Uhr am 29.12. Plenum im Haus", THURSDAY) == (
        "2026-12-29 19:00 +'Plenum im Haus'"
    )
    assert (
        outcome("Di 18:00 - 20 Jahre Bündnis", THURSDAY) == "2026-12-08 18:00 +'20 Jahre Bündnis'"
    )
    assert outcome("morgen 19 Uhr Abend der Begegnung", THURSDAY) == (
        "2026-12-04 19:00 +'Abend der Begegnung'"
    )
    assert outcome("morgen 8 Uhr abends Treffen", THURSDAY) == "2026-12-04 20:00 +'Treffen'"
    assert outcome("Di 18:00 von 2 Leuten", THURSDAY) == "2026-12-08 18:00 +'von 2 Leuten'"
    assert outcome("Di 19 Uhr 30 Plenum", THURSDAY) == "2026-12-08 19:30 +'Plenum'"
    assert outcome("Di 19 Uhr 30 Jahre Bündnis", THURSDAY) == (
        "2026-12-08 19:00 +'30 Jahre Bündnis'"
    )
    assert outcome("Tue 6pm at the office", THURSDAY) == "2026-12-08 18:00 +'at the office'"
    assert outcome("18:00 So geht's weiter", THURSDAY) == '2026-12-03 18:00 +"So geht\'s weiter"'


def test_a_day_alone_with_a_default_time() -> None:
    """A poll deadline: `Freitag` is until Friday 23:59."""
    for text, expected in (("Freitag", "2026-12-04 23:59"), ("16. Dez.", "2026-12-16 23:59")):
        found = read_when(text, now=THURSDAY, tz=BERLIN, default_time=time(23, 59))
        assert found.start.strftime("%Y-%m-%d %H:%M") == expected


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 12, 4), max_value=datetime(2028, 11, 30)),
    st.integers(min_value=0, max_value=180),
    st.sampled_from(("de", "en")),
)
def test_the_bots_own_writing_reads_back(naive: datetime, minutes: int, lang: str) -> None:
    """`format_full` / `format_span` (what every answer shows) read back as the same time,
    except in the DST gap and repeat hour, which are refused."""
    naive = naive.replace(second=0, microsecond=0)
    start = naive.replace(tzinfo=BERLIN)
    end = (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(BERLIN)
    if not minutes or end.date() != start.date():
        end = None
    written = format_span(start, end, lang) if end else format_full(start, lang)
    try:
        found = read_when(written, now=THURSDAY, tz=BERLIN)
    except WhenError as err:
        assert err.code in ("nonexistent", "ambiguous"), written
        return
    assert found.start.replace(tzinfo=None) == naive, written
    if end is not None and end.utcoffset() == start.utcoffset():
        assert found.end == end, written
    else:
        assert found.end is None or end is not None, written
    assert found.rest == ""


WORDS = (
    "am", "um", "den", "ab", "bis", "von", "Uhr", "uhr", "-", "–", ",", ".", "morgen", "heute",
    "übermorgen", "Abend", "abends", "früh", "nächste", "nächsten", "Woche", "kommenden",
    "diese", "Di", "Dienstag", "Montagabend", "Sa", "So", "Dez.", "Dezember", "Jan", "März",
    "16.", "16", "16.12.", "16.12", "3.12", "2026", "27", "18", "18:00", "19.30", "18h30",
    "7pm", "p.m.", "at", "on", "the", "next", "week", "tomorrow", "evening", "in", "2",
    "Stunden", "Tagen", "MESZ", "MEZ", "12/03", "2026-12-16", "25:00", "24", "0", "99",
    "jeden", "Plenum", "x",
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=8), st.sampled_from((" ", "", ", ")))
def test_word_salad_raises_only_when_errors(words: list[str], glue: str) -> None:
    text = glue.join(words)
    for now in (THURSDAY, YEAR_END):
        try:
            found = read_when(text, now=now, tz=BERLIN)
        except WhenError as err:
            assert err.message(TRANSLATOR.for_language("de")).plain
            continue
        assert found.start.tzinfo is not None
        assert found.end is None or found.end > found.start
