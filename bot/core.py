"""The seam between the networks and the bot: what a transport delivers and offers.

Nothing here knows Telegram or Matrix; handlers see only these types.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.rich import AccountRef, Rich


@dataclass(frozen=True)
class ChatRef:
    """A chat on one network: a group/room or a private chat with the bot."""

    platform: str
    id: str
    is_direct: bool = False
    title: str | None = None

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

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.id}"

    def as_account(self) -> AccountRef:
        return AccountRef(self.platform, self.id, self.display_name, self.username)


@dataclass(frozen=True)
class IncomingMessage:
    """A text message addressed to the bot, already stripped of network specifics.

    `text` starts with the command word without its prefix (`join ag2`), the transport
    having recognised the prefix (`/`, `!`) and any `@botname` suffix.
    """

    chat: ChatRef
    sender: UserRef
    text: str
    message_id: str | None = None
    mentions: tuple[UserRef, ...] = ()

    @property
    def is_direct(self) -> bool:
        return self.chat.is_direct


@dataclass(frozen=True)
class SentRef:
    chat: ChatRef
    message_id: str | None


@dataclass(frozen=True)
class Capabilities:
    """What a network can show; handlers degrade by these flags, never by platform name."""

    html: bool = False
    mentions: bool = False
    native_polls: bool = False
    buttons: bool = False
    files: bool = False
    max_message_length: int = 4096


class DirectMessageUnavailable(Exception):
    """The person cannot be written to privately (e.g. never started the Telegram bot)."""

    def __init__(self, hint_url: str | None = None) -> None:
        super().__init__(hint_url or "no private chat possible")
        self.hint_url = hint_url


class Inbox(Protocol):
    """What a transport reports to the bot."""

    async def message(self, message: IncomingMessage) -> Awaitable[None] | None:
        """A command for the bot. Returns at once; the work runs as a task, which is
        returned so that a caller who needs order (the console) can await it."""

    async def chat_migrated(self, platform: str, old_id: str, new_id: str) -> None:
        """A chat got a new id (a Telegram group became a supergroup)."""

    async def direct_reachable(self, account: AccountRef, reachable: bool) -> None:
        """The person can (or no longer can) be written to privately."""


@runtime_checkable
class Transport(Protocol):
    platform: str
    capabilities: Capabilities

    async def start(self, inbox: Inbox) -> None:
        """Connect and begin delivering messages; return once receiving runs."""

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        """Send a message. `key` makes a retried send idempotent where the network allows."""

    async def send_direct(
        self, account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        """Write to a person privately; raises DirectMessageUnavailable if impossible."""

    async def stop(self) -> None:
        """Stop receiving, finish in-flight sends, disconnect."""
