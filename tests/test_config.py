"""Settings: a TOML file, environment overrides, one clear line per mistake, and secrets
that never show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Secret, load_settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAHk1-secret_Token_value_XYZ"
PASSWORD = "correct horse battery staple"


def settings_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "buendnisbot.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_example_configuration_is_valid() -> None:
    settings = load_settings(ROOT / "config" / "buendnisbot.example.toml", environ={})

    assert settings.language == "de"
    assert settings.timezone == "Europe/Berlin"
    assert settings.admins == frozenset({"console:anna"})
    assert settings.telegram is None, "an empty token means no Telegram"
    assert settings.matrix is None


def test_nothing_configured_gives_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(settings_file(tmp_path, ""), environ={})

    assert settings.database_url == "sqlite+aiosqlite:///data/buendnisbot.db"
    assert (settings.language, settings.timezone, settings.log_level) == (
        "de",
        "Europe/Berlin",
        "INFO",
    )
    assert settings.admins == frozenset()
    assert settings.telegram is None
    assert settings.matrix is None


def test_a_file_with_every_section(tmp_path: Path) -> None:
    path = settings_file(
        tmp_path,
        f"""
database_url = "postgresql://bot:pw@db/buendnis"
language = "en"
timezone = "Europe/Berlin"
admins = ["telegram:123456789", "matrix:@anna:example.org", "console:anna"]
ags_file = "/etc/buendnisbot/ags.toml"
log_level = "debug"

[chat_languages]
"telegram:-1001234567890" = "en"

[telegram]
token = "{TOKEN}"
mode = "webhook"
webhook_url = "https://bot.example.org/telegram"
webhook_port = 8443
webhook_secret = "s3cret_Token-42"

[matrix]
homeserver = "https://matrix.example.org/"
user_id = "@buendnisbot:example.org"
password = "{PASSWORD}"

[console]
user = "anna"
""",
    )

    settings = load_settings(path, environ={})

    assert settings.database_url == "postgresql+asyncpg://bot:pw@db/buendnis"
    assert settings.language == "en"
    assert settings.is_admin("telegram", "123456789")
    assert settings.is_admin("matrix", "@anna:example.org")
    assert not settings.is_admin("telegram", "987")
    assert settings.chat_languages == {"telegram:-1001234567890": "en"}
    assert str(settings.ags_file) == "/etc/buendnisbot/ags.toml"
    assert settings.log_level == "DEBUG"
    assert settings.console_user == "anna"
    assert settings.telegram is not None
    assert settings.telegram.token.reveal() == TOKEN
    assert settings.telegram.mode == "webhook"
    assert settings.telegram.webhook_listen == "127.0.0.1", "local only unless configured"
    assert settings.matrix is not None
    assert settings.matrix.homeserver == "https://matrix.example.org"
    assert settings.matrix.server_name == "example.org"
    assert settings.matrix.password.reveal() == PASSWORD
    assert settings.matrix.allowed_inviters == (":example.org",)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = settings_file(tmp_path, 'language = "de"\nadmins = ["console:anna"]\n')
    environ = {
        "BUENDNISBOT_LANGUAGE": "en",
        "BUENDNISBOT_ADMINS": "telegram:1, console:ben",
        "BUENDNISBOT_TELEGRAM_TOKEN": TOKEN,
        "BUENDNISBOT_DATABASE_URL": "sqlite+aiosqlite:////var/lib/bot.db",
        "BUENDNISBOT_TIMEZONE": "  ",  # blank: the file's value (here the default) stays
    }

    settings = load_settings(path, environ=environ)

    assert settings.language == "en"
    assert settings.admins == frozenset({"telegram:1", "console:ben"})
    assert settings.telegram is not None
    assert settings.telegram.token.reveal() == TOKEN
    assert settings.database_url == "sqlite+aiosqlite:////var/lib/bot.db"
    assert settings.timezone == "Europe/Berlin"


def test_the_webhook_address_can_be_configured(tmp_path: Path) -> None:
    path = settings_file(
        tmp_path,
        f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\nwebhook_url = "https://x/h"\n'
        'webhook_secret = "s3cret"\nwebhook_listen = "10.0.0.5"\n',
    )

    assert load_settings(path, environ={}).telegram.webhook_listen == "10.0.0.5"  # type: ignore[union-attr]
    from_env = load_settings(path, environ={"BUENDNISBOT_TELEGRAM_WEBHOOK_LISTEN": "0.0.0.0"})
    assert from_env.telegram is not None
    assert from_env.telegram.webhook_listen == "0.0.0.0"


def test_the_file_can_be_named_by_the_environment(tmp_path: Path) -> None:
    path = settings_file(tmp_path, 'language = "en"\n')

    assert load_settings(environ={"BUENDNISBOT_CONFIG": str(path)}).language == "en"


def test_a_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^BUENDNISBOT_CONFIG: file not found"):
        load_settings(environ={"BUENDNISBOT_CONFIG": str(tmp_path / "nope.toml")})


MATRIX = 'homeserver = "https://matrix.example.org"\nuser_id = "@bot:example.org"\n'


@pytest.mark.parametrize(
    ("body", "environ", "key"),
    [
        ("", {"BUENDNISBOT_TIMEZONE": "Europe/Bärlin"}, "BUENDNISBOT_TIMEZONE"),
        ('timezone = "Mars/Olympus"', {}, "BUENDNISBOT_TIMEZONE"),
        ('language = "fr"', {}, "BUENDNISBOT_LANGUAGE"),
        ("", {"BUENDNISBOT_LANGUAGE": "klingonisch"}, "BUENDNISBOT_LANGUAGE"),
        ('admins = ["anna"]', {}, "BUENDNISBOT_ADMINS"),
        ('admins = "telegram:@anna"', {}, "BUENDNISBOT_ADMINS"),
        ("", {"BUENDNISBOT_ADMINS": "telegram:1,matrix:anna"}, "BUENDNISBOT_ADMINS"),
        ("admins = [1]", {}, "BUENDNISBOT_ADMINS"),
        ('database_url = "mysql://bot@db/x"', {}, "BUENDNISBOT_DATABASE_URL"),
        ("", {"BUENDNISBOT_DATABASE_URL": "data/bot.db"}, "BUENDNISBOT_DATABASE_URL"),
        ('log_level = "LOUD"', {}, "BUENDNISBOT_LOG_LEVEL"),
        ("", {"BUENDNISBOT_TELEGRAM_TOKEN": "not-a-token"}, "BUENDNISBOT_TELEGRAM_TOKEN"),
        ('[telegram]\ntoken = "123:short"', {}, "BUENDNISBOT_TELEGRAM_TOKEN"),
        (f'[telegram]\ntoken = "{TOKEN}"\nmode = "push"', {}, "BUENDNISBOT_TELEGRAM_MODE"),
        (
            f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\nwebhook_url = "http://x"',
            {},
            "BUENDNISBOT_TELEGRAM_WEBHOOK_URL",
        ),
        (f'[telegram]\ntoken = "{TOKEN}"\nwebhook_port = 70000', {}, "telegram.webhook_port"),
        (
            f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\nwebhook_url = "https://x/h"',
            {},
            "BUENDNISBOT_TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\nwebhook_url = "https://x/h"\n'
            'webhook_secret = "with spaces"',
            {},
            "BUENDNISBOT_TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            '[matrix]\nhomeserver = "https://m.org"\nuser_id = "buendnisbot"\npassword = "x"',
            {},
            "BUENDNISBOT_MATRIX_USER_ID",
        ),
        (
            '[matrix]\nhomeserver = "https://m.org"\nuser_id = "@bot"\npassword = "x"',
            {},
            "BUENDNISBOT_MATRIX_USER_ID",
        ),
        ("[matrix]\n" + MATRIX, {}, "BUENDNISBOT_MATRIX_PASSWORD"),
        (
            '[matrix]\nhomeserver = "matrix.example.org"\nuser_id = "@bot:m.org"\npassword = "x"',
            {},
            "BUENDNISBOT_MATRIX_HOMESERVER",
        ),
        (
            "[matrix]\n" + MATRIX + 'password = "x"\nallowed_inviters = "@anna:m.org"',
            {},
            "matrix.allowed_inviters",
        ),
        ("[matrix]\n" + MATRIX + 'password = "x"\nspace = "buendnis"', {}, "matrix.space"),
        ('databse_url = "sqlite+aiosqlite:///x.db"', {}, "databse_url"),
        ('[telegram]\ntokne = "x"', {}, "telegram.tokne"),
        ('[chat_languages]\n"telegram:-1" = "fr"', {}, "chat_languages"),
        ("language = ", {}, "not valid TOML"),
    ],
)
def test_each_invalid_value_names_its_key(
    tmp_path: Path, body: str, environ: dict[str, str], key: str
) -> None:
    path = settings_file(tmp_path, body)

    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ=environ)

    message = str(raised.value)
    assert key in message
    assert "\n" not in message


def test_an_error_never_repeats_the_secret(tmp_path: Path) -> None:
    token = "123456:tooshort-but-secret"
    with pytest.raises(ConfigError) as raised:
        load_settings(settings_file(tmp_path, ""), environ={"BUENDNISBOT_TELEGRAM_TOKEN": token})

    assert token not in str(raised.value)


# --- secrets ---------------------------------------------------------------------------------


def test_secrets_never_show_in_settings(tmp_path: Path) -> None:
    settings = load_settings(
        settings_file(tmp_path, ""),
        environ={
            "BUENDNISBOT_TELEGRAM_TOKEN": TOKEN,
            "BUENDNISBOT_TELEGRAM_MODE": "webhook",
            "BUENDNISBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hook",
            "BUENDNISBOT_TELEGRAM_WEBHOOK_SECRET": "webhook-secret-4711",
            "BUENDNISBOT_MATRIX_HOMESERVER": "https://matrix.example.org",
            "BUENDNISBOT_MATRIX_USER_ID": "@bot:example.org",
            "BUENDNISBOT_MATRIX_PASSWORD": PASSWORD,
            "BUENDNISBOT_MATRIX_ACCESS_TOKEN": "syt_access_token_0815",
        },
    )
    assert settings.telegram is not None
    assert settings.matrix is not None
    token = settings.telegram.token

    shown = [
        repr(settings),
        str(settings),
        f"{settings}",
        f"{settings!r}",
        "%s %r" % (settings, settings),  # noqa: UP031 - the way logging formats
        repr(settings.telegram),
        str(token),
        f"{token}",
        f"{token:>40}",
        "{}".format(token),  # noqa: UP032
        "%s" % token,  # noqa: UP031
        repr(token),
    ]

    for value in (TOKEN, "webhook-secret-4711", PASSWORD, "syt_access_token_0815"):
        assert not any(value in s for s in shown), value
    assert "***" in repr(settings)
    assert token.reveal() == TOKEN
    assert token == TOKEN, "still the real string for the library that needs it"


def test_an_empty_secret_shows_as_empty() -> None:
    assert repr(Secret("")) == "Secret('')"
    assert f"{Secret('')}" == ""
    assert not Secret("")


# --- `python -m bot check-config` ------------------------------------------------------------


def run_bot(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUENDNISBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('timezone = "Europe/Bärlin"', "BUENDNISBOT_TIMEZONE"),
        ('[matrix]\nhomeserver = "https://m.org"\nuser_id = "@bot:m.org"', "MATRIX_PASSWORD"),
        ('telegram_token = "x"', "telegram_token"),
        (
            f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\nwebhook_url = "https://x/h"',
            "webhook mode needs a secret",
        ),
    ],
)
def test_check_config_reports_one_line_naming_the_key(tmp_path: Path, body: str, key: str) -> None:
    bad = settings_file(tmp_path, body)

    result = run_bot("--config", str(bad), "check-config")

    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("buendnisbot: configuration error: ")
    assert key in line


def test_check_config_accepts_a_good_file(tmp_path: Path) -> None:
    good = settings_file(tmp_path, 'language = "en"\nadmins = ["console:anna"]\n')

    result = run_bot("--config", str(good), "check-config")

    assert (result.returncode, result.stdout, result.stderr) == (0, "configuration OK\n", "")


@pytest.mark.parametrize(
    ("body", "environ", "space"),
    [
        ('password = "x"\n', {}, ""),
        ('password = "x"\nspace = "#buendnis:example.org"\n', {}, "#buendnis:example.org"),
        ('password = "x"\nspace = "!abcDEF123"\n', {}, "!abcDEF123"),  # room v12 ids
        ('password = "x"\n', {"BUENDNISBOT_MATRIX_SPACE": "!x:example.org"}, "!x:example.org"),
    ],
)
def test_the_matrix_space(tmp_path: Path, body: str, environ: dict[str, str], space: str) -> None:
    settings = load_settings(settings_file(tmp_path, "[matrix]\n" + MATRIX + body), environ=environ)
    assert settings.matrix is not None
    assert settings.matrix.space == space
