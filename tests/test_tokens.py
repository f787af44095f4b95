"""The one tokenizer for command lines (bot/commands/tokens.py): every kind of quote phones
and keyboards type, unclosed quotes as words, and linear time on hostile text."""

from __future__ import annotations

import time

import pytest

from bot.commands import tokens
from bot.commands.tokens import Token


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


@pytest.mark.parametrize("piece", ["„", "«", '"', "‚", "x "])
def test_unclosed_quotes_take_linear_time(piece: str) -> None:
    text = piece * 30_000 + "!"
    started = time.perf_counter()
    tokens.split(text)
    tokens.take(text)
    tokens.unquote(text)
    assert time.perf_counter() - started < 1.0
