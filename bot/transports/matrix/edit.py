"""Changing a notice the bot sent: an `m.replace` event (Matrix's edits).

The new text rides in `m.new_content` (with its formatted body, as sends have it; with
the button data where the message has buttons), and a fallback `* text` for clients
without edits. The edit pings nobody anew (`m.mentions` empty outside). Reactions stay
on the original event, which is what people keep tapping. A room the bot left, or an
edit the homeserver refuses, is no error: it is dropped and logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.core import Button, SentRef
from bot.logs import pseudonym
from bot.rich import Rich
from bot.transports.matrix.media import BUTTONS_KEY, buttons_notice_content
from bot.transports.matrix.send import MatrixSendError
from bot.transports.matrix.text import PLATFORM, notice_content, transaction_id

log = logging.getLogger(__name__)

FALLBACK_MARK = "* "  # what clients without edits show before the new text


def replace_content(event_id: str, new: dict[str, Any]) -> dict[str, Any]:
    """The content of an edit of `event_id` to `new` (a full notice content)."""
    content = {key: value for key, value in new.items() if key != BUTTONS_KEY}
    content["body"] = FALLBACK_MARK + str(new.get("body", ""))
    if "formatted_body" in new:
        content["formatted_body"] = FALLBACK_MARK + str(new["formatted_body"])
    content["m.mentions"] = {}
    content["m.new_content"] = dict(new)
    content["m.relates_to"] = {"rel_type": "m.replace", "event_id": event_id}
    return content


class MatrixEdits:
    """`Transport.edit` for the Matrix transport (mixed into it)."""

    if TYPE_CHECKING:

        async def send_event(
            self, room_id: str, event_type: str, content: dict[str, Any], tx_id: str
        ) -> str: ...

    async def edit(
        self,
        sent: SentRef,
        message: Rich,
        buttons: tuple[Button, ...] = (),
    ) -> None:
        if sent.message_id is None:
            return  # the message never arrived there
        new = buttons_notice_content(message, buttons) if buttons else notice_content(message)
        content = replace_content(sent.message_id, new)
        try:
            await self.send_event(sent.chat.id, "m.room.message", content, transaction_id(None))
        except MatrixSendError as exc:
            log.warning(
                "matrix: edit in room %s dropped: %s", pseudonym(PLATFORM, sent.chat.id), exc
            )
