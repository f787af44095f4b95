"""The one tokenizer for command lines (bot/commands/tokens.py): every kind of quote phones
and keyboards type, unclosed quotes as words, and linear time on hostile text."""

from __future__ import annotations

from typing import Any

import pytest

from bot.commands import tokens
from bot.commands.tokens import Token
from tests.support.timing import BOUND, seconds


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('a "b c" d', ["a", "b c", "d"]),
        ("„Wann treffen wir uns?“ Montag", ["Wann treffen wir uns?", "Montag"]),
        ("„Wann?” Montag", ["Wann?", "Montag"]),
        ('„Wann?" Montag', ["Wann?", "Montag"]),
        ("“Wann?” Montag", ["Wann?", "Montag"]),
        ("«Wann genau?» Montag", ["Wann genau?", "Montag"]),
        ("»Wann genau?« Montag", ["Wann genau?", "Montag"]),
        ("‚Wann genau?‘ Montag", ["Wann genau?", "Montag"]),
        ('"" leer', ["", "leer"]),
        ("  viele   Leerzeichen\t\n ", ["viele", "Leerzeichen"]),
        ("", []),
    ],
)
def test_split_knows_every_kind_of_quote(text: str, words: list[str]) -> None:
    assert tokens.split(text) == words


def test_an_unclosed_quote_is_part_of_a_bare_word() -> None:
    assert tokens.tokenize('"offen und zu') == [
        Token('"offen', True),
        Token("und", True),
        Token("zu", True),
    ]
    assert tokens.split("«nie zu") == ["«nie", "zu"]


def test_a_quote_inside_a_word_opens_nothing() -> None:
    assert tokens.split("geht's 5\" weiter") == ["geht's", '5"', "weiter"]


def test_a_quoted_phrase_ends_at_its_closing_quote() -> None:
    assert tokens.split('"a b"c') == ["a b", "c"]


def test_tokenize_tells_quoted_phrases_from_bare_words() -> None:
    assert tokens.tokenize('--multi "--multi"') == [Token("--multi", True), Token("--multi", False)]


def test_take_cuts_the_first_token_and_keeps_the_rest() -> None:
    assert tokens.take("  „zwei Worte“  und mehr") == ("zwei Worte", "  und mehr")
    assert tokens.take("eins") == ("eins", "")
    assert tokens.take("   ") == ("", "")


@pytest.mark.parametrize(
    ("text", "inside"),
    [
        ('"alles"', "alles"),
        ("«alles zusammen»", "alles zusammen"),
        ('"a" "b"', '"a" "b"'),
        ("ohne Anführung", "ohne Anführung"),
        ('"offen', '"offen'),
    ],
)
def test_unquote_takes_off_quotes_around_the_whole_text_only(text: str, inside: str) -> None:
    assert tokens.unquote(text) == inside


PIECES = ["„a ", "«a ", '"a ', "‚a ", "x ", "„", '"']


@pytest.mark.parametrize("piece", PIECES)
def test_unclosed_quotes_take_no_blow_up_in_time(piece: str) -> None:
    text = piece * 30_000 + "!"

    def all_three() -> None:
        tokens.split(text)
        tokens.take(text)
        tokens.unquote(text)

    assert seconds(all_three) < BOUND


class CountingText(str):
    """A text that counts how many characters its `find` calls walk over."""

    walked = 0

    def find(self, sub: str, start: Any = None, end: Any = None) -> int:  # type: ignore[override]
        at = str.find(self, sub, start, end)
        CountingText.walked += (at if at >= 0 else len(self)) - (start or 0)
        return at


@pytest.mark.parametrize("piece", PIECES)
def test_unclosed_quotes_are_looked_for_once_per_character(piece: str) -> None:
    """Linear by count, not by clock: searching for closing quotes walks each character at
    most once per kind of closing quote (an unclosed quote at every word once made every
    word search the rest of the text again)."""
    text = CountingText(piece * 30_000 + "!")
    CountingText.walked = 0
    tokens.split(text)
    most_closers = max(len(closers) for closers in tokens.QUOTES.values())
    assert CountingText.walked <= most_closers * len(text)
