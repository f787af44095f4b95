"""Telegram's webhook on the bot's own HTTP server (bot/web/), instead of the server
python-telegram-bot would start: one port for feeds, pages, `/healthz` and Telegram.

As PTB documents for custom webhook servers: the bot registers the URL with
`setWebhook` (with a secret token), checks Telegram's `X-Telegram-Bot-Api-Secret-Token`
header on each POST (compared in constant time: 403 if wrong), and puts the update on
`Application.update_queue`, which the started Application works off as it would its own
webhook's. While stopping, updates are refused with 503; Telegram sends them again.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from telegram import Update

from bot.settings import TelegramSettings
from bot.transports.telegram.send import TelegramApp
from bot.web.http import WebRequest, WebResponse, text
from bot.web.server import WebServer

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Webhook:
    def __init__(self, app: TelegramApp, settings: TelegramSettings) -> None:
        self.app = app
        self.secret = settings.webhook_secret.reveal().encode()
        self.receiving = True

    async def __call__(self, request: WebRequest) -> WebResponse:
        given = request.header(SECRET_HEADER).encode()
        if not hmac.compare_digest(given, self.secret):
            return text(403, "Forbidden")
        if not self.receiving:
            return text(503, "Stopping")
        try:
            data = json.loads(request.body)
            update = Update.de_json(data, self.app.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("telegram: a webhook request that is not an update")
            return text(400, "Bad request")
        await self.app.update_queue.put(update)
        return text(200, "OK")


def webhook_path(settings: TelegramSettings) -> str:
    """The path of the public webhook URL, which the reverse proxy passes on unchanged."""
    return urlsplit(settings.webhook_url).path or "/"


def route_webhook(app: TelegramApp, settings: TelegramSettings, web: WebServer) -> Webhook:
    """Take the updates Telegram posts to the webhook's path on `web` (every process)."""
    hook = Webhook(app, settings)
    log.info(
        "telegram: webhook served by the bot's web server on %s:%s (telegram.webhook_listen "
        "and telegram.webhook_port are not used while [web] is set)",
        web.settings.host,
        web.port,
    )
    web.add("POST", webhook_path(settings), hook)
    return hook


async def register_webhook(
    app: TelegramApp, settings: TelegramSettings, allowed_updates: Sequence[str]
) -> None:
    """Tell Telegram where to send updates (the leader, once it leads)."""
    await app.bot.set_webhook(
        url=settings.webhook_url,
        secret_token=settings.webhook_secret.reveal(),
        allowed_updates=list(allowed_updates),
    )
