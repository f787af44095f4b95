"""What the bot receives on Matrix, as the core sees it: a text event becomes an
`IncomingMessage` (the command without its `!` or mention of the bot, pills turned into
user ids, mentions from `m.mentions` and pills), rooms and users become refs."""

from __future__ import annotations

from typing import Any

import nio

from bot.core import ChatRef, IncomingMessage, UserRef
from bot.transports.matrix_text import (
    HTML_FORMAT,
    MX_REPLY,
    PLATFORM,
    localpart,
    parse_command,
    pills,
    pills_to_ids,
)


def incoming(
    room: nio.MatrixRoom, event: nio.RoomMessageText, bot_id: str
) -> IncomingMessage | None:
    """The command in a text event, or None if it holds none for this bot (or is an edit:
    running an edited command would run it twice)."""
    content = event.source.get("content") or {}
    relates = content.get("m.relates_to") or {}
    if relates.get("rel_type") == "m.replace":
        return None
    formatted = event.formatted_body if event.format == HTML_FORMAT else None
    text = parse_command(
        event.body or "",
        formatted,
        is_reply="m.in_reply_to" in relates,
        bot_id=bot_id,
        bot_names=_names_of(room, bot_id),
    )
    if text is None:
        return None
    if "m.in_reply_to" in relates and formatted:
        formatted = MX_REPLY.sub("", formatted)
    text = pills_to_ids(text, pills(formatted), bot_id)
    return IncomingMessage(
        chat=chat_ref(room),
        sender=member(room, event.sender),
        text=text,
        message_id=event.event_id,
        mentions=_mentions(room, content, formatted),
    )


def chat_ref(room: nio.MatrixRoom, *, is_direct: bool = False) -> ChatRef:
    """The room as a ref. Whether it is a private chat is the transport's judgement
    (matrix_private: a head count is not enough); unjudged, a room is a group."""
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
    room: nio.MatrixRoom, content: dict[str, Any], formatted: str | None
) -> tuple[UserRef, ...]:
    labels: dict[str, str | None] = {}
    declared = (content.get("m.mentions") or {}).get("user_ids") or []
    for user_id in declared if isinstance(declared, list) else []:
        if isinstance(user_id, str) and user_id.startswith("@"):
            labels.setdefault(user_id, None)
    for user_id, label in pills(formatted):
        if not labels.get(user_id):
            labels[user_id] = label or None
    return tuple(member(room, uid, label) for uid, label in labels.items())
