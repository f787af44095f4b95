"""The whole bot on SQLite behind python-telegram-bot, on a fake Bot API, for the
benchmarks that drive it in their own process (rows 1b and 4)."""

from __future__ import annotations

from pathlib import Path

from bot.app import App
from bot.config import Secret, Settings, TelegramSettings
from bot.transports.telegram import TelegramTransport
from tests.support.telegram_api import BOT_TOKEN, BotApi

ROOT = Path(__file__).resolve().parents[1]


async def started_bot(
    folder: str, api: BotApi, *, rate_limits: bool = True
) -> tuple[App, TelegramTransport]:
    """A started App with a Telegram transport on `api` and its database in `folder`;
    `rate_limits=False` leaves out the bot's pacing (to measure the bot, not Telegram)."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
        ags_file=ROOT / "config" / "ags.toml",
        heartbeat_file=Path(folder) / "heartbeat",
    )
    transport = TelegramTransport(
        TelegramSettings(token=Secret(BOT_TOKEN)),
        request=api.request,
        get_updates_request=api.updates_request,
        rate_limits=rate_limits,
    )
    app = App(settings, [transport])
    await app.start()
    return app, transport
