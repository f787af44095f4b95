"""editMessageText as the Bot API answers it, for the fake Bot API (telegram_api.py): the
stored message changes; an edit to nothing new, or of a message that is not there, is a
400 with Telegram's own words."""

from __future__ import annotations

import html
import re
import time

from tests.support.telegram_updates import Json


def edited(messages: dict[tuple[int, int], Json], params: Json) -> tuple[int, Json]:
    key = (int(params["chat_id"]), int(params["message_id"]))
    stored = messages.get(key)
    if stored is None or "text" not in stored:
        return _bad("message to edit not found")
    shown = html.unescape(re.sub(r"<[^>]+>", "", params["text"]))
    markup = params.get("reply_markup")
    if stored["text"] == shown and stored.get("reply_markup") == markup:
        return _bad(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    stored["text"] = shown
    stored["edit_date"] = int(time.time())
    if markup is None:
        stored.pop("reply_markup", None)
    else:
        stored["reply_markup"] = markup
    return 200, {"ok": True, "result": stored}


def _bad(description: str) -> tuple[int, Json]:
    return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
