"""A TelegramTransport running against the fake Bot API, reporting to a recording Inbox
(transport tests), or to the whole bot (App, dispatcher, handlers on SQLite).

Updates go through python-telegram-bot's own `Application.process_update`, exactly as
its update loop hands them over; answers the bot gives from tasks of its own are waited
for with `BotApi.wait_called`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from telegram import Update

from bot.app import App
from bot.commands import Registry
from bot.config import Secret, Settings, TelegramSettings
from bot.core import ButtonPress, IncomingMessage, MemberJoined, PollCounts, PollVote
from bot.rich import AccountRef
from bot.transports.telegram import TelegramTransport
from tests.support.fake import ROOT
from tests.support.telegram_api import BOT_TOKEN, BotApi, Json


@dataclass
class RecordingInbox:
    """The Inbox protocol, recording what the transport reports. `toast` is what every
    button press answers; `press_error` makes presses fail; `press_gate` holds them."""

    messages: list[IncomingMessage] = field(default_factory=list)
    votes: list[PollVote] = field(default_factory=list)
    counts: list[PollCounts] = field(default_factory=list)
    presses: list[ButtonPress] = field(default_factory=list)
    joins: list[MemberJoined] = field(default_factory=list)
    migrations: list[tuple[str, str, str]] = field(default_factory=list)
    reachable: list[tuple[AccountRef, bool]] = field(default_factory=list)
    toast: str | None = "Danke!"
    press_error: Exception | None = None
    press_gate: asyncio.Event | None = None

    async def message(self, message: IncomingMessage) -> None:
        self.messages.append(message)

    async def chat_migrated(self, platform: str, old_id: str, new_id: str) -> None:
        self.migrations.append((platform, old_id, new_id))

    async def direct_reachable(self, account: AccountRef, reachable: bool) -> None:
        self.reachable.append((account, reachable))

    async def poll_vote(self, vote: PollVote) -> None:
        self.votes.append(vote)

    async def poll_counts(self, counts: PollCounts) -> None:
        self.counts.append(counts)

    async def member_joined(self, event: MemberJoined) -> None:
        self.joins.append(event)

    async def button_pressed(self, press: ButtonPress) -> str | None:
        self.presses.append(press)
        if self.press_gate is not None:
            await self.press_gate.wait()
        if self.press_error is not None:
            raise self.press_error
        return self.toast


@dataclass
class Running:
    transport: TelegramTransport
    api: BotApi

    async def feed(self, *payloads: Json) -> None:
        """Hand updates to PTB one after the other, as its update loop would."""
        ptb = self.transport.application
        for payload in payloads:
            await ptb.process_update(Update.de_json(payload, ptb.bot))


def transport_for(api: BotApi, *, press_answer_seconds: float = 5.0) -> TelegramTransport:
    return TelegramTransport(
        TelegramSettings(token=Secret(BOT_TOKEN)),
        request=api.request,
        get_updates_request=api.updates_request,
        press_answer_seconds=press_answer_seconds,
    )


@asynccontextmanager
async def running(
    inbox: RecordingInbox, api: BotApi | None = None, *, press_answer_seconds: float = 5.0
) -> AsyncIterator[Running]:
    """The transport started (getMe, polling) with `inbox` as its Inbox."""
    api = api or BotApi()
    transport = transport_for(api, press_answer_seconds=press_answer_seconds)
    await transport.start(inbox)
    try:
        yield Running(transport, api)
    finally:
        await transport.stop()


@dataclass
class WholeBot(Running):
    app: App

    async def served(self, *payloads: Json) -> None:
        """Serve updates through getUpdates to the running Updater, then wait until PTB
        and the dispatcher are done with them."""
        for payload in payloads:
            await self.api.push(payload)
            await self.api.wait_fetched(payload["update_id"])
        await self.transport.application.update_queue.join()
        await self.app.dispatcher.drain()


@asynccontextmanager
async def running_app(sqlite_url: str, api: BotApi | None = None) -> AsyncIterator[WholeBot]:
    """The whole bot with the Telegram transport; its registry is a copy that a test may
    add handlers to without touching the real one."""
    api = api or BotApi()
    settings = Settings(
        database_url=sqlite_url,
        admins=frozenset({"telegram:111"}),
        ags_file=ROOT / "config" / "ags.toml",
    )
    transport = transport_for(api)
    app = App(settings, [transport])
    real = app.services.registry
    app.services.registry = Registry(
        commands=dict(real.commands),
        buttons=dict(real.buttons),
        events=dict(real.events),
        start_hooks=list(real.start_hooks),
    )
    await app.start()
    try:
        yield WholeBot(transport, api, app)
    finally:
        await app.stop()
