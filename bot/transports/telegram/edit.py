"""Changing a message the bot sent (`editMessageText`), with its inline keyboard: the
Terminumfrage summary is kept current this way.

An edit goes through the same path as a send: the rate limiter (edits count against a
group's flood limit like messages), the retries of transient failures, and a group that
became a supergroup. An edit that changes nothing ("message is not modified"), or whose
message was deleted, is no error: it is dropped and logged at DEBUG. In a forum topic
the message is addressed by its group and id alone (edits take no thread).
"""

from __future__ import annotations

import logging

from telegram import LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.core import Button, SentRef
from bot.logs import pseudonym
from bot.rich import Rich, render_html
from bot.transports.telegram.convert import PLATFORM, edit_moot, inline_keyboard
from bot.transports.telegram.send import TelegramSender, mention_html

log = logging.getLogger(__name__)


class TelegramEdits(TelegramSender):
    """`Transport.edit` for Telegram, on top of the sending half."""

    async def edit(
        self,
        sent: SentRef,
        message: Rich,
        buttons: tuple[Button, ...] = (),
    ) -> None:
        """Replace the text (and the keyboard: without `buttons` it goes away)."""
        if sent.message_id is None:
            return  # the message never arrived there
        markup = inline_keyboard(buttons) if buttons else None
        text = render_html(message, mention_html)
        message_id = int(sent.message_id)
        bot = self.application.bot

        async def change(target: int | str) -> Message | bool:
            return await bot.edit_message_text(
                chat_id=target,
                message_id=message_id,
                text=text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=markup,
            )

        try:
            await self._reach(sent.chat, change)
        except (Forbidden, BadRequest) as exc:
            if isinstance(exc, BadRequest) and edit_moot(exc):
                log.debug(
                    "telegram: edit in chat %s dropped: %s",
                    pseudonym(PLATFORM, sent.chat.id),
                    exc.message,
                )
                return
            if not await self._unwritable(sent.chat, exc, "edit"):
                raise
