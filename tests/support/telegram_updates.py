"""Builders for the updates the Telegram Bot API sends (messages, service messages, polls,
poll answers, button presses), keeping to the documented field names and required fields
(Message: message_id, date, chat; User: id, is_bot, first_name; Chat: id, type; entities
in UTF-16 code units). The fake API that answers the bot is telegram_api.py.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

Json = dict[str, Any]

ANONYMOUS_ADMIN_BOT: Json = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


# Placed into `PollAnswer.user` when the voter is a chat, for clients that predate
# `voter_chat` (Bot API: "the user 136817688 (@Channel_Bot)").
CHANNEL_BOT: Json = {
    "id": 136817688,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}


_update_ids = itertools.count(10_000)
message_ids = itertools.count(1)
_poll_ids = itertools.count(5_368_700_929_434_108_001)
_query_ids = itertools.count(1)


# --- payload builders ------------------------------------------------------------------


def user(
    user_id: int,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "de",
    is_bot: bool = False,
) -> Json:
    found: Json = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name is not None:
        found["last_name"] = last_name
    if username is not None:
        found["username"] = username
    if language_code is not None:
        found["language_code"] = language_code
    return found


def private_chat(person: Json) -> Json:
    chat: Json = {"id": person["id"], "type": "private", "first_name": person["first_name"]}
    for key in ("last_name", "username"):
        if key in person:
            chat[key] = person[key]
    return chat


def group(chat_id: int, title: str) -> Json:
    """A basic group: negative id of up to 13 digits."""
    return {"id": chat_id, "type": "group", "title": title}


def supergroup(chat_id: int, title: str) -> Json:
    """A supergroup: id -100…"""
    return {"id": chat_id, "type": "supergroup", "title": title}


def forum(chat_id: int, title: str) -> Json:
    """A supergroup with topics turned on."""
    return {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}


TOPIC_ICON = 7322096  # one of the six colours Telegram allows for topic icons


def topic_created(chat: Json, thread: int, name: str) -> Json:
    """The service message that opened a topic; its id is the topic's thread id."""
    return {
        "message_id": thread,
        "date": int(time.time()) - 3600,
        "chat": chat,
        "message_thread_id": thread,
        "is_topic_message": True,
        "forum_topic_created": {"name": name, "icon_color": TOPIC_ICON},
    }


def topic_message(
    chat: Json, sender: Json | None, text: str, thread: int, name: str | None, **fields: Any
) -> Json:
    """A message in a forum topic, as clients send it: with the thread id, marked as a
    topic message, and (unless it replies to another message, `name` None) replying to
    the topic's first message, which names the topic."""
    extra: Json = {"message_thread_id": thread, "is_topic_message": True}
    if name is not None:
        extra["reply_to_message"] = topic_created(chat, thread, name)
    return message(chat, sender, text, **extra, **fields)


def utf16_len(value: str) -> int:
    """Telegram counts entity offsets and lengths in UTF-16 code units."""
    return len(value.encode("utf-16-le")) // 2


def text_mention(text: str, shown: str, person: Json) -> Json:
    """An entity for a person without a username, as clients create it."""
    start = text.index(shown)
    return {
        "type": "text_mention",
        "offset": utf16_len(text[:start]),
        "length": utf16_len(shown),
        "user": person,
    }


def message(chat: Json, sender: Json | None, text: str, **fields: Any) -> Json:
    """A text message; a leading `/word` gets its bot_command entity, as Telegram does."""
    payload: Json = {
        "message_id": next(message_ids),
        "date": int(time.time()),
        "chat": chat,
        "text": text,
    }
    if sender is not None:
        payload["from"] = sender
    entities: list[Json] = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])})
    entities.extend(fields.pop("entities", []))
    if entities:
        payload["entities"] = entities
    payload.update(fields)
    return payload


def service_message(chat: Json, sender: Json, **fields: Any) -> Json:
    """A service message (no text), e.g. `migrate_to_chat_id`."""
    return {
        "message_id": next(message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": sender,
        **fields,
    }


def poll_object(
    question: str,
    options: list[str],
    *,
    anonymous: bool = True,
    multi: bool = False,
    allows_revoting: bool = True,
    closed: bool = False,
) -> Json:
    """A regular Poll as Telegram describes it (Bot API 9.6/10), nobody having voted."""
    poll_id = str(next(_poll_ids))
    return {
        "id": poll_id,
        "question": question,
        "options": [
            # persistent_id: opaque to bots; it survives options being added or removed.
            {"text": text, "voter_count": 0, "persistent_id": f"{poll_id[-6:]}{index:02d}"}
            for index, text in enumerate(options)
        ],
        "total_voter_count": 0,
        "is_closed": closed,
        "is_anonymous": anonymous,
        "type": "regular",
        "allows_multiple_answers": multi,
        "allows_revoting": allows_revoting,
        "members_only": False,
    }


def poll_answer(
    poll: Json, voter: Json | None, option_ids: list[int], *, voter_chat: Json | None = None
) -> Json:
    """A PollAnswer: the voter's whole current choice ([] = retracted). A chat voting
    (an anonymous admin) comes as `voter_chat`, with `user` set to @Channel_Bot."""
    answer: Json = {
        "poll_id": poll["id"],
        "option_ids": list(option_ids),
        "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in option_ids],
    }
    if voter_chat is not None:
        answer["voter_chat"] = voter_chat
        answer["user"] = CHANNEL_BOT
    elif voter is not None:
        answer["user"] = voter
    return answer


def callback_query(message: Json, presser: Json, data: str) -> Json:
    """A press of an inline button under one of the bot's messages."""
    return {
        "id": f"{presser['id']}{next(_query_ids):06d}",
        "from": presser,
        "message": message,
        "chat_instance": f"-{abs(message['chat']['id']) * 7919}",
        "data": data,
    }


def update(payload: Json, kind: str = "message") -> Json:
    """Wrap a payload into an Update of that kind: `message`, `edited_message` (then the
    message gets its `edit_date`), `poll`, `poll_answer` or `callback_query`."""
    if kind == "edited_message":
        payload = {**payload, "edit_date": int(time.time())}
    return {"update_id": next(_update_ids), kind: payload}
