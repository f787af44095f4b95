"""What the log may hold: no payloads of the libraries unless asked for (`log_payloads`).

At DEBUG, python-telegram-bot logs every getUpdates answer, so a `/connect` code typed in
a private chat landed in the log; aiosqlite logs each query with its parameters.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.logs import NOISY, PAYLOADS, setup_logging
from tests.support.telegram_api import message, private_chat, update, user
from tests.support.telegram_transport import running_app

ANNA = user(222, "Anna", username="anna_b")
CODE = "ABCD-1234"


@pytest.fixture
def bot_log() -> Iterator[io.StringIO]:
    """The log as the bot sets it up, written into a buffer; afterwards the root logger
    and the library loggers are put back as pytest had them."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    names = (*NOISY, *PAYLOADS)
    saved = {name: logging.getLogger(name).level for name in names}
    yield io.StringIO()
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


async def connect_code_through_telegram(sqlite_url: str, out: io.StringIO, payloads: bool) -> str:
    """The whole bot at DEBUG; Anna sends `/connect <code>` privately through getUpdates."""
    setup_logging("DEBUG", payloads=payloads)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)
    async with running_app(sqlite_url) as tg:
        await tg.served(update(message(private_chat(ANNA), ANNA, f"/connect {CODE}")))
        assert tg.api.texts(222), "the command was answered"
    return out.getvalue()


async def test_debug_logging_keeps_payloads_out(sqlite_url: str, bot_log: io.StringIO) -> None:
    logged = await connect_code_through_telegram(sqlite_url, bot_log, payloads=False)

    assert CODE not in logged
    assert "DEBUG" in logged, "the bot's own DEBUG lines still come"
    assert logging.getLogger("bot.dispatch").isEnabledFor(logging.DEBUG)


async def test_log_payloads_lets_them_in(sqlite_url: str, bot_log: io.StringIO) -> None:
    logged = await connect_code_through_telegram(sqlite_url, bot_log, payloads=True)

    assert CODE in logged, "the switch turns the libraries' payload logging on"


def test_log_payloads_is_a_setting(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text("log_payloads = true\n", encoding="utf-8")

    assert load_settings(path, environ={}).log_payloads
    assert not load_settings(
        tmp_path / "bot.toml", environ={"BUENDNISBOT_LOG_PAYLOADS": "no"}
    ).log_payloads
