"""Polls and files as the Matrix tests send and expect them: a poll spec, a tiny real PNG,
a poll response as Element sends it."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from bot.core import PollSpec
from bot.rich import bold, text
from bot.transports.matrix.polls import POLL_RESPONSE

QUESTION = "Wann treffen wir uns?"
OPTIONS = ("Di 18 Uhr", "Mi 19 Uhr", "Do 17 Uhr")


def spec(
    *, multi: bool = False, anonymous: bool = False, options: tuple[str, ...] = OPTIONS
) -> PollSpec:
    fallback = bold(QUESTION) + text(
        "".join(f"\n{i}. {o}" for i, o in enumerate(options, 1)) + "\nAbstimmen: !vote 2"
    )
    return PollSpec("p7", QUESTION, options, fallback, multi=multi, anonymous=anonymous)


def png(width: int, height: int) -> bytes:
    """A real (tiny, grey) PNG: signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def response(start_id: str, answers: list[Any]) -> dict[str, Any]:
    """A poll response as Element sends it."""
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_id},
        POLL_RESPONSE: {"answers": answers},
    }
