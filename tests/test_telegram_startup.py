"""Starting the Telegram transport: command menus, the bot's settings at BotFather, a
rejected token, webhook mode (tests/support/telegram_bot.py has the harness)."""

from __future__ import annotations

import logging
import socket
import traceback

import httpx
import pytest

from bot.app import App
from bot.config import ConfigError, Secret, TelegramSettings
from tests.support.telegram_api import (
    BOT_TOKEN,
    BotApi,
    message,
    private_chat,
    update,
)
from tests.support.telegram_bot import (
    ADMIN,
    ALLOWED,
    ANNA,
    StartBot,
    TelegramBot,
    bot_settings,
    transport_for,
)

# --- start-up ----------------------------------------------------------------------------


async def test_command_menus_per_scope_and_language(tg: TelegramBot) -> None:
    menus: dict[tuple[str, str | None], list[dict[str, str]]] = {}
    for call in tg.api.calls_to("setMyCommands"):
        key = (call.params["scope"]["type"], call.params.get("language_code"))
        menus[key] = call.params["commands"]
    scopes = ("all_private_chats", "all_group_chats", "all_chat_administrators")
    assert set(menus) == {(s, lang) for s in scopes for lang in (None, "de", "en")}
    for scope in scopes:
        assert menus[(scope, None)] == menus[(scope, "de")]
    private = {c["command"]: c["description"] for c in menus[("all_private_chats", "en")]}
    assert private["join"] == "Join an AG"
    german = {c["command"]: c["description"] for c in menus[("all_private_chats", "de")]}
    assert german["join"] == "Einer AG beitreten"
    assert "start" not in german


async def test_start_up_explains_bot_settings(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start_bot(BotApi(can_join_groups=False, can_read_all_group_messages=False))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("BotFather" in w and "Allow Groups" in w for w in warnings)
    assert "privacy mode is on" in caplog.text
    assert BOT_TOKEN.split(":")[1] not in caplog.text


async def test_rejected_token_is_not_shown(sqlite_url: str) -> None:
    """PTB's InvalidToken quotes the token; the bot stops with a ConfigError that does not."""
    api = BotApi()
    api.script("getMe", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    app = App(bot_settings(sqlite_url), [transport_for(api)])
    try:
        with pytest.raises(ConfigError) as raised:
            await app.start()
    finally:
        await app.stop()
    shown = "".join(traceback.format_exception(raised.value))
    assert "rejected the bot token" in shown
    assert BOT_TOKEN.split(":")[1] not in shown


async def test_webhook_mode(start_bot: StartBot) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "s3cret-Token_123"
    tg = await start_bot(
        telegram=TelegramSettings(
            token=Secret(BOT_TOKEN),
            mode="webhook",
            webhook_url="https://bot.example.org/telegram/hook",
            webhook_listen="127.0.0.1",
            webhook_port=port,
            webhook_secret=Secret(secret),
        )
    )
    [hook] = tg.api.calls_to("setWebhook")
    assert hook.params["url"] == "https://bot.example.org/telegram/hook"
    assert hook.params["secret_token"] == secret
    assert hook.params["allowed_updates"] == ALLOWED
    assert not tg.api.calls_to("getUpdates")

    url = f"http://127.0.0.1:{port}/telegram/hook"
    payload = update(message(private_chat(ANNA), ANNA, "/start"))
    # An update forged in an admin's name, with no secret or a guessed one.
    admin_forged = update(message(private_chat(ADMIN), ADMIN, "/start"))
    async with httpx.AsyncClient(trust_env=False) as client:
        unsigned = await client.post(url, json=admin_forged)
        forged = await client.post(
            url, json=admin_forged, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        )
        real = await client.post(
            url, json=payload, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
        )
    assert unsigned.status_code == 403
    assert forged.status_code == 403
    assert real.status_code == 200
    await tg.transport.application.update_queue.join()
    await tg.app.dispatcher.drain()
    assert [t[:11] for t in tg.api.texts(222)] == ["Hallo Anna "]
    assert tg.api.texts(111) == [], "the forged updates were not obeyed"


async def test_webhook_mode_refuses_to_start_without_a_secret(sqlite_url: str) -> None:
    """Without a secret anyone who finds the URL could post updates in an admin's name:
    the transport does not start (load_settings refuses such a file already)."""
    api = BotApi()
    hook = TelegramSettings(
        token=Secret(BOT_TOKEN), mode="webhook", webhook_url="https://bot.example.org/hook"
    )
    app = App(bot_settings(sqlite_url), [transport_for(api, hook)])
    try:
        with pytest.raises(ConfigError, match="webhook mode needs a secret"):
            await app.start()
    finally:
        await app.stop()
    assert not api.calls_to("setWebhook")


def test_the_webhook_listens_on_localhost_unless_configured() -> None:
    hook = TelegramSettings(
        token=Secret(BOT_TOKEN),
        mode="webhook",
        webhook_url="https://bot.example.org/hook",
        webhook_secret=Secret("s3cret"),
    )

    assert transport_for(BotApi(), hook)._webhook_options()["listen"] == "127.0.0.1"
