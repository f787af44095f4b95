"""What a handler gets: the message, the reader's language, the services, and `reply`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot import stages
from bot.clock import Clock, SystemClock
from bot.core import (
    Button,
    ChatRef,
    DirectMessageUnavailable,
    IncomingMessage,
    SentRef,
    Transport,
    UserRef,
)
from bot.i18n import Lang, Translator
from bot.node import new_node_id
from bot.outbox import Outbox
from bot.rich import Rich, chunk
from bot.timers import Timers
from storage import repo
from storage.ag_cache import AgCache, AgChatsCache
from storage.cache import listen_for_writes
from storage.chat_language import ChatLanguageCache
from storage.membership_cache import MembershipCache
from storage.models import Role
from storage.notify import Listener
from storage.sender_cache import SenderCache

if TYPE_CHECKING:
    from bot.commands.declare import Command, Param, Registry
    from bot.config import Settings
    from storage.db import Database


class Reminders(Protocol):
    """What the app needs of the reminder engine (handlers/reminders/engine.py builds
    it; the app starts it through the feature's start hook and stops it on shutdown)."""

    async def start(self) -> None: ...

    async def stop(self, grace: float = ...) -> None: ...


class UserError(Exception):
    """A problem the user can fix; its message is shown to them as the reply."""

    def __init__(self, message: Rich) -> None:
        super().__init__(message.plain)
        self.message = message


@dataclass
class Services:
    """Everything built once at start-up and shared by all handlers."""

    settings: Settings
    db: Database
    translator: Translator
    registry: Registry
    transports: dict[str, Transport]
    # Meeting reminders (the app builds the engine of handlers/reminders/).
    reminders: Reminders | None = None
    # The AG list and who sent a command: read once, dropped whenever their tables are
    # written (storage/cache.py).
    ags: AgCache = field(init=False)
    linked_chats: AgChatsCache = field(init=False)
    senders: SenderCache = field(init=False)
    # The language set for a group or room (`/lang en` there), read once per command.
    chat_languages: ChatLanguageCache = field(init=False)
    # A person's AGs and roles (`/my`), dropped whenever memberships or AGs are written.
    memberships: MembershipCache = field(init=False)
    # Work planned for later (poll closes, reminders), on the clock below.
    timers: Timers = field(init=False)
    # Everything written on the bot's own initiative: language, prefix, buttons, keys.
    outbox: Outbox = field(init=False)
    # This process among the bot's processes on one database: leases name it (storage/leases.py).
    node_id: str = field(init=False)
    # Whether this process leads (runs the scheduler, receives, resumes): always so for one
    # process; with several on PostgreSQL, the one holding the leader lock (bot/leader.py).
    leading: bool = True
    # LISTEN/NOTIFY between the processes on one PostgreSQL (storage/notify.py): other
    # processes' writes reach the caches above at once; `on(channel, ...)` for more.
    listener: Listener = field(init=False)

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.settings, self.translator, self.transports)
        self.node_id = new_node_id()
        self.ags = AgCache(self.db)
        self.linked_chats = AgChatsCache(self.db)
        self.senders = SenderCache(self.db)
        self.chat_languages = ChatLanguageCache(self.db)
        self.listener = Listener(self.db)
        listen_for_writes(self.db, self.listener)
        self.memberships = MembershipCache(self.db)
        self._clock: Clock = SystemClock()
        self.timers = Timers(self._clock)

    @property
    def clock(self) -> Clock:
        """The one clock: `now()`, the timers, the rate limit (tests set a ManualClock)."""
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._clock = clock
        self.timers.use_clock(clock)

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return self._clock()

    def transport_for(self, chat: ChatRef) -> Transport | None:
        """The running transport of a chat's network (None if that network is not configured)."""
        return self.transports.get(chat.platform)

    async def ag_chats(self, ag_id: int) -> list[ChatRef]:
        """Every chat linked to the AG on a network that is running now."""
        return [
            ChatRef(row.platform, row.external_id, row.is_direct, row.title, row.language)
            for row in await self.linked_chats.of(ag_id)
            if row.platform in self.transports
        ]


class Context:
    def __init__(
        self,
        services: Services,
        transport: Transport,
        message: IncomingMessage,
        lang: Lang,
        person_id: int | None,
    ) -> None:
        self.services = services
        self.transport = transport
        self.message = message
        self.lang = lang
        self.person_id = person_id
        self.replies: list[SentRef] = []

    @property
    def chat(self) -> ChatRef:
        return self.message.chat

    @property
    def sender(self) -> UserRef:
        return self.message.sender

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def is_admin(self) -> bool:
        return self.services.settings.is_admin(self.sender.platform, self.sender.id)

    def t(self, message: str, **values: Rich | str | int) -> Rich:
        return self.lang.t(message, **values)

    def tn(self, singular: str, plural: str, n: int, **values: Rich | str | int) -> Rich:
        return self.lang.tn(singular, plural, n, **values)

    def cmd(self, name: str) -> str:
        """A command as the user types it on this network (`/join` or `!join`)."""
        return self.transport.command_prefix + name

    def example(self, example: str) -> str:
        """A declared example as typed here; in the reader's language where its words are
        (examples with German words are marked with N_ and translated)."""
        return self.cmd(self.lang.gettext(example))

    def signature(self, command: Command, required: Param | None = None) -> str:
        """A command's usage as typed on this network, labels in the reader's language."""
        return command.signature(self.transport.command_prefix, self.lang.gettext, required)

    async def reply(self, message: Rich) -> None:
        """Answer in the chat of the message. Each part carries a key derived from the
        incoming message, so a network that supports it can drop a retried duplicate."""
        stages.mark("reply")
        limit = self.transport.capabilities.max_message_length
        for part in chunk(message, limit):
            key = None
            if self.message.message_id is not None:
                key = f"reply:{self.chat.key}:{self.message.message_id}:{len(self.replies)}"
            self.replies.append(await self.transport.send(self.chat, part, key=key))

    async def reply_with_buttons(self, message: Rich, buttons: tuple[Button, ...]) -> None:
        """Reply with answer buttons where the network has them, as plain text elsewhere."""
        if not (buttons and self.transport.capabilities.buttons):
            await self.reply(message)
            return
        key = None
        if self.message.message_id is not None:
            key = f"reply:{self.chat.key}:{self.message.message_id}:{len(self.replies)}"
        self.replies.append(
            await self.transport.send_with_buttons(self.chat, message, buttons, key=key)
        )

    async def reply_private(self, message: Rich) -> bool:
        """Send to the sender's private chat. In a group, say so there; if the network
        cannot reach them privately, tell them how to open the private chat instead."""
        if self.message.is_direct:
            await self.reply(message)
            return True
        limit = self.transport.capabilities.max_message_length
        try:
            for part in chunk(message, limit):
                await self.transport.send_direct(self.sender.as_account(), part)
        except DirectMessageUnavailable as exc:
            start = exc.hint_url or self.cmd("start")
            await self.reply(
                self.t(
                    "Das schicke ich dir nur privat, aber ich kann dir noch nicht schreiben. "
                    "Öffne bitte zuerst den privaten Chat mit mir: {start}",
                    start=start,
                )
            )
            return False
        await self.reply(self.t("Ich habe es dir privat geschickt."))
        return True

    async def ensure_person(self) -> int:
        """The sender's person id, creating person and account on first use."""
        if self.person_id is None:
            sender = self.sender

            async def create(session: AsyncSession) -> int:
                account = await repo.ensure_account(
                    session, sender.platform, sender.id, sender.display_name, sender.username
                )
                return account.person_id

            self.person_id = await self.db.run(create)
        return self.person_id

    async def role_in(self, ag_id: int) -> Role | None:
        if self.person_id is None:
            return None
        async with self.db.read() as session:
            membership = await repo.membership(session, self.person_id, ag_id)
        return Role(membership.role) if membership else None
