"""The seam for getting people into an AG's chats and out again, creating an AG's place
(a Telegram forum topic, a Matrix room in the alliance's Space), and the rights the bot
needs for that. Nothing here knows Telegram or Matrix.

A transport that can do these things implements `Doors`; the others get `NoDoors`' answers
(`Unsupported`). Handlers reach them through `doors(transport)`, never by platform name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.core import ChatRef, Transport, Unsupported, UserRef
from bot.rich import AccountRef


class ChatRight(enum.StrEnum):
    """A right the bot needs in a chat for one of the actions below."""

    INVITE = "invite"  # invite people / make invite links and approve join requests
    REMOVE = "remove"  # remove people from the chat (an AG whose /leave removes)
    MANAGE_TOPICS = "manage_topics"  # create forum topics (Telegram)
    SPACE_CHILD = "space_child"  # add rooms to the alliance's Space (Matrix)


class MissingRight(Exception):
    """The bot lacks `right` in `chat`; nothing was changed there."""

    def __init__(self, right: ChatRight, chat: ChatRef) -> None:
        super().__init__(f"missing right {right.value} in {chat.key}")
        self.right = right
        self.chat = chat


class WayKind(enum.StrEnum):
    INVITED = "invited"  # the account was invited (Matrix): it only has to accept
    LINK = "link"  # a link that asks to join (Telegram join request); approved for members
    ALREADY = "already"  # the account is in the chat already
    OPEN = "open"  # the chat lets the account in by itself (a Space member, a public room)


@dataclass(frozen=True)
class Way:
    """How one account gets into one chat."""

    chat: ChatRef
    kind: WayKind
    link: str | None = None  # for LINK (and OPEN, where the network has a link to the chat)


@dataclass(frozen=True)
class JoinAsked:
    """Someone asked to join a chat through an invite link that creates join requests
    (Telegram `chat_join_request`); the bot or the chat's admins answer it."""

    chat: ChatRef
    user: UserRef


@runtime_checkable
class Doors(Protocol):
    """What a network offers for letting people in and out and for making AG places.
    Every method raises `MissingRight` when the bot lacks the right (nothing changed) and
    `Unsupported` where the network has no such thing."""

    async def let_in(self, chat: ChatRef, account: AccountRef, *, link: str | None) -> Way:
        """Open the way into `chat` for `account`: invite it, or give a link that creates a
        join request. `link` is the link made for this chat before (kept by the caller),
        reused where still valid; a new one is returned in the `Way`."""

    async def answer_join_request(self, request: JoinAsked, approve: bool) -> None:
        """Approve or decline a join request."""

    async def remove_member(self, chat: ChatRef, account: AccountRef) -> bool:
        """Remove the account from the chat (it may come back by invitation or link);
        False if it was not in the chat."""

    async def create_topic(self, chat: ChatRef, name: str) -> ChatRef:
        """Create a forum topic in a forum group; returns the topic as a chat."""

    async def create_room(self, name: str, topic: str, *, space: str | None) -> ChatRef:
        """Create a room (encrypted) for an AG, as a child of `space` where given, joinable
        by the Space's members where the server allows restricted joins."""

    def right_hint(self, right: ChatRight) -> str:
        """How to give the bot `right` on this network, as a German source text for the
        translations (marked with N_ by the transport; the caller translates it)."""


class NoDoors:
    """The answers of a network without doors (the console)."""

    async def let_in(self, chat: ChatRef, account: AccountRef, *, link: str | None) -> Way:
        raise Unsupported("invitations")

    async def answer_join_request(self, request: JoinAsked, approve: bool) -> None:
        raise Unsupported("join requests")

    async def remove_member(self, chat: ChatRef, account: AccountRef) -> bool:
        raise Unsupported("removing members")

    async def create_topic(self, chat: ChatRef, name: str) -> ChatRef:
        raise Unsupported("forum topics")

    async def create_room(self, name: str, topic: str, *, space: str | None) -> ChatRef:
        raise Unsupported("rooms")

    def right_hint(self, right: ChatRight) -> str:
        return ""


_NONE = NoDoors()


def doors(transport: Transport) -> Doors:
    """The transport's doors, or `NoDoors`' answers where it has none."""
    return transport if isinstance(transport, Doors) else _NONE
