"""The outbox: everything the bot writes on its own (not as the reply to a command) goes
out here, so "which language, which command prefix, buttons or not" is decided once.

An `Audience` is a chat (a group, a room, a private chat) or a person's account. Its
`Reader` says how to write for it: the language (the person's own setting when known,
else the chat's configured language, else the bot's), how commands are typed on its
network (`/join` or `!join`) and what the network shows (buttons, files). `send` writes
to one audience, `fan_out` to many at once; a key makes a retried send idempotent where
the network allows it (`fan_out` derives one key per audience from the key it is given).
Replies to a command go through `Context.reply`, which uses the same language decision.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core import Button, Capabilities, ChatRef, SentRef, Transport
from bot.i18n import Lang, Translator
from bot.logs import pseudonym
from bot.rich import AccountRef, Rich

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audience:
    """Whom a message goes to: a chat or one person's account (privately)."""

    chat: ChatRef | None = None
    account: AccountRef | None = None
    # The reader's own language where it is known (a person's `/lang`); None: the chat's.
    language: str | None = None

    @staticmethod
    def of_chat(chat: ChatRef, language: str | None = None) -> Audience:
        return Audience(chat=chat, language=language)

    @staticmethod
    def of_account(account: AccountRef, language: str | None = None) -> Audience:
        return Audience(account=account, language=language)

    @property
    def platform(self) -> str:
        if self.chat is not None:
            return self.chat.platform
        assert self.account is not None, "an audience is a chat or an account"
        return self.account.platform

    @property
    def key(self) -> str:
        """Tells audiences apart in idempotency keys and logs."""
        if self.chat is not None:
            return self.chat.key
        assert self.account is not None
        return f"{self.account.platform}:dm:{self.account.external_id}"


@dataclass(frozen=True)
class Reader:
    """How to write for an audience: its language, command prefix and network."""

    lang: Lang
    prefix: str
    capabilities: Capabilities

    def t(self, message: str, **values: Rich | str | int) -> Rich:
        return self.lang.t(message, **values)

    def tn(self, singular: str, plural: str, n: int, **values: Rich | str | int) -> Rich:
        return self.lang.tn(singular, plural, n, **values)

    def cmd(self, name: str) -> str:
        """A command as typed on the reader's network (`/join` or `!join`)."""
        return self.prefix + name


Text = Rich | Callable[[Reader], Rich]
Buttons = Callable[[Reader], tuple[Button, ...]]


class NotRunning(Exception):
    """The audience's network is not configured or not running in this process."""


class Outbox:
    def __init__(
        self, settings: Settings, translator: Translator, transports: Mapping[str, Transport]
    ) -> None:
        self._settings = settings
        self._translator = translator
        self._transports = transports

    def chat_language(self, chat: ChatRef) -> str:
        """A whole chat's language (its members may read several): the one stored for
        the chat, else `chat_languages` of the settings, else the bot's language."""
        return (
            chat.language or self._settings.chat_languages.get(chat.key) or self._settings.language
        )

    def language(self, audience: Audience) -> str:
        if audience.language:
            return audience.language
        if audience.chat is not None:
            return self.chat_language(audience.chat)
        return self._settings.language

    def transport(self, audience: Audience) -> Transport | None:
        """The running transport of the audience's network, if there is one."""
        return self._transports.get(audience.platform)

    def reader(self, audience: Audience) -> Reader:
        transport = self.transport(audience)
        if transport is None:
            raise NotRunning(audience.platform)
        return Reader(
            self._translator.for_language(self.language(audience)),
            transport.command_prefix,
            transport.capabilities,
        )

    async def send(
        self,
        audience: Audience,
        text: Text,
        *,
        key: str | None = None,
        buttons: Buttons | None = None,
    ) -> SentRef:
        """Write `text` (or what `text(reader)` makes) to the audience; with the answer
        `buttons` under it where the network has buttons and the audience is a chat.
        Raises NotRunning, DirectMessageUnavailable, or what the network raised."""
        transport = self.transport(audience)
        if transport is None:
            raise NotRunning(audience.platform)
        reader = self.reader(audience)
        message = text(reader) if callable(text) else text
        if audience.chat is None:
            assert audience.account is not None
            return await transport.send_direct(audience.account, message, key=key)
        row = buttons(reader) if buttons is not None and reader.capabilities.buttons else ()
        if row:
            return await transport.send_with_buttons(audience.chat, message, row, key=key)
        return await transport.send(audience.chat, message, key=key)

    async def send_first(self, audiences: Iterable[Audience], text: Text) -> bool:
        """Write to the first audience that can be reached (a person's accounts in
        order: the first network that lets me write privately). False if none could."""
        for audience in audiences:
            if self.transport(audience) is None:
                continue
            try:
                await self.send(audience, text)
                return True
            except Exception as exc:
                log.warning("could not write on %s: %r", audience.platform, type(exc))
        return False

    async def fan_out(
        self,
        audiences: Iterable[Audience],
        text: Text,
        *,
        key: str | None = None,
        buttons: Buttons | None = None,
    ) -> list[SentRef | None]:
        """Write to every audience at once, each in its language. A failing one is
        logged (pseudonymised) and gives None; the others are not held up."""
        targets = list(audiences)

        async def one(audience: Audience) -> SentRef:
            each = f"{key}:{audience.key}" if key is not None else None
            return await self.send(audience, text, key=each, buttons=buttons)

        results = await asyncio.gather(*(one(a) for a in targets), return_exceptions=True)
        sent: list[SentRef | None] = []
        for audience, result in zip(targets, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                where = audience.chat.id if audience.chat else audience.key
                log.warning(
                    "could not write to %s: %r", pseudonym(audience.platform, where), result
                )
                sent.append(None)
            else:
                sent.append(result)
        return sent
