"""Sending through python-telegram-bot: blocked people, flood control, chats the bot was
removed from, one send per key (tests/support/telegram_bot.py has the harness)."""

from __future__ import annotations

import logging
import time

import pytest

from bot.core import ChatRef, DirectMessageUnavailable
from bot.rich import AccountRef, text
from tests.support.telegram_api import (
    BOT_USERNAME,
    private_chat,
)
from tests.support.telegram_bot import (
    ANNA,
    GROUP,
    TelegramBot,
)

# --- sending -----------------------------------------------------------------------------


async def test_blocked_user_cannot_get_direct_messages(tg: TelegramBot) -> None:
    chat = private_chat(ANNA)
    await tg.say(chat, ANNA, "/join ag2")
    assert await tg.reachable(222) is True
    tg.api.script(
        "sendMessage",
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    account = AccountRef("telegram", "222", "Anna Berg", "anna_b")
    with pytest.raises(DirectMessageUnavailable) as raised:
        await tg.transport.send_direct(account, text("Erinnerung"))
    assert raised.value.hint_url == f"https://t.me/{BOT_USERNAME}?start=hello"
    assert await tg.reachable(222) is False

    # Following the hint link sends `/start hello`; after that, direct messages work again.
    await tg.say(chat, ANNA, "/start hello")
    await tg.say(chat, ANNA, "/my")
    assert await tg.reachable(222) is True


# PTB's own RetryAfter.__init__ reads its deprecated int-valued `retry_after`.
@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
async def test_retry_after_is_waited_out(tg: TelegramBot) -> None:
    tg.api.script(
        "sendMessage",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    began = time.monotonic()
    await tg.say(private_chat(ANNA), ANNA, "/start")
    assert time.monotonic() - began >= 1
    assert [call.status for call in tg.api.calls_to("sendMessage")] == [429, 200]
    assert len(tg.api.delivered(222)) == 1


async def test_chat_the_bot_was_removed_from(
    tg: TelegramBot, caplog: pytest.LogCaptureFixture
) -> None:
    tg.api.script(
        "sendMessage",
        403,
        {
            "ok": False,
            "error_code": 403,
            "description": "Forbidden: bot was kicked from the group chat",
        },
    )
    with caplog.at_level(logging.WARNING, "bot.transports.telegram"):
        ref = await tg.transport.send(ChatRef("telegram", "-4009"), text("Geheimer Text"))
    assert ref.message_id is None
    assert "kicked" in caplog.text
    assert "Geheimer Text" not in caplog.text


async def test_a_key_is_sent_once(tg: TelegramBot) -> None:
    chat = ChatRef("telegram", str(GROUP["id"]))
    first = await tg.transport.send(chat, text("Einmal"), key="reminder:7")
    again = await tg.transport.send(chat, text("Einmal"), key="reminder:7")
    assert first == again
    assert tg.api.texts(GROUP["id"]) == ["Einmal"]
