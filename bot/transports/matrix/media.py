"""Files and reaction "buttons" on Matrix: event contents, PNG size, emoji matching.

Pure functions, tested without a homeserver.

Matrix has no buttons. A message with buttons becomes a notice whose choices the bot
reacts to itself, so people tap a reaction; the button data rides along in the notice's
own content (`BUTTONS_KEY`), so a reaction can be understood after a restart without any
database: the transport reads the bot's original event back.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.core import Button
from bot.rich import Rich, text
from bot.transports.matrix.text import notice_content

BUTTONS_KEY = "de.buendnisbot.buttons"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Variation selectors: Element sends "👍️" (with U+FE0F) where a keyboard may send "👍".
_VARIATION = dict.fromkeys(map(ord, "\ufe0e\ufe0f"))


@dataclass(frozen=True)
class ReactionButton:
    """One button as stored in the notice: the emoji to react with and the data it stands for."""

    emoji: str
    data: str


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk (clients size the image before loading it)."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return (int(width), int(height)) if width and height else None


def file_content(
    filename: str,
    mime: str,
    size: int,
    *,
    url: str | None = None,
    encrypted_file: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An `m.image` (for image/*) or `m.file`: `url` in plain rooms, `file` in encrypted ones."""
    info: dict[str, Any] = {"mimetype": mime, "size": size}
    content: dict[str, Any] = {
        "msgtype": "m.image" if mime.startswith("image/") else "m.file",
        "body": filename,
        "filename": filename,
        "info": info,
    }
    if encrypted_file is not None:
        content["file"] = encrypted_file
    elif url is not None:
        content["url"] = url
    else:
        raise ValueError("a file event needs a url or an encrypted file")
    return content


def encrypted_file(url: str, keys: dict[str, Any], mime: str) -> dict[str, Any]:
    """The spec's EncryptedFile from nio's decryption keys (key, iv, hashes, v)."""
    return {
        "url": url,
        "key": keys["key"],
        "iv": keys["iv"],
        "hashes": keys["hashes"],
        "v": keys.get("v", "v2"),
        "mimetype": mime,
    }


def reaction_buttons(buttons: Iterable[Button]) -> list[ReactionButton]:
    """The buttons that can be offered as reactions (those with an emoji), emoji unique."""
    seen: set[str] = set()
    offered: list[ReactionButton] = []
    for button in buttons:
        if not button.emoji or same_emoji_key(button.emoji) in seen:
            continue
        seen.add(same_emoji_key(button.emoji))
        offered.append(ReactionButton(button.emoji, button.data))
    return offered


def buttons_notice_content(message: Rich, buttons: tuple[Button, ...]) -> dict[str, Any]:
    """The notice under which the bot reacts: the caller's text, a legend line of the
    emoji and their labels (no words of our own: the caller has the language; a button
    labelled with its emoji alone needs none), and the button data for reading back
    after a restart."""
    legend = " · ".join(
        f"{b.emoji} {b.label.removeprefix(b.emoji).strip()}"
        for b in buttons
        if b.emoji and b.label.removeprefix(b.emoji).strip()
    )
    content = notice_content(message + text("\n" + legend) if legend else message)
    content[BUTTONS_KEY] = [{"emoji": b.emoji, "data": b.data} for b in reaction_buttons(buttons)]
    return content


def buttons_in(content: dict[str, Any]) -> list[ReactionButton]:
    """The buttons a notice of ours carries ([] for any other event)."""
    raw = content.get(BUTTONS_KEY)
    if not isinstance(raw, list):
        return []
    return [
        ReactionButton(item["emoji"], item["data"])
        for item in raw
        if isinstance(item, dict)
        and isinstance(item.get("emoji"), str)
        and isinstance(item.get("data"), str)
    ]


def same_emoji_key(emoji: str) -> str:
    """Emoji compared without variation selectors."""
    return emoji.translate(_VARIATION).strip()


def button_for(buttons: Iterable[ReactionButton], key: str) -> ReactionButton | None:
    wanted = same_emoji_key(key)
    return next((b for b in buttons if same_emoji_key(b.emoji) == wanted), None)


def reaction_content(event_id: str, emoji: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": emoji}}
