"""The seam between the networks and the bot: what a transport delivers and offers.

Nothing here knows Telegram or Matrix; handlers see only these types.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.refs import (  # noqa: F401  (the seam names them; defined apart to keep this short)
    MAX_COMMAND,
    MAX_MENTIONS,
    ChatRef,
    IncomingMessage,
    SentRef,
    UserRef,
    well_formed,
)
from bot.rich import AccountRef, Rich

if TYPE_CHECKING:
    from storage.db import Database


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
    # Buttons are offered as reactions to tap (Matrix): only those with an `emoji`, no
    # rows, no toasts. Texts then say which reaction means what.
    reactions: bool = False
    # A message the bot sent can be changed in place (`Transport.edit`): Telegram's
    # editMessageText, Matrix's m.replace. Where missing, callers post anew or stay quiet.
    edits: bool = False
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
    # Buttons with the same row number stand side by side, rows in rising order
    # (a Terminumfrage: one row per date). Networks without rows show them in order.
    row: int = 0


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
        """Connect and begin delivering messages; return once receiving runs
        (`open` then `lead`: one process)."""

    async def open(self, inbox: Inbox) -> None:
        """Every process among several: connect so that sending works (and, where the
        network pushes updates to any process, take them). Receiving waits for `lead`."""

    async def lead(self) -> None:
        """This process leads (bot/leader.py): begin receiving (after `open`)."""

    async def unlead(self) -> None:
        """This process no longer leads: stop receiving at once; `lead` may come again."""

    def use_database(self, db: Database) -> None:
        """Where to keep what the next leader needs (Matrix: its sync position)."""

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
        """Send a message with buttons under it (`capabilities.buttons`), in the rows their
        `row` says."""

    async def edit(
        self,
        sent: SentRef,
        message: Rich,
        buttons: tuple[Button, ...] = (),
    ) -> None:
        """Change a message the bot sent to `message` (and its buttons, where the network
        has them) (`capabilities.edits`). A message that is gone or unchanged is no error:
        the edit is simply dropped (logged at DEBUG)."""

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
    _lead_inbox: Inbox | None = None

    async def start(self, inbox: Inbox) -> None:
        raise NotImplementedError

    async def open(self, inbox: Inbox) -> None:
        """Networks without a split: nothing until `lead`, which starts them whole."""
        self._lead_inbox = inbox

    async def lead(self) -> None:
        if self._lead_inbox is None:
            raise RuntimeError("lead() before open()")
        await self.start(self._lead_inbox)

    async def unlead(self) -> None:
        await self.stop_receiving()

    def use_database(self, db: Database) -> None:
        return None

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

    async def edit(
        self,
        sent: SentRef,
        message: Rich,
        buttons: tuple[Button, ...] = (),
    ) -> None:
        raise Unsupported("edits")

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
