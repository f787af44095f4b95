"""Words and quoted phrases of a command line, the one tokenizer for all of them.

Phones and keyboards type many kinds of quotes: straight `"…"`, German „…“ (also closed
by ” or a straight quote, as phones mix them), English “…”, guillemets «…» and »…«, and
the single German ‚…‘. An opening quote without its closing one is part of a bare word,
and a quote inside a word opens nothing (`geht's`, `5"`).

Linear time: where each closing quote comes next is looked up once and remembered, so an
unclosed quote at every word does not make each word search the rest of the text again.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# One character class each, no alternatives: a single linear pass (in C) per call.
_BLANKS = re.compile(r"\s*")
_WORD = re.compile(r"\S*")

# Opening quote -> the quotes that may close it.
QUOTES: dict[str, str] = {
    '"': '"',
    "„": '“”"',
    "“": '”"',
    "«": "»",
    "»": "«",
    "‚": "‘’",
}


class Token(NamedTuple):
    text: str
    bare: bool  # a plain word (which may be a flag such as `--multi`), not a quoted phrase


def tokenize(text: str) -> list[Token]:
    """All tokens of `text`, in order."""
    out: list[Token] = []
    after = _NextQuote(text)
    pos = _skip_blanks(text, 0)
    while pos < len(text):
        token, pos = _token_at(text, pos, after)
        out.append(token)
        pos = _skip_blanks(text, pos)
    return out


def split(text: str) -> list[str]:
    """The tokens' texts: `a "b c" d` -> ["a", "b c", "d"]."""
    return [token.text for token in tokenize(text)]


def take(text: str) -> tuple[str, str]:
    """The first token of `text` and the text after it (its leading blanks kept);
    ("", "") for a blank text."""
    pos = _skip_blanks(text, 0)
    if pos >= len(text):
        return "", ""
    token, end = _token_at(text, pos, _NextQuote(text))
    return token.text, text[end:]


def unquote(text: str) -> str:
    """The inside of `text` when all of it (but blanks) is one quoted phrase, else `text`."""
    pos = _skip_blanks(text, 0)
    if pos >= len(text):
        return text
    token, end = _token_at(text, pos, _NextQuote(text))
    if token.bare or _skip_blanks(text, end) < len(text):
        return text
    return token.text


def _token_at(text: str, pos: int, after: _NextQuote) -> tuple[Token, int]:
    """The token starting at the non-blank `pos`, and where it ends."""
    closers = QUOTES.get(text[pos])
    close = after.find(closers, pos + 1) if closers else -1
    if close >= 0:
        return Token(text[pos + 1 : close], False), close + 1
    end = _WORD.match(text, pos).end()  # type: ignore[union-attr]  # \S* always matches
    return Token(text[pos:end], True), end


def _skip_blanks(text: str, pos: int) -> int:
    return _BLANKS.match(text, pos).end()  # type: ignore[union-attr]  # \s* always matches


class _NextQuote:
    """The next position of any of some characters, each looked for at most once per
    occurrence: together linear in the length of the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._next: dict[str, int] = {}  # char -> its next index at or after the last ask

    def find(self, chars: str, start: int) -> int:
        best = -1
        for ch in chars:
            at = self._next.get(ch)
            if at is None or 0 <= at < start:
                at = self.text.find(ch, start)
                self._next[ch] = at
            if at >= 0 and (best < 0 or at < best):
                best = at
        return best
