"""Every parser that reads a user's text runs in (about) linear time: each is fed 64 KiB
worst-case strings (a corpus built from the pieces that make regexes backtrack: long runs
of blanks, digits, letters, unclosed quotes and tags, followed by a character that makes
the match fail) and must finish well under a second.

The regexes reviewed (every `re.*` call in bot/, handlers/, storage/ that sees user text):

- bot/transports/matrix/text.py: `_PILL` (`([^"'?]+)[^"']*["']`, quadratic: 7.4 s for one
  20 KB message) and `_TAG` (`<[^>]+>`, quadratic on `<<<<`) are gone; `formatted_body` is
  read by the one-pass tokenizer in bot/transports/matrix/html.py. `MX_REPLY` is gone (the
  tokenizer skips `<mx-reply>`); `pills_to_ids` uses `str.find`, not a regex built from a
  label. `_PREFIXED` (anchored, one `.*`) is linear.
- bot/commands/convert.py `_AG_NUMBER`: `\\s*[-_#]?\\s*` was quadratic on `ag` + blanks + `x`
  (1.3 s for 8,000 blanks); now `\\s*(?:[-_#]\\s*)?`. `\\s+` in `re.sub`, `\\w+` (AG names) linear.
- The old poll `_TOKEN`, tried at each token, searched the rest of the text for the closing
  quote of every unclosed `„`/`«` (quadratic). Its successor, the one tokenizer of
  bot/commands/tokens.py (polls, dispatch), looks each closing quote's next position up
  once; `_BLANKS`/`_WORD` are one character class each. handlers/polls/args.py `_FLAG`
  (anchored, on one word) is linear. bot/commands/convert.py `\\s*(\\d+)\\b`: tried once per parameter: linear.
- bot/when_words.py (read by bot/when_read.py and bot/when.py) `SLASH REL FILLER ISO DMY
  DAY_MONTH MONTH_DAY DAYWORD WEEK NEXT THIS WEEKDAY_WORD DAY_PART CLOCK RANGE ZONE DURATION
  REST SPACE SPACE_DIGIT`: each matched at one position, a fixed number of times per part
  read, and every part read moves forward (`parse_duration` too); separators are one
  character class (`[\\s,]*`), never two quantifiers over the same text: linear.
- handlers/meetings/recurrence.py `_EVERY _MONTHLY` and the BYDAY `fullmatch`; handlers/meetings/args.py
  `_MONTHLY_VALUE _DASHED _SHORT_ID _URL` (on single words) and `^\\d`; handlers/meetings/edit.py
  `_TIME_FIRST _WEEKDAY_START _IN_AMOUNT`; handlers/meetings/words.py `_PARTS` (each anchored at
  the position the last one ended; no quantified group that can match the same text in two
  ways), `_TRIGGER`, `_AT`, `_DOT_TIME` (anchored) and `_UNTIL_LAST` (searched, but a match
  can only start at `bis`/`until`/`till`); handlers/vote/service.py `[,;\\s]+`; handlers/connect/service.py `[^0-9A-Z]`; handlers/membership/admin.py
  `_SLUG`; bot/transports/telegram/menus.py `_MENU_COMMAND`, incoming.py `_DEEP_LINK`; bot/core.py `_SURROGATE`:
  linear.
- Not user text: bot/config.py (the configuration file), bot/i18n.py `_PLACEHOLDER` (the
  catalog's own strings), handlers/survey/templates.py `_KEY` (the survey file),
  storage/cache.py `_WRITE` (SQL).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.commands import Kind, Param, tokens
from bot.commands import convert as commands_convert
from bot.context import UserError
from bot.core import well_formed
from bot.i18n import Translator
from bot.rich import as_rich
from bot.transports.matrix import html as matrix_html
from bot.transports.matrix import text as matrix_text
from bot.transports.telegram.incoming import _DEEP_LINK
from bot.when import WhenError, parse_date, parse_duration, parse_offsets, parse_when
from handlers.cards import fields as cards
from handlers.connect import service as connect
from handlers.meetings import args as meeting_args
from handlers.meetings import edit as meeting_edit
from handlers.meetings import words as meeting_words
from handlers.meetings.recurrence import RuleError, parse_rule
from handlers.polls import args as poll_args
from handlers.vote import service as vote
from storage.models import Ag
from tests.support.timing import BOUND, seconds

SIZE = 64 * 1024
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime.now(UTC) + timedelta(days=3)

# Pieces that make backtracking regexes slow when repeated, and the tails that make the
# final match fail.
UNITS = (
    " ", "\t", "a", "1", "ä", ".", ":", ",", "-", "--", "—", "/", "@", "#", "&#", "&amp",
    "<", "<a ", "</", "<!--", '"', "„a ", "«a ", '"a ', "“a ", "ag ", "ag", "in ", "in 1 ",
    "1.", "1.1.", "18:", "18 ", "uhr ", "am ", "um ", "at ", "1h", "1 h ", "p.m.", "\u2028",
    "\u202e", "\u200d", "> ", "!", "x=", "'",
)  # fmt: skip
TAILS = ("", "x", " 2")


def corpus() -> Iterator[str]:
    """Each unit repeated to 64 KiB with one of the tails in turn (each unit with every tail
    would triple the run time and find nothing more), then pairs of pieces."""
    for index, unit in enumerate(UNITS):
        tail = TAILS[index % len(TAILS)]
        yield (unit * (SIZE // len(unit)))[: SIZE - len(tail)] + tail
    pairs = (
        ("ag", " "),
        ("1", " "),
        ("a", " "),
        ("in", " "),
        ("„", "a"),
        ("<a", " x"),
        ('<a href="https://matrix.to/#/', "a"),
    )
    for a, b in pairs:
        yield a + b * ((SIZE - len(a) - 1) // len(b)) + "x"


CORPUS = list(corpus())


@functools.cache
def _ctx() -> Any:
    """The little of a Context the parsers touch (texts of their errors, the clock)."""
    lang = Translator().for_language("de")
    return SimpleNamespace(
        t=lang.t,
        lang=lang,
        cmd=lambda name: "/" + name,
        services=SimpleNamespace(now=lambda: NOW, settings=SimpleNamespace(tz=TZ)),
    )


AGS = [Ag(id=n, slug=f"ag{n}", name=name) for n, name in ((1, "Dorf"), (2, "Transparenz"))]
VIEW = SimpleNamespace(options=["Ja", "Nein"], short_id="p1")
PARAMS = (Param("ag", Kind.AG, "AG"), Param("who", Kind.USER, "wer"), Param("t", Kind.TEXT, "t"))


def _dispatch_take(text: str) -> None:
    rest = text
    for index, param in enumerate(PARAMS):
        _, rest = commands_convert.take(param, rest, index == len(PARAMS) - 1)


def _rule(text: str) -> None:
    """Each flag's value on its own (a bad `--until` would hide `--monthly`)."""
    for flags in (
        {"--monthly": text},
        {"--every": text},
        {"--weekly": None, "--until": text},
        {"--weekly": None, "--count": text},
    ):
        with contextlib.suppress(RuleError, WhenError):
            parse_rule(flags, start=NOW, tz=TZ)


PARSERS: dict[str, Callable[[str], object]] = {
    "when.parse_when": lambda s: parse_when(s, now=NOW, tz=TZ),
    "when.parse_date": lambda s: parse_date(s, today=NOW.date()),
    "when.parse_duration": parse_duration,
    "when.parse_offsets": lambda s: parse_offsets(s.split(" ", 20)),
    "recurrence.parse_rule": _rule,
    "poll_args.parse": lambda s: poll_args.parse(_ctx(), s),
    "poll_args.clean": poll_args.clean,
    "convert.take": _dispatch_take,
    "tokens.unquote": tokens.unquote,
    "tokens.tokenize": tokens.tokenize,
    "convert.match_ag": lambda s: commands_convert.match_ag(s, AGS),
    "meeting_args.split_options": lambda s: meeting_args.split_options(_ctx(), s),
    "meeting_args.title_and_url": lambda s: meeting_args.title_and_url(_ctx(), s),
    "meeting_args.parse_id": lambda s: meeting_args.parse_id(_ctx(), s),
    "meeting_edit._TIME_FIRST": meeting_edit._TIME_FIRST.match,
    "meeting_edit.looks_like_date": meeting_edit.looks_like_date,
    "meeting_words.read_series": lambda s: meeting_words.read_series(s, now=NOW, tz=TZ),
    "meeting_words.read_series (after a rule)": lambda s: meeting_words.read_series(
        "jeden Dienstag 18 Uhr " + s, now=NOW, tz=TZ
    ),
    "vote.choices": lambda s: vote.choices(_ctx(), VIEW, s),
    "connect.normalise": connect.normalise,
    "cards.clean": lambda s: cards.clean(s, multiline=True),
    "cards.pick": lambda s: cards.pick(_ctx(), s, ("Leipzig (Stadt)", "Halle (Saale)")),
    "matrix_text.parse_command": lambda s: matrix_text.parse_command(
        s, s, is_reply=True, bot_id="@bot:x", bot_names=["Bündnisbot"]
    ),
    "matrix_text.pills_to_ids": lambda s: matrix_text.pills_to_ids(
        s[:4096], [("@a:x", s[:200]), ("@b:x", "a a")]
    ),
    "matrix_html.pills": matrix_html.pills,
    "telegram._DEEP_LINK": _DEEP_LINK.match,
    "core.well_formed": well_formed,
}


def quietly(parse: Callable[[str], object], sample: str) -> None:
    with contextlib.suppress(UserError, WhenError, RuleError, ValueError):
        parse(sample)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_each_parser_is_fast_on_64_kib_worst_cases(name: str) -> None:
    parse = PARSERS[name]
    slowest, worst = 0.0, ""
    for sample in CORPUS:
        took = seconds(quietly, parse, sample)
        if took > slowest:
            slowest, worst = took, sample
    assert slowest < BOUND, f"{name} took {slowest:.2f} s on {worst[:40]!r}... ({len(worst)})"


def test_the_corpus_holds_what_broke_the_old_patterns() -> None:
    """The strings that took seconds before the fixes are in the corpus."""
    assert "ag" + " " * ((SIZE - 3) // 1) + "x" in CORPUS  # _AG_NUMBER
    assert any(s.startswith("„a „a ") for s in CORPUS)  # poll_args._TOKEN
    assert any(s.startswith("<a <a ") for s in CORPUS)  # html.parser
    assert any(s.startswith('<a href="https://matrix.to/#/aaa') for s in CORPUS)  # _PILL
    assert as_rich("x")  # the error texts above are built for real
