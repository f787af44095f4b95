"""Shortening a question, title or typed word for a reply: the one place that decides how.

A cut text ends in "…" and never stops inside a word: "Haben Sie Interesse, sich in einem
Bündnis …" rather than "… für Mitteldeu". Only a single word longer than the whole limit
is cut inside itself, as there is nothing else to do with it.
"""

from __future__ import annotations

ELLIPSIS = "…"
_TRAILING = " ,;:–-"  # left at the cut, they would read as if the text went on there


def cut(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else its words up to `limit - 1`
    characters and "…" (together at most `limit`)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    room = max(limit - 1, 1)
    head = text[:room]
    if not text[room].isspace():
        blank = max(head.rfind(" "), head.rfind("\n"))
        if blank > 0:
            head = head[:blank]
    head = head.rstrip(_TRAILING)
    return (head or text[:room]) + ELLIPSIS
