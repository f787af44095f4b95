"""What the log may hold: no payloads of the libraries unless asked for (`log_payloads`),
and no network ids of people or chats, only their keyed pseudonyms (`bot.logs.pseudonym`).

At DEBUG, python-telegram-bot logs every getUpdates answer, so a `/connect` code typed in
a private chat landed in the log; aiosqlite logs each query with its parameters. Matrix
user ids and Telegram private chat ids were logged as they are, while `/privacy` says an
account is kept "only as an internal number".
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Secret, Settings, load_settings
from bot.core import ChatRef, DirectMessageUnavailable
from bot.logs import NOISY, PAYLOADS, pseudonym, setup_logging, use_pseudonym_key
from bot.rich import AccountRef, text
from tests.support.fake import ROOT
from tests.support.matrix_bot import bot_settings, register_bot, room_with_bot, running_bot
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name
from tests.support.telegram_api import BotApi, message, private_chat, update, user
from tests.support.telegram_transport import RecordingInbox, running, running_app

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
    assert logging.getLogger("bot.commands.dispatch").isEnabledFor(logging.DEBUG)


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


# --- pseudonyms ------------------------------------------------------------------------------

ZED = "555000111"  # a Telegram user who blocked the bot
BLOCKED = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
FLAKY = {"ok": False, "error_code": 502, "description": "Bad Gateway"}


def bot_lines(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))


async def test_telegram_logs_name_private_chats_by_pseudonym(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    api = BotApi()
    async with running(RecordingInbox(), api) as tg:
        tg.transport.send_retry_delays = (0.0,)
        zed = AccountRef("telegram", ZED, "Zed")
        for _ in range(2):  # _no_direct_chat
            api.script("sendMessage", 403, BLOCKED)
            with pytest.raises(DirectMessageUnavailable):
                await tg.transport.send_direct(zed, text("Erinnerung"))
        api.script("sendMessage", 403, BLOCKED)  # _unwritable
        await tg.transport.send(ChatRef("telegram", ZED, is_direct=True), text("Hallo"))
        api.script("sendMessage", 502, FLAKY)  # _retried, then delivered
        await tg.transport.send(ChatRef("telegram", ZED, is_direct=True), text("Hallo"))

    logged = bot_lines(caplog)
    shown = pseudonym("telegram", ZED)
    assert ZED not in logged
    assert re.fullmatch(r"[0-9a-f]{10}", shown)
    assert logged.count(f"no private chat with {shown}") == 2, "the same pseudonym each time"
    assert f"cannot write to chat {shown}" in logged
    assert f"a send to chat {shown} failed" in logged


async def test_the_pseudonyms_are_keyed_with_the_bots_secret_key(tmp_path: Path) -> None:
    """Stable across restarts with the same key; another key, other pseudonyms."""
    seen = []
    # Another key needs another database: a database remembers its key's fingerprint.
    for key, db in (("first-secret-key", "a"), ("first-secret-key", "a"), ("other-key", "b")):
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / db}.db",
            ags_file=ROOT / "config" / "ags.toml",
            secret_key=Secret(key),
        )
        app = App(settings, [])
        await app.start()
        seen.append(pseudonym("telegram", ZED))
        await app.stop()

    assert seen[0] == seen[1] != seen[2]


@pytest.mark.synapse
async def test_matrix_logs_name_people_and_rooms_by_pseudonym(
    synapse: SynapseServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    ghost = f"@{unique_name('nobody')}:localhost"
    try:
        await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot:
            room_id = await room_with_bot(human, bot.user_id)  # the bot logs the invite
            for _ in range(2):
                with pytest.raises(DirectMessageUnavailable):
                    await bot.transport.send_direct(AccountRef("matrix", ghost, "?"), text("?"))
    finally:
        await human.close()

    logged = bot_lines(caplog)
    for raw in (human.user_id, ghost, room_id, human.user_id.split(":")[0]):
        assert raw not in logged
    assert f"invited by {pseudonym('matrix', human.user_id)}" in logged
    assert f"joining {pseudonym('matrix', room_id)}" in logged
    assert logged.count(f"no direct chat with {pseudonym('matrix', ghost)}") == 2


def test_the_command_line_tells_an_accounts_pseudonym(tmp_path: Path) -> None:
    """`buendnisbot pseudonym telegram:ID`: to find one person's lines in the log."""
    path = tmp_path / "bot.toml"
    path.write_text('secret_key = "first-secret-key"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUENDNISBOT_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "pseudonym", f"telegram:{ZED}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    use_pseudonym_key(b"first-secret-key")  # what App.start does with this configuration

    assert (result.returncode, result.stdout) == (0, pseudonym("telegram", ZED) + "\n")
