"""Reading the little the bot needs from a Matrix `formatted_body`: the user pills
(`<a href="https://matrix.to/#/@anna:example.org">Anna</a>`), outside the reply fallback
(`<mx-reply>`).

A tokenizer of its own, in one pass and linear time whatever arrives: every scan either
consumes what it looked at or reaches the end of the input, where (as in HTML) an
unfinished tag is dropped. Neither a backtracking regex (the old pill pattern took 7 s on
one 20 KB message) nor `html.parser.HTMLParser` (Python 3.11's needs 58 s for 64 KiB of
`<a <a <a ...`, and raises on a long numeric character reference) can promise that.
Labels and links are cut to `LABEL_MAX` before `html.unescape`, so no entity grows huge.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote

MATRIX_TO = "https://matrix.to/#/"
LABEL_MAX = 256  # characters of a pill's label or link kept (a Matrix user id is at most 255)

# Each pattern is one character class, repeated, matched at a position: it consumes what
# it scans and cannot backtrack.
_NAME = re.compile(r"[^\s/>]*")
_ATTR_NAME = re.compile(r"[^\s/>=]*")
_SPACE = re.compile(r"[\s/]*")
_BLANK = re.compile(r"\s*")
_UNQUOTED = re.compile(r"[^\s>]*")


@dataclass
class Tag:
    name: str  # lower case
    end: bool = False
    attrs: dict[str, str] = field(default_factory=dict)


def tokens(source: str) -> Iterator[str | Tag]:
    """Text runs (still escaped) and tags, in order; comments and declarations skipped."""
    pos, size = 0, len(source)
    while pos < size:
        lt = source.find("<", pos)
        if lt < 0:
            yield source[pos:]
            return
        if lt > pos:
            yield source[pos:lt]
        after = source[lt + 1 : lt + 2]
        if after.isascii() and after.isalpha():
            found = _start_tag(source, lt + 1)
            if found is None:
                return  # the input ends inside a tag
            tag, pos = found
            yield tag
        elif (
            after == "/" and source[lt + 2 : lt + 3].isascii() and source[lt + 2 : lt + 3].isalpha()
        ):
            close = source.find(">", lt + 2)
            if close < 0:
                return
            yield Tag(source[lt + 2 : _skip(_NAME, source, lt + 2)].lower(), end=True)
            pos = close + 1
        elif after in ("!", "?", "/"):
            comment = source.startswith("<!--", lt)
            close = source.find("-->", lt + 4) if comment else source.find(">", lt + 2)
            if close < 0:
                return
            pos = close + (3 if comment else 1)
        else:
            yield "<"
            pos = lt + 1


def _start_tag(source: str, pos: int) -> tuple[Tag, int] | None:
    """The tag whose name starts at `pos`, and the position after its `>`."""
    end = _skip(_NAME, source, pos)
    tag, pos, size = Tag(source[pos:end].lower()), end, len(source)
    while True:
        pos = _skip(_SPACE, source, pos)
        if pos >= size:
            return None
        if source[pos] == ">":
            return tag, pos + 1
        end = max(_skip(_ATTR_NAME, source, pos), pos + 1)  # a lone `=` is a name in HTML
        key, pos, value = source[pos:end], end, ""
        after = _skip(_BLANK, source, pos)
        if source[after : after + 1] == "=":
            pos = _skip(_BLANK, source, after + 1)
            quote = source[pos : pos + 1]
            if quote in ("'", '"'):
                close = source.find(quote, pos + 1)
                if close < 0:
                    return None
                value, pos = source[pos + 1 : close], close + 1
            else:
                end = _skip(_UNQUOTED, source, pos)
                value, pos = source[pos:end], end
        tag.attrs.setdefault(key.lower(), value[: LABEL_MAX * 4])


def _skip(pattern: re.Pattern[str], source: str, pos: int) -> int:
    """The end of `pattern` (a repeated class, which always matches) from `pos`."""
    match = pattern.match(source, pos)
    return match.end() if match else pos


def user_of(href: str) -> str | None:
    """The user id a matrix.to link points at, or None for rooms, events and other links."""
    href = html.unescape(href[: LABEL_MAX * 4]).strip()
    if not href.startswith(MATRIX_TO):
        return None
    target = unquote(href[len(MATRIX_TO) :].split("?", 1)[0])
    if target.startswith("@") and ":" in target and len(target) <= LABEL_MAX:
        return target
    return None


def pills(
    formatted: str | None, *, limit: int = 50, leading: bool = False
) -> list[tuple[str, str]]:
    """(user id, label) of the user pills in a body, in order, at most `limit` of them.

    Pills inside the reply fallback are the quoted message's, not this one's. With
    `leading`, only a pill that opens the message counts (the bot being addressed).
    """
    found: list[tuple[str, str]] = []
    reply_depth = 0
    current: str | None = None
    label: list[str] = []
    kept = 0
    for token in tokens(formatted or ""):
        if isinstance(token, Tag):
            if token.name == "mx-reply":
                reply_depth = max(0, reply_depth + (-1 if token.end else 1))
                continue
            if token.name != "a" or reply_depth:
                if leading and current is None and not token.end and not reply_depth:
                    return found  # the message starts with something else
                continue
            if current is not None:
                found.append((current, _label(label)))
                if leading or len(found) >= limit:
                    return found
                current = None
            if not token.end:
                current = user_of(token.attrs.get("href", ""))
                label, kept = [], 0
                if leading and current is None:
                    return found
        elif current is not None:
            if kept < LABEL_MAX * 4:
                label.append(token[: LABEL_MAX * 4 - kept])
                kept += len(label[-1])
        elif leading and not reply_depth and token.strip():
            return found
    return found  # a pill the input ends inside is left, as the unclosed `<a>` it is


def _label(parts: list[str]) -> str:
    return html.unescape("".join(parts)[: LABEL_MAX * 4]).strip()[:LABEL_MAX]


def leading_pill(formatted: str | None) -> tuple[str, str] | None:
    """The pill the message starts with (after any reply fallback), if it starts with one."""
    found = pills(formatted, leading=True)
    return found[0] if found else None
