"""Forum topics as AG places: the bot creates a topic in a forum supergroup
(`createForumTopic`, which needs the admin right "Manage Topics") and hands it back as a
chat of its own ("<chat id>/<thread id>"), which the AG is then linked to.

The group's title is remembered from the messages that arrive, so that a topic made from
inside another topic is still called "<group> / <topic>".
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from telegram import Chat, ForumTopic, Message
from telegram.error import BadRequest

from bot.admission import ChatRight, MissingRight, NoDoors
from bot.core import ChatRef, Unsupported
from bot.i18n import N_
from bot.logs import pseudonym
from bot.transports.telegram.convert import PLATFORM, address, topic_id
from bot.transports.telegram.retry import SEND_RETRY_DELAYS, retried

if TYPE_CHECKING:
    from bot.transports.telegram.send import TelegramApp

log = logging.getLogger(__name__)

TOPIC_NAME_LIMIT = 128  # createForumTopic: 1-128 characters
_TITLES_KEPT = 1024
# What Telegram answers createForumTopic where the bot lacks "Manage Topics", and where
# the group has no topics (an ordinary supergroup, a basic group).
_NO_RIGHT = ("not enough rights",)
_NO_FORUM = ("not a forum", "supergroup chats only")

TOPICS_HINT = N_(
    "In Telegram: Gruppeninfo → Bearbeiten → Administratoren → den Bot wählen → "
    "„Themen verwalten“ einschalten."
)


class TelegramTopics(NoDoors):
    """`Doors.create_topic` (and the hint for its right) for the Telegram transport."""

    if TYPE_CHECKING:

        @property
        def application(self) -> TelegramApp: ...

    def __init__(self) -> None:
        super().__init__()
        self._group_titles: OrderedDict[str, str] = OrderedDict()

    def remember_group(self, message: Message) -> None:
        """Keep the title of a group the bot heard from (for the names of new topics)."""
        chat = message.chat
        if chat.type == Chat.PRIVATE or not chat.title:
            return
        key = str(chat.id)
        self._group_titles[key] = chat.title
        self._group_titles.move_to_end(key)
        while len(self._group_titles) > _TITLES_KEPT:
            self._group_titles.popitem(last=False)

    async def create_topic(self, chat: ChatRef, name: str) -> ChatRef:
        """A new topic in the forum group of `chat` (the group or one of its topics).
        Raises MissingRight without "Manage Topics", Unsupported where the group is no
        forum."""
        target, thread = address(chat.id)
        bot = self.application.bot
        shown = name[:TOPIC_NAME_LIMIT]

        async def make(where: int | str) -> ForumTopic:
            return await bot.create_forum_topic(chat_id=where, name=shown)

        try:
            topic = await retried(chat.id, make, target, SEND_RETRY_DELAYS)
        except BadRequest as exc:
            text = exc.message.lower()
            if any(marker in text for marker in _NO_RIGHT):
                raise MissingRight(ChatRight.MANAGE_TOPICS, chat) from None
            if any(marker in text for marker in _NO_FORUM):
                raise Unsupported("forum topics") from None
            raise
        made = topic.message_thread_id
        group = self._group_titles.get(str(target)) or (chat.title if thread is None else None)
        log.info("telegram: created a forum topic in chat %s", pseudonym(PLATFORM, str(target)))
        return ChatRef(
            PLATFORM, topic_id(target, made), title=f"{group} / {shown}" if group else shown
        )

    def right_hint(self, right: ChatRight) -> str:
        if right is ChatRight.MANAGE_TOPICS:
            return TOPICS_HINT
        return super().right_hint(right)
