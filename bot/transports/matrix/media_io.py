"""Files and reaction buttons for the Matrix transport (the event contents are built in
media.py).

Why it looks the way it does:
- Files go to the content repository first; in encrypted rooms the attachment itself is
  encrypted and the event carries the keys (`file` instead of `url`).
- Matrix has no buttons: the bot reacts under its own notice with each button's emoji and
  takes a person's reaction with one of them as the press. The button data is part of the
  notice, so after a restart the bot reads its own event back instead of needing a table.
- Toasts (a handler's short answer to a press) are dropped: a notice per tap would flood
  the room. Taking a reaction back (redacting it) is not a press of anything.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import nio

from bot.core import Button, ButtonPress, ChatRef, SentRef
from bot.rich import Rich
from bot.transports.matrix.events import LRU, EventReader, Serial, sub_key, type_and_content
from bot.transports.matrix.media import (
    ReactionButton,
    button_for,
    buttons_in,
    buttons_notice_content,
    encrypted_file,
    file_content,
    png_size,
    reaction_content,
)
from bot.transports.matrix.text import notice_content

if TYPE_CHECKING:
    from bot.transports.matrix.host import MatrixHost

log = logging.getLogger(__name__)


class MatrixMedia:
    def __init__(self, transport: MatrixHost) -> None:
        self.t = transport
        self._reader = EventReader(transport)
        self._serial = Serial(transport.spawn)
        self._buttons: LRU[str, list[ReactionButton]] = LRU()

    async def send_file(
        self,
        chat: ChatRef,
        filename: str,
        data: bytes,
        mime: str,
        caption: Rich | None = None,
        *,
        key: str | None = None,
    ) -> SentRef:
        """Upload, then an m.image/m.file; the caption follows as its own notice, which
        every client shows (a caption in `body` reads as a file name in older clients)."""
        room = self.t.client.rooms.get(chat.id)
        encrypt = bool(room is not None and room.encrypted)
        keys: dict[str, Any] = {}

        async def upload() -> Any:
            resp, decryption = await self.t.client.upload(
                lambda _limited, _timeouts: data,
                content_type=mime,
                filename=filename,
                encrypt=encrypt,
                filesize=len(data),
            )
            keys.clear()
            keys.update(decryption or {})
            return resp

        async with self.t.busy():
            uploaded = await self.t.retrying(upload, nio.UploadResponse, "upload")
        url = str(uploaded.content_uri)
        content = file_content(
            filename,
            mime,
            len(data),
            url=None if encrypt else url,
            encrypted_file=encrypted_file(url, keys, mime) if encrypt else None,
        )
        if mime == "image/png" and (size := png_size(data)) is not None:
            content["info"]["w"], content["info"]["h"] = size
        event_id = await self.t.send_event(chat.id, "m.room.message", content, sub_key("file", key))
        if caption:
            await self.t.send_event(
                chat.id, "m.room.message", notice_content(caption), sub_key("caption", key)
            )
        return SentRef(chat, event_id)

    async def send_with_buttons(
        self,
        chat: ChatRef,
        message: Rich,
        buttons: tuple[Button, ...],
        *,
        key: str | None = None,
    ) -> SentRef:
        """The notice, then the bot's own reaction with each button's emoji to tap on."""
        content = buttons_notice_content(message, buttons)
        event_id = await self.t.send_event(
            chat.id, "m.room.message", content, sub_key("buttons", key)
        )
        offered = buttons_in(content)
        self._buttons.put(event_id, offered)
        for index, button in enumerate(offered):
            await self.t.send_event(
                chat.id,
                "m.reaction",
                reaction_content(event_id, button.emoji),
                sub_key(f"reaction-{index}", key),
                done=_duplicate_annotation,
            )
        return SentRef(chat, event_id)

    def on_reaction(self, room: nio.MatrixRoom, event: nio.ReactionEvent) -> None:
        """A live reaction by someone else; queued per message, so a person's taps keep
        their order."""
        target = str(event.reacts_to)
        self._serial.run(target, lambda: self._take(room, event), "reaction")

    async def _take(self, room: nio.MatrixRoom, event: nio.ReactionEvent) -> None:
        buttons = await self._buttons_of(room.room_id, str(event.reacts_to))
        button = button_for(buttons, str(event.key))
        inbox = self.t.inbox
        if button is None or inbox is None:
            return
        press = ButtonPress(
            self.t.chat_ref(room),
            self.t.user_ref(room, str(event.sender)),
            button.data,
            press_id=str(event.event_id),
        )
        log.debug("matrix: reaction %s pressed a button", event.event_id)
        # Not awaited: the handler may be slow; the Inbox keeps one presser's order.
        self.t.spawn(inbox.button_pressed(press), "button")

    async def _buttons_of(self, room_id: str, event_id: str) -> list[ReactionButton]:
        cached = self._buttons.get(event_id)
        if cached is not None:
            return cached
        event = await self._reader.read(room_id, event_id)
        if event is None:
            return []  # not cached: the next reaction asks again
        ours = event.sender == self.t.user_id
        found = buttons_in(type_and_content(event)[1]) if ours else []
        self._buttons.put(event_id, found)
        return found


def _duplicate_annotation(resp: Any) -> bool:
    """Synapse may refuse the same reaction twice; for a retried send that is success."""
    return getattr(resp, "status_code", None) == "M_DUPLICATE_ANNOTATION"
