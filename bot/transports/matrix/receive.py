"""What the bot receives on Matrix, as the core sees it: a text event becomes an
`IncomingMessage` (the command without its `!` or mention of the bot, pills turned into
user ids, mentions from `m.mentions` and pills), rooms and users become refs.

Every text message in every room passes through here, in nio's callback, before any rate
limit: so the plain body is read only up to `MAX_COMMAND` characters (and the HTML up to
`FORMATTED_MAX`) until it is known to be a command, and nothing is parsed with a
backtracking regex. Pills are looked for only in commands.
"""

from __future__ import annotations

from typing import Any

import nio

from bot.core import MAX_COMMAND, MAX_MENTIONS, ChatRef, IncomingMessage, UserRef
from bot.transports.matrix.text import (
    HTML_FORMAT,
    PLATFORM,
    localpart,
    parse_command,
    pills,
    pills_to_ids,
    strip_reply_fallback,
)

FORMATTED_MAX = 4 * MAX_COMMAND  # HTML is longer than its text (a pill is ~60 characters)


def incoming(
    room: nio.MatrixRoom, event: nio.RoomMessageText, bot_id: str
) -> IncomingMessage | None:
    """The command in a text event, or None if it holds none for this bot (or is an edit:
    running an edited command would run it twice)."""
    content = event.source.get("content")
    content = content if isinstance(content, dict) else {}
    relates = content.get("m.relates_to")
    relates = relates if isinstance(relates, dict) else {}
    if relates.get("rel_type") == "m.replace":
        return None
    body = event.body if isinstance(event.body, str) else ""
    if "m.in_reply_to" in relates:
        body = strip_reply_fallback(body)  # one pass over the lines
    formatted = event.formatted_body if event.format == HTML_FORMAT else None
    if not isinstance(formatted, str):
        formatted = None
    head = formatted[:FORMATTED_MAX] if formatted else None
    text = parse_command(body[:MAX_COMMAND], head, bot_id=bot_id, bot_names=_names_of(room, bot_id))
    if text is None:
        return None
    if len(body) > MAX_COMMAND:
        # The dispatcher answers that it is too long; nothing more of it is read.
        return IncomingMessage(
            chat=chat_ref(room),
            sender=member(room, event.sender),
            text=text,
            message_id=event.event_id,
            too_long=True,
        )
    found = pills(head, limit=MAX_MENTIONS)
    return IncomingMessage(
        chat=chat_ref(room),
        sender=member(room, event.sender),
        text=pills_to_ids(text, found, bot_id),
        message_id=event.event_id,
        mentions=_mentions(room, content, found),
    )


def chat_ref(room: nio.MatrixRoom, *, is_direct: bool = False) -> ChatRef:
    """The room as a ref. Whether it is a private chat is the transport's judgement
    (private.py: a head count is not enough); unjudged, a room is a group."""
    return ChatRef(PLATFORM, room.room_id, is_direct=is_direct, title=room.display_name)


def user_ref(room: nio.MatrixRoom | None, user_id: str) -> UserRef:
    if room is None:
        return UserRef(PLATFORM, user_id, display_name=localpart(user_id), username=user_id)
    return member(room, user_id)


def member(room: nio.MatrixRoom, user_id: str, label: str | None = None) -> UserRef:
    """A room member by the name the room shows, else the pill's label, else the localpart."""
    name = room.user_name(user_id) or label
    if not name or name == user_id:
        name = localpart(user_id)
    return UserRef(PLATFORM, user_id, display_name=name, username=user_id)


def _names_of(room: nio.MatrixRoom, user_id: str) -> list[str]:
    names = [localpart(user_id)]
    found = room.users.get(user_id)
    if found is not None and found.display_name:
        names.append(found.display_name)
    return names


def _mentions(
    room: nio.MatrixRoom, content: dict[str, Any], found: list[tuple[str, str]]
) -> tuple[UserRef, ...]:
    labels: dict[str, str | None] = {}
    declared = content.get("m.mentions")
    user_ids = declared.get("user_ids") if isinstance(declared, dict) else None
    for user_id in user_ids[:MAX_MENTIONS] if isinstance(user_ids, list) else []:
        if isinstance(user_id, str) and user_id.startswith("@") and len(user_id) <= 255:
            labels.setdefault(user_id, None)
    for user_id, label in found:
        if not labels.get(user_id):
            labels[user_id] = label or None
    items = list(labels.items())[:MAX_MENTIONS]
    return tuple(member(room, uid, label) for uid, label in items)
