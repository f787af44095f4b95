"""Who and where, as every network names them: chats, senders, incoming messages and
where a sent message landed. Part of the seam (bot/core.py), kept apart so the seam
stays readable."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.rich import AccountRef
from storage.text import visible

_SURROGATE = re.compile("[\ud800-\udfff]")

# Characters of a command the bot reads: Telegram's own message limit, so a command that
# works on one network works on all, and far more than any command needs (a poll with 12
# answers is under 2,000). Transports look at no more of a message than this before they
# know it is a command; longer commands are refused with a short answer, never cut and run.
MAX_COMMAND = 4096
MAX_MENTIONS = 50  # mentions of people taken from one message


def well_formed(text: str) -> str:
    """Text as valid Unicode. JSON may carry surrogates: a pair becomes its character, a
    lone one (a broken client) becomes U+FFFD, which every database and network accepts."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _clean(value: str | None) -> str | None:
    return None if value is None else well_formed(value)


@dataclass(frozen=True)
class ChatRef:
    """A chat on one network: a group/room or a private chat with the bot."""

    platform: str
    id: str
    is_direct: bool = False
    title: str | None = None
    # The language set for this chat in the database, where the chat was read from there
    # (the outbox writes to the chat in it); not part of the chat's identity.
    language: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        title = _clean(self.title)
        object.__setattr__(self, "title", None if title is None else visible(title))

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.id}"


@dataclass(frozen=True)
class UserRef:
    """The sender of a message, as the network names them.

    `anonymous` marks a sender that stands for a whole chat (a Telegram group admin
    posting as the group, or a channel): no person can be attached to it.
    """

    platform: str
    id: str
    display_name: str
    username: str | None = None
    language_hint: str | None = None
    anonymous: bool = False

    def __post_init__(self) -> None:
        # Shown in replies and stored: without control and format characters (a name
        # with a right-to-left override would read backwards), never empty.
        name = visible(well_formed(self.display_name))
        object.__setattr__(self, "username", _clean(self.username))
        object.__setattr__(self, "display_name", name or self.username or self.id)

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.id}"

    def as_account(self) -> AccountRef:
        return AccountRef(self.platform, self.id, self.display_name, self.username)


@dataclass(frozen=True)
class IncomingMessage:
    """A text message addressed to the bot, already stripped of network specifics.

    `text` starts with the command word without its prefix (`join ag2`), the transport
    having recognised the prefix (`/`, `!`) and any `@botname` suffix. `too_long` says
    the message was longer than `MAX_COMMAND` and was not read further than its start.
    """

    chat: ChatRef
    sender: UserRef
    text: str
    message_id: str | None = None
    mentions: tuple[UserRef, ...] = ()
    too_long: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", well_formed(self.text))

    @property
    def is_direct(self) -> bool:
        return self.chat.is_direct


@dataclass(frozen=True)
class SentRef:
    chat: ChatRef
    message_id: str | None
