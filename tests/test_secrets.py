"""Secrets: tokens and passwords never appear in logs at any level, in error replies,
or in /mydata.

The whole bot runs behind the fake transport with every kind of secret configured and
logging set up as `buendnisbot` sets it up (root logger, DEBUG, the redacting filter on
the bot's secrets). Normal commands, a handler crash whose exception carries every
secret, configuration errors and `/mydata` must leave no secret anywhere.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.__main__ import _secrets, main
from bot.app import App
from bot.config import MatrixSettings, Secret, Settings, TelegramSettings
from bot.logs import setup_logging
from storage import repo
from tests.support.fake import ROOT, BotHarness, FakeTransport

TOKEN = "987654321:AAF-telegram_Token_value_Secret1"
WEBHOOK_SECRET = "webhook-secret-Value-77"
MATRIX_PASSWORD = "matrix pass phrase 4711"
MATRIX_ACCESS_TOKEN = "syt_bWF0cml4_accessTokenValue_0815"
DB_PASSWORD = "db-Password-Geheim-42"
SECRET_KEY = "poll-hash-secret-key-Value-99"
SECRETS = (TOKEN, WEBHOOK_SECRET, MATRIX_PASSWORD, MATRIX_ACCESS_TOKEN, DB_PASSWORD, SECRET_KEY)


def leaks(text: str) -> list[str]:
    """The secrets (or their longer halves) found in `text`."""
    return [s for s in SECRETS if s in text or s[len(s) // 2 :] in text]


@pytest.fixture
def bot_log() -> Iterator[io.StringIO]:
    """Logging as the bot sets it up, its one handler writing into a buffer; afterwards
    the root logger is put back as pytest had it."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    from bot.logs import NOISY

    saved_noisy = {name: logging.getLogger(name).level for name in NOISY}
    out = io.StringIO()
    yield out
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name, level in saved_noisy.items():
        logging.getLogger(name).setLevel(level)


def capture_bot_log(settings: Settings, out: io.StringIO) -> None:
    setup_logging("DEBUG", _secrets(settings))
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)


def with_password(url: str) -> str:
    """The test database's URL with a password in it (the test server trusts local
    connections, so the password is sent along but never needed)."""
    return make_url(url).set(password=DB_PASSWORD).render_as_string(hide_password=False)


def secret_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admins=frozenset({"fake:admin"}),
        ags_file=ROOT / "config" / "ags.toml",
        survey_file=ROOT / "config" / "survey.toml",
        secret_key=Secret(SECRET_KEY),
        telegram=TelegramSettings(token=Secret(TOKEN), webhook_secret=Secret(WEBHOOK_SECRET)),
        matrix=MatrixSettings(
            homeserver="https://matrix.example.org",
            user_id="@bot:example.org",
            password=Secret(MATRIX_PASSWORD),
            access_token=Secret(MATRIX_ACCESS_TOKEN),
        ),
    )


def test_every_configured_secret_is_handed_to_the_log_filter() -> None:
    settings = secret_settings(with_password("postgresql+asyncpg://bot@db/buendnis"))

    assert set(SECRETS) <= set(_secrets(settings))


@pytest.mark.postgres
async def test_no_secret_in_logs_replies_or_mydata(
    postgres_url: str, bot_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = secret_settings(with_password(postgres_url))
    capture_bot_log(settings, bot_log)
    transport = FakeTransport()
    app = App(settings, [transport])
    await app.prepare_database()
    await transport.start(app.dispatcher)
    bot = BotHarness(app, transport)
    try:
        group, dm = bot.group(), bot.dm("alice")
        logging.getLogger("tests.secrets").debug("bot running, token %s", TOKEN)

        # Normal commands, in a group and privately.
        await group.say("alice", "/join ag2")
        await group.say("alice", "/ags")
        await dm.say("alice", "/card set Alice, Kiez-AG, alice@example.org")
        await dm.say("alice", "/help")
        await group.say("admin", "/ag ag2")

        # A crash deep in the storage layer, its message carrying every secret.
        def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("connect failed: " + " | ".join(SECRETS))

        with monkeypatch.context() as patched:
            patched.setattr(repo, "list_ags", broken)
            crash_replies = await group.say("alice", "/ags")
        assert crash_replies == [
            "Da ist bei mir etwas schiefgegangen. Bitte versuch es gleich noch einmal."
        ]

        # Everything alice has stored, as the file the bot sends.
        await dm.say("alice", "/mydata")
        assert transport.files, "/mydata sent no file"
        exported = transport.files[-1].data.decode()
        json.loads(exported)
        assert "alice" in exported.lower()
        assert leaks(exported) == []
    finally:
        await app.services.db.dispose()

    text = bot_log.getvalue()
    assert "Traceback" in text and "RuntimeError: connect failed: ***" in text, (
        "the crash was not logged with its traceback"
    )
    assert "DEBUG" in text
    assert leaks(text) == []
    replies = "\n".join(s.text for s in transport.sent)
    replies += "\n".join(f.caption.plain for f in transport.files if f.caption)
    assert leaks(replies) == []


@pytest.mark.parametrize(
    "bad",
    [
        'timezone = "Mars/Olympus"',
        'telegram.mode = "carrier-pigeon"',
        f'database_url = "mysql://bot:{DB_PASSWORD}@db/buendnis"',
        'telegram.token = "not-a-token-but-a-secret-key-Value-99"',
        'matrix.user_id = "no user id"',
    ],
)
def test_a_configuration_error_shows_no_secret(
    tmp_path: Path, bad: str, bot_log: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    key, value = bad.split(" = ", 1)
    section, _, name = key.rpartition(".")
    values = {
        "": {
            "database_url": f'"postgresql://bot:{DB_PASSWORD}@db/buendnis"',
            "secret_key": f'"{SECRET_KEY}"',
            "timezone": '"Europe/Berlin"',
        },
        "telegram": {"token": f'"{TOKEN}"', "webhook_secret": f'"{WEBHOOK_SECRET}"'},
        "matrix": {
            "homeserver": '"https://matrix.example.org"',
            "user_id": '"@bot:example.org"',
            "password": f'"{MATRIX_PASSWORD}"',
            "access_token": f'"{MATRIX_ACCESS_TOKEN}"',
        },
    }
    values[section][name] = value
    body = "".join(f"{k} = {v}\n" for k, v in values[""].items())
    for table in ("telegram", "matrix"):
        body += f"[{table}]\n" + "".join(f"{k} = {v}\n" for k, v in values[table].items())
    path = tmp_path / "bot.toml"
    path.write_text(body, encoding="utf-8")

    assert main(["--config", str(path), "check-config"]) == 2

    captured = capsys.readouterr()
    assert "configuration error" in captured.err
    assert leaks(captured.out + captured.err) == []


def test_a_good_configuration_shows_no_secret(
    tmp_path: Path, bot_log: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bot.toml"
    path.write_text(
        f'database_url = "postgresql://bot:{DB_PASSWORD}@db/buendnis"\n'
        f'secret_key = "{SECRET_KEY}"\nlog_level = "DEBUG"\n'
        f'[telegram]\ntoken = "{TOKEN}"\nwebhook_secret = "{WEBHOOK_SECRET}"\n'
        '[matrix]\nhomeserver = "https://matrix.example.org"\nuser_id = "@bot:example.org"\n'
        f'password = "{MATRIX_PASSWORD}"\naccess_token = "{MATRIX_ACCESS_TOKEN}"\n',
        encoding="utf-8",
    )

    assert main(["--config", str(path), "check-config"]) == 0

    logging.getLogger("tests.secrets").debug("settings %r, token %s", path, TOKEN)
    captured = capsys.readouterr()
    assert "configuration OK" in captured.out
    assert leaks(captured.out + captured.err) == []
