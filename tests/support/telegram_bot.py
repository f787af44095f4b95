"""The whole bot behind python-telegram-bot, against a Bot API answered from memory: the
harness of the tests/test_telegram*.py files (the `start_bot` and `tg` fixtures are
registered in tests/conftest.py).

Each test starts the real App (SQLite, migrations, dispatcher, handlers) with a real
TelegramTransport: PTB's Application, rate limiter and Updater run unchanged; only the
HTTP layer is the recording `BotApi`. Updates are fed to `Application.process_update`
or served to the running `start_polling()` through getUpdates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from telegram import Update

from bot.app import App
from bot.config import Secret, Settings, TelegramSettings
from bot.transports.telegram import TelegramTransport
from storage import repo
from tests.support.fake import ROOT
from tests.support.telegram_api import (
    BOT_TOKEN,
    BotApi,
    Json,
    group,
    message,
    supergroup,
    update,
    user,
)

ADMIN = user(111, "Ada", username="ada_admin")
ANNA = user(222, "Anna", last_name="Berg", username="anna_b")
GROUP = group(-4001, "AG 2 Transparenz")
SUPERGROUP = supergroup(-1001234567890, "AG 2 Transparenz")
# Messages, votes in polls, poll totals, button presses and join requests; nothing else.
ALLOWED = ["message", "poll_answer", "poll", "callback_query", "chat_join_request"]


@dataclass
class TelegramBot:
    app: App
    transport: TelegramTransport
    api: BotApi

    async def feed(self, payload: Json) -> None:
        """Hand one update to PTB as its update loop would, then wait for the handlers."""
        ptb = self.transport.application
        await ptb.process_update(Update.de_json(payload, ptb.bot))
        await self.app.dispatcher.drain()

    async def poll(self, payload: Json) -> None:
        """Serve one update through getUpdates to the running Updater."""
        await self.api.push(payload)
        await self.api.wait_fetched(payload["update_id"])
        await self.transport.application.update_queue.join()
        await self.app.dispatcher.drain()

    async def say(self, chat: Json, sender: Json | None, words: str, **fields: object) -> list[str]:
        """Send a message; return the HTML of every reply it caused."""
        before = len(self.api.delivered())
        await self.feed(update(message(chat, sender, words, **fields)))
        return [params["text"] for params in self.api.delivered()[before:]]

    async def linked(self, chat_id: int | str) -> list[str]:
        async with self.app.services.db.read() as session:
            return [ag.slug for ag in await repo.linked_ags(session, "telegram", str(chat_id))]

    async def reachable(self, user_id: int) -> bool | None:
        async with self.app.services.db.read() as session:
            account = await repo.find_account(session, "telegram", str(user_id))
        return None if account is None else account.direct_reachable


StartBot = Callable[..., Awaitable[TelegramBot]]


def bot_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admins=frozenset({"telegram:111"}),
        ags_file=ROOT / "config" / "ags.toml",
    )


def transport_for(api: BotApi, telegram: TelegramSettings | None = None) -> TelegramTransport:
    return TelegramTransport(
        telegram or TelegramSettings(token=Secret(BOT_TOKEN)),
        request=api.request,
        get_updates_request=api.updates_request,
    )


@pytest.fixture
async def start_bot(sqlite_url: str) -> AsyncIterator[StartBot]:
    started: list[App] = []

    async def start(
        api: BotApi | None = None, telegram: TelegramSettings | None = None
    ) -> TelegramBot:
        api = api or BotApi()
        api.remember(GROUP, SUPERGROUP)
        transport = transport_for(api, telegram)
        app = App(bot_settings(sqlite_url), [transport])
        await app.start()
        started.append(app)
        return TelegramBot(app, transport, api)

    yield start
    for app in started:
        await app.stop()


@pytest.fixture
async def tg(start_bot: StartBot) -> TelegramBot:
    return await start_bot()
