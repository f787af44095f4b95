"""Telegram's webhook on the bot's own web server: python-telegram-bot's own Application
(the recording Bot API behind it) takes the update that Telegram POSTs with the secret
header, and the command is answered; a wrong or missing secret gets 403 and nothing runs;
`setWebhook` names the public URL and the secret; PTB's own webhook server is not started.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.app import App
from bot.config import Secret, Settings, TelegramSettings
from bot.transports.telegram import TelegramTransport
from bot.web.server import WebServer
from tests.support.fake import ROOT
from tests.support.telegram_api import BOT_TOKEN, BotApi
from tests.support.telegram_updates import message, private_chat, update, user
from tests.support.web import WEB, Answer, request

SECRET = "s3cret_Token-42"
HOOK = "https://bot.example.org/telegram/hook"


@dataclass
class Hooked:
    app: App
    api: BotApi
    web: WebServer


@asynccontextmanager
async def webhook_bot(sqlite_url: str) -> AsyncIterator[Hooked]:
    api = BotApi()
    telegram = TelegramSettings(
        token=Secret(BOT_TOKEN), mode="webhook", webhook_url=HOOK, webhook_secret=Secret(SECRET)
    )
    settings = Settings(
        database_url=sqlite_url, ags_file=ROOT / "config" / "ags.toml", telegram=telegram, web=WEB
    )
    web = WebServer(WEB)
    transport = TelegramTransport(
        telegram, request=api.request, get_updates_request=api.updates_request, web=web
    )
    app = App(settings, [transport], web=web)
    await app.start()
    try:
        yield Hooked(app, api, web)
    finally:
        await app.stop()


async def post(web: WebServer, payload: object, secret: str | None) -> Answer:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await request(
        web, "/telegram/hook", method="POST", headers=headers, data=json.dumps(payload).encode()
    )


async def test_an_update_posted_with_the_secret_is_answered(sqlite_url: str) -> None:
    async with webhook_bot(sqlite_url) as bot:
        [hook] = bot.api.calls_to("setWebhook")
        assert hook.params["url"] == HOOK
        assert hook.params["secret_token"] == SECRET
        assert bot.api.calls_to("getUpdates") == []

        anna = user(501, "Anna")
        answer = await post(bot.web, update(message(private_chat(anna), anna, "/whoami")), SECRET)
        assert answer.status == 200
        await bot.api.wait_called("sendMessage")
        await bot.app.dispatcher.drain()
        assert "telegram:501" in bot.api.texts(501)[0]


async def test_a_wrong_or_missing_secret_is_refused(sqlite_url: str) -> None:
    async with webhook_bot(sqlite_url) as bot:
        anna = user(502, "Anna")
        for secret in ("wrong", None, SECRET + "x"):
            payload = update(message(private_chat(anna), anna, "/whoami"))
            answer = await post(bot.web, payload, secret)
            assert answer.status == 403
            assert answer.headers["X-Frame-Options"] == "DENY"
        await bot.app.dispatcher.drain()
        assert bot.api.calls_to("sendMessage") == []
        garbage = await request(
            bot.web,
            "/telegram/hook",
            method="POST",
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            data=b"not json",
        )
        assert garbage.status == 400


async def test_while_stopping_updates_are_left_to_telegram(sqlite_url: str) -> None:
    async with webhook_bot(sqlite_url) as bot:
        [transport] = bot.app.transports
        await transport.stop_receiving()
        anna = user(503, "Anna")
        answer = await post(bot.web, update(message(private_chat(anna), anna, "/whoami")), SECRET)
        assert answer.status == 503  # Telegram sends it again later
        await bot.app.dispatcher.drain()
        assert bot.api.calls_to("sendMessage") == []
