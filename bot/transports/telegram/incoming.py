"""A Telegram command message as the core sees it: who sent it (a person, or a group or
channel someone writes as), what they typed after the command, whom they mentioned.

Only messages that start with a bot command for this bot count; a forwarded command is
not giving it, and `/start <payload>` (a t.me link) is just `start`.
"""

from __future__ import annotations

import itertools
import re

from telegram import Message, MessageEntity

from bot import stages
from bot.core import MAX_COMMAND, MAX_MENTIONS, IncomingMessage, UserRef
from bot.transports.telegram.convert import chat_as_sender, message_chat, user_ref

_DEEP_LINK = re.compile(r"^start\s+[A-Za-z0-9_-]{1,64}$", re.IGNORECASE)


def to_incoming(message: Message, own_username: str) -> IncomingMessage | None:
    """A command message as the core sees it, or None if it is not for this bot
    (`own_username`: the bot's, empty before getMe)."""
    stages.mark("received", str(message.message_id))
    if message.text is None or not message.entities:
        return None
    if message.is_automatic_forward or message.forward_origin is not None:
        return None  # forwarding someone's command is not giving it
    entity = message.entities[0]
    if entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return None
    command_text = message.parse_entity(entity)
    word, _, target = command_text[1:].partition("@")
    own = own_username.lower()
    if target and target.lower() != own:
        return None  # `/join@OtherBot` is for another bot
    sender = _sender(message)
    if sender is None:
        return None
    chat = message_chat(message)
    if len(message.text) > MAX_COMMAND:
        # Telegram sends at most 4096 characters; a longer update is forged or from a
        # future API. The dispatcher answers that it is too long.
        return IncomingMessage(chat, sender, word, str(message.message_id), too_long=True)
    text = word + message.text[len(command_text) :]
    if chat.is_direct and _DEEP_LINK.match(text):
        text = "start"  # a t.me/<bot>?start=... link: greet, whatever the payload
    return IncomingMessage(
        chat=chat,
        sender=sender,
        text=text.strip(),
        message_id=str(message.message_id),
        mentions=_mentions(message),
    )


def _sender(message: Message) -> UserRef | None:
    """The person behind a message; a group or channel when someone writes as one.

    Checked before `is_bot`: Telegram fills `from` of such messages with a service
    bot (GroupAnonymousBot, Channel_Bot).
    """
    if message.sender_chat is not None:
        return chat_as_sender(message.sender_chat)
    user = message.from_user
    if user is None or user.is_bot:
        return None
    return user_ref(user)


def _mentions(message: Message) -> tuple[UserRef, ...]:
    """People mentioned without a username (`text_mention`), whose id Telegram gives.

    `@username` mentions stay in the text; the core resolves usernames it knows.
    """
    found = (
        user_ref(entity.user)
        for entity in message.entities
        if entity.type == MessageEntity.TEXT_MENTION
        and entity.user is not None
        and not entity.user.is_bot
    )
    return tuple(itertools.islice(found, MAX_MENTIONS))
