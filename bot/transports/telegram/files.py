"""Files to Telegram: PNG images as pictures (`sendPhoto`), everything else, and a
picture Telegram refuses as one, as a document (`sendDocument`, up to 50 MB); into a
forum topic where `thread` is given."""

from __future__ import annotations

import logging

from telegram import InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ExtBot

from bot.transports.telegram.convert import chat_gone

log = logging.getLogger(__name__)

# Shown as a picture; everything else (CSV, calendar files, ...) as a document.
PICTURE_TYPES = frozenset({"image/png"})


async def upload(
    bot: ExtBot[int],
    target: int | str,
    thread: int | None,
    filename: str,
    data: bytes,
    mime: str,
    caption: str | None,
) -> Message:
    if mime in PICTURE_TYPES:
        try:
            return await bot.send_photo(
                chat_id=target,
                message_thread_id=thread,
                photo=input_file(data, filename, mime),
                caption=caption,
                parse_mode=ParseMode.HTML,
            )
        except BadRequest as exc:
            if chat_gone(exc):
                raise
            # Too large or oddly shaped for a picture; a document takes up to 50 MB.
            log.info("telegram: picture refused (%s); sending it as a file", exc.message)
    return await bot.send_document(
        chat_id=target,
        message_thread_id=thread,
        document=input_file(data, filename, mime),
        caption=caption,
        parse_mode=ParseMode.HTML,
    )


def input_file(data: bytes, filename: str, mime: str) -> InputFile:
    upload = InputFile(data, filename=filename)
    upload.mimetype = mime  # the caller knows better than a guess from the file name
    return upload
