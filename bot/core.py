"""The seam between the networks and the bot: what a transport delivers and offers.

Nothing here knows Telegram or Matrix; handlers see only these types.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.rich import AccountRef, Rich
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


@dataclass(frozen=True)
class Capabilities:
    """What a network can show and needs; handlers (and the dispatcher's rate limit) go by
    these flags, never by platform name."""

    html: bool = False
    mentions: bool = False
    native_polls: bool = False
    # Native polls that hide who voted from everyone, the bot included (Telegram's
    # anonymous polls). Where missing, anonymous polls are posted as text and answered
    # privately with the vote command: a native poll would show each vote to the room.
    anonymous_polls: bool = False
    buttons: bool = False
    files: bool = False
    max_message_length: int = 4096
    # The per-person command rate limit (spam protection, `Dispatcher.message`) applies.
    # Chats with other people need it; the console is one person's terminal or a piped
    # script, where nobody else is flooded and a cut-off would only break the script.
    rate_limited: bool = True


@dataclass(frozen=True)
class PollSpec:
    """A poll to show natively where the network has polls.

    `fallback` is the whole poll as text (question, numbered options, how to answer with
    the vote command), in the chat's language: shown where native polls are missing, and
    as the text fallback inside native polls (Matrix's `org.matrix.msc1767.text`).
    """

    poll_id: str  # the bot's short id
    question: str
    options: tuple[str, ...]
    fallback: Rich
    multi: bool = False
    anonymous: bool = False


@dataclass(frozen=True)
class SentPoll:
    """Where a poll landed: `native_id` is Telegram's poll id or Matrix's start event id."""

    chat: ChatRef
    message_id: str | None
    native_id: str | None


@dataclass(frozen=True)
class PollVote:
    """One person's current answer to a native poll; an empty `options` retracts it.

    `voter` is None where the network does not say who voted (anonymous native polls).
    `at` orders votes (Matrix origin_server_ts); None means "now".
    """

    platform: str
    native_id: str
    voter: UserRef | None
    options: tuple[int, ...]  # 0-based indexes into PollSpec.options
    at: datetime | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class PollCounts:
    """Totals per option of an anonymous native poll (Telegram `poll` updates)."""

    platform: str
    native_id: str
    counts: tuple[int, ...]
    total_voters: int


@dataclass(frozen=True)
class Button:
    """An answer button under a message; pressing it arrives as a `ButtonPress`."""

    label: str
    data: str  # at most 64 bytes (Telegram's limit), e.g. "rsvp:m12:yes"
    # Networks without buttons may offer a reaction instead (Matrix): one emoji.
    emoji: str | None = None


@dataclass(frozen=True)
class ButtonPress:
    chat: ChatRef
    presser: UserRef
    data: str
    press_id: str | None = None  # to acknowledge it (Telegram callback query id)


@dataclass(frozen=True)
class MemberJoined:
    """Someone (not a bot) entered a group or room while the bot was there.

    `member_count` is how many members the chat has now, where the network says so
    cheaply (None if unknown).
    """

    chat: ChatRef
    user: UserRef
    member_count: int | None = None


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

    async def poll_vote(self, vote: PollVote) -> None:
        """Someone answered (or changed or retracted their answer to) a native poll."""

    async def poll_counts(self, counts: PollCounts) -> None:
        """New totals of an anonymous native poll."""

    async def button_pressed(self, press: ButtonPress) -> str | None:
        """A button under a bot message was pressed; returns a short toast text or None."""

    async def member_joined(self, event: MemberJoined) -> None:
        """Someone new entered a group or room (returns at once; handled as a task)."""

    async def join_requested(self, request: object) -> None:
        """Someone asked to join a chat (`bot.admission.JoinAsked`; handled as a task)."""


@dataclass(frozen=True)
class MenuEntry:
    """One line of a network's command menu (Telegram's "/" menu)."""

    command: str  # without prefix; one word (networks do not take sub-commands)
    description: str


class Unsupported(Exception):
    """The network cannot do this (see `Capabilities`): callers check capabilities first."""


@runtime_checkable
class Transport(Protocol):
    """What every network offers. Optional abilities are members too, announced by
    `capabilities`; `BaseTransport` answers them for networks that lack them."""

    platform: str
    capabilities: Capabilities
    # How commands are typed on this network: "/join" (Telegram) or "!join" (Matrix).
    command_prefix: str

    async def start(self, inbox: Inbox) -> None:
        """Connect and begin delivering messages; return once receiving runs."""

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        """Send a message. `key` makes a retried send idempotent where the network allows."""

    async def send_direct(
        self, account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        """Write to a person privately; raises DirectMessageUnavailable if impossible."""

    async def send_with_buttons(
        self,
        chat: ChatRef,
        message: Rich,
        buttons: tuple[Button, ...],
        *,
        key: str | None = None,
    ) -> SentRef:
        """Send a message with one row of buttons under it (`capabilities.buttons`)."""

    async def send_file(
        self,
        chat: ChatRef,
        filename: str,
        data: bytes,
        mime: str,
        caption: Rich | None = None,
        *,
        key: str | None = None,
    ) -> SentRef:
        """Send a file (`capabilities.files`); `image/png` is shown as a picture where the
        network can."""

    async def send_poll(self, chat: ChatRef, poll: PollSpec, *, key: str | None = None) -> SentPoll:
        """Post a native poll (`capabilities.native_polls`)."""

    async def close_poll(self, sent: SentPoll, result: Rich, *, key: str | None = None) -> None:
        """End the poll on the network (Telegram stopPoll, Matrix poll.end with `result`)."""

    async def fetch_poll_votes(self, sent: SentPoll) -> list[PollVote]:
        """Every current answer the network holds (Matrix: the poll's relations), to catch
        up on votes cast while the bot was down. Networks that cannot say return []."""

    async def publish_menus(self, menus: Mapping[tuple[str, str], Sequence[MenuEntry]]) -> None:
        """Show the command menus where the network has them ({(scope, language): entries})."""

    async def stop_receiving(self) -> None:
        """Take no more messages (the first step of stopping); sending still works."""

    @property
    def finished(self) -> asyncio.Event | None:
        """Set when the transport has nothing more to deliver (the console's end of
        input): the app then stops. None for networks that run until stopped."""

    async def stop(self) -> None:
        """Stop receiving, finish in-flight sends, disconnect."""


class BaseTransport:
    """The answers of a network without the optional abilities: buttons become plain
    text, files and native polls are refused (`Unsupported`; callers check
    `capabilities` first), no menus, nothing to stop receiving separately."""

    command_prefix: str = "/"

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        raise NotImplementedError

    async def send_with_buttons(
        self,
        chat: ChatRef,
        message: Rich,
        buttons: tuple[Button, ...],
        *,
        key: str | None = None,
    ) -> SentRef:
        return await self.send(chat, message, key=key)

    async def send_file(
        self,
        chat: ChatRef,
        filename: str,
        data: bytes,
        mime: str,
        caption: Rich | None = None,
        *,
        key: str | None = None,
    ) -> SentRef:
        raise Unsupported("files")

    async def send_poll(self, chat: ChatRef, poll: PollSpec, *, key: str | None = None) -> SentPoll:
        raise Unsupported("native polls")

    async def close_poll(self, sent: SentPoll, result: Rich, *, key: str | None = None) -> None:
        raise Unsupported("native polls")

    async def fetch_poll_votes(self, sent: SentPoll) -> list[PollVote]:
        return []

    async def publish_menus(self, menus: Mapping[tuple[str, str], Sequence[MenuEntry]]) -> None:
        return None

    async def stop_receiving(self) -> None:
        return None

    @property
    def finished(self) -> asyncio.Event | None:
        return None
