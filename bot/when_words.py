"""The words and patterns of the date language (German first, English second), shared by the
reader (bot/when_read.py, bot/when_parts.py) and the recurrence parser.

Every pattern is matched at one position only and has no two quantifiers that can take the
same text, so reading stays linear in the length of the text (tests/test_regex_review.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

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

MONTHS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        "januar jänner jan january",
        "februar feb february",
        "märz mär maerz mrz mar march",
        "april apr",
        "mai may",
        "juni jun june",
        "juli jul july",
        "august aug",
        "september sep sept",
        "oktober okt oct october",
        "november nov",
        "dezember dez dec december",
    ),
    1,
):
    MONTHS.update(dict.fromkeys(_names.split(), _i))

UNITS: dict[str, timedelta] = {}
for _td, _names in (
    (timedelta(minutes=1), "m min mins minute minuten minutes"),
    (timedelta(hours=1), "h std stunde stunden hour hours hr hrs"),
    (timedelta(days=1), "d t tag tage tagen day days"),
    (timedelta(weeks=1), "w wo woche wochen week weeks"),
):
    UNITS.update(dict.fromkeys(_names.split(), _td))

NUMBERS = {
    **dict.fromkeys(("ein", "eine", "einer", "einem", "einen", "a", "an", "one"), 1),
    **{w: n for n, w in enumerate(("zwei", "drei", "vier", "fünf", "sechs"), 2)},
    **{w: n for n, w in enumerate(("two", "three", "four", "five", "six"), 2)},
}
ZONE_ALIASES = {"MESZ": "CEST", "MEZ": "CET", "CEST": "CEST", "CET": "CET"}
DAY_OFFSETS = {"heute": 0, "today": 0, "tonight": 0, "morgen": 1, "tomorrow": 1}
# Parts of the day: "abends" makes `8 Uhr` 20:00; the others only say when, not which hour.
EVENING = {"abend", "abends", "nachmittag", "nachmittags", "evening", "afternoon", "tonight"}
_PARTS = "abends?|nachmittags?|vormittags?|mittags?|morgens|früh|frueh"

END = r"(?=[\s,;]|$)"
SLASH = re.compile(r"\d{1,4}/\d{1,2}(?:/\d{2,4})?" + END)
REL = re.compile(r"in\s+(?:(\d{1,4})\s*|([a-z]+)\s+)([a-zäöü]+)\.?" + END, re.I)
# Small words between the parts: `am`, `um`, `den`, `ab`, commas (`Mittwoch, den 16. Dez.`).
FILLER = re.compile(r"[\s,]*(?:(am|um|den|der|ab|gegen|von|on|at|@|the|from)(?=\s)[\s,]*)*", re.I)
ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt](?=\d)|" + END + ")")
DMY = re.compile(r"(\d{1,2})\.(\d{1,2})(\.(\d{4}|\d{2})?)?" + END)
DAY_MONTH = re.compile(
    r"(\d{1,2})(?:\.|st|nd|rd|th)?(?: of)? ?([a-zäöü]{3,9})\.?(?:,? (\d{4}))?" + END, re.I
)
MONTH_DAY = re.compile(r"([a-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?" + END, re.I)
DAYWORD = re.compile(
    r"(heute|today|tonight|übermorgen|uebermorgen|morgen|tomorrow|(?:the )?day after tomorrow)"
    + END,
    re.I,
)
WEEK = re.compile(
    r"(nächste|naechste|kommende|übernächste|uebernächste|uebernaechste|next|diese|this)"
    r" (woche|week)" + END,
    re.I,
)
NEXT = re.compile(r"(nächste[nrs]?|naechste[nrs]?|kommende[nrs]?|next|coming)\s+", re.I)
THIS = re.compile(r"(diese[nrs]?|this)\s+", re.I)
WEEKDAY_WORD = re.compile(r"([a-zäöü]{2,20})\.?" + END, re.I)
# `Montagabend`, `Sonntagmorgen`: a weekday with the part of the day grown onto it.
COMPOUND_PARTS = ("abends", "abend", "nachmittag", "vormittag", "morgen", "mittag", "früh")
DAY_PART = re.compile(
    r"(" + _PARTS + r"|abend|nachmittag|vormittag|mittag|nachts?|"
    r"(?:in the )?(?:evening|afternoon|morning))" + END,
    re.I,
)
# A clock time: 18:00, 18.30, 18h30, 18h, 6pm, 6 p.m., 18 Uhr; a bare `18` is read only where
# the words around it say it is a time (`um 18`, `18-20 Uhr`).
CLOCK = re.compile(
    r"(\d{1,2})(?::(\d{2})(?::(\d{2}))?|\.(\d{2})|(h)(\d{2})?)?"
    r"(?:\s?([ap])\.m\.|([ap])m|\s(p)m)?"  # 6pm, 6 pm, 6 p.m. (not ` am`: German "at the")
    r"( ?uhr)?(?=[\s,;–—-]|$)",
    re.I,
)
RANGE = re.compile(r" ?(?:([–—-])|(bis|to|till|until)(?= )) ?", re.I)
ZONE = re.compile(r"\s+([A-Za-z]{2,5})" + END)
DURATION = re.compile(r"(\d{1,5})\s*([a-zäöü]+)\.?\s*", re.I)
REST = re.compile(r"^[\s,;]*(?:[–—-]\s+)?")
SPACE = re.compile(r"\s*")
SPACE_DIGIT = re.compile(r"\s+\d")
