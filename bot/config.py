"""Settings from a TOML file, overridden by environment variables.

Any invalid value stops start-up with one line that names the key (ConfigError).
Secrets are wrapped so that they never show in a repr, a log line or an error.
What the settings are (the dataclasses, `Secret`, `data_file`) is in bot/settings.py;
they are importable from here too, where the rest of the bot has always found them.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config_web import ENV_WEB, web_settings
from bot.settings import (
    DEFAULT_DATABASE_URL,
    LOCAL_CONFIG_DIR,
    PACKAGED_DEFAULTS,
    MatrixSettings,
    PrivacySettings,
    Secret,
    Settings,
    TelegramSettings,
    data_file,
)

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_DATABASE_URL",
    "ENV",
    "LANGUAGES",
    "LOCAL_CONFIG_DIR",
    "PACKAGED_DEFAULTS",
    "ConfigError",
    "MatrixSettings",
    "PrivacySettings",
    "Secret",
    "Settings",
    "TelegramSettings",
    "check_webhook_secret",
    "data_file",
    "load_settings",
]

DEFAULT_CONFIG = Path("config/buendnisbot.toml")
LANGUAGES = ("de", "en")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_ADMIN = re.compile(r"^(telegram:-?\d+|matrix:@[^:\s]+:\S+|console:\S+)$")


class ConfigError(ValueError):
    """A configuration problem, phrased for the person who runs the bot."""


ENV = {
    "database_url": "BUENDNISBOT_DATABASE_URL",
    "language": "BUENDNISBOT_LANGUAGE",
    "timezone": "BUENDNISBOT_TIMEZONE",
    "survey_poll_days": "BUENDNISBOT_SURVEY_POLL_DAYS",
    "admins": "BUENDNISBOT_ADMINS",
    "log_level": "BUENDNISBOT_LOG_LEVEL",
    "log_payloads": "BUENDNISBOT_LOG_PAYLOADS",
    "heartbeat_file": "BUENDNISBOT_HEARTBEAT_FILE",
    "secret_key": "BUENDNISBOT_SECRET_KEY",
    "secret_key_file": "BUENDNISBOT_SECRET_KEY_FILE",
    "reminders.offsets": "BUENDNISBOT_REMINDER_OFFSETS",
    "limits.commands_per_minute": "BUENDNISBOT_COMMANDS_PER_MINUTE",
    "limits.burst": "BUENDNISBOT_COMMAND_BURST",
    "telegram.token": "BUENDNISBOT_TELEGRAM_TOKEN",
    "telegram.mode": "BUENDNISBOT_TELEGRAM_MODE",
    "telegram.webhook_url": "BUENDNISBOT_TELEGRAM_WEBHOOK_URL",
    "telegram.webhook_secret": "BUENDNISBOT_TELEGRAM_WEBHOOK_SECRET",
    "telegram.webhook_listen": "BUENDNISBOT_TELEGRAM_WEBHOOK_LISTEN",
    "telegram.base_url": "BUENDNISBOT_TELEGRAM_BASE_URL",
    "matrix.homeserver": "BUENDNISBOT_MATRIX_HOMESERVER",
    "matrix.user_id": "BUENDNISBOT_MATRIX_USER_ID",
    "matrix.password": "BUENDNISBOT_MATRIX_PASSWORD",
    "matrix.access_token": "BUENDNISBOT_MATRIX_ACCESS_TOKEN",
    "matrix.store_path": "BUENDNISBOT_MATRIX_STORE",
    "matrix.device_id": "BUENDNISBOT_MATRIX_DEVICE_ID",
    "matrix.space": "BUENDNISBOT_MATRIX_SPACE",
    "privacy.controller": "BUENDNISBOT_PRIVACY_CONTROLLER",
    "privacy.address": "BUENDNISBOT_PRIVACY_ADDRESS",
    "privacy.email": "BUENDNISBOT_PRIVACY_EMAIL",
    "privacy.retention": "BUENDNISBOT_PRIVACY_RETENTION",
    "privacy.authority": "BUENDNISBOT_PRIVACY_AUTHORITY",
    **ENV_WEB,
}


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    explicit = path or (Path(env["BUENDNISBOT_CONFIG"]) if env.get("BUENDNISBOT_CONFIG") else None)
    data: dict[str, Any] = {}
    if explicit is not None:
        if not explicit.exists():
            raise ConfigError(f"BUENDNISBOT_CONFIG: file not found: {explicit}")
        data = _read_toml(explicit)
    elif DEFAULT_CONFIG.exists():
        data = _read_toml(DEFAULT_CONFIG)

    flat = _flatten(data)
    for key, var in ENV.items():
        if env.get(var, "").strip():
            flat[key] = env[var].strip()
    return _build(flat, data.get("chat_languages", {}))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in (
            "telegram",
            "matrix",
            "console",
            "reminders",
            "limits",
            "privacy",
            "web",
        ) and isinstance(value, Mapping):
            for sub, subvalue in value.items():
                flat[f"{key}.{sub}"] = subvalue
        elif key != "chat_languages":
            flat[key] = value
    return flat


def _name(key: str) -> str:
    """How to name a key in an error: the TOML key and its environment variable."""
    return f"{key} ({ENV[key]})" if key in ENV else key


def _str(flat: Mapping[str, Any], key: str, default: str = "") -> str:
    value = flat.get(key, default)
    if not isinstance(value, str | int):
        raise ConfigError(f"{_name(key)}: expected text, got {type(value).__name__}")
    return str(value).strip()


def _build(flat: dict[str, Any], chat_languages: Any) -> Settings:
    known = set(ENV) | {
        "ags_file", "survey_file", "chat_languages", "telegram.webhook_port",
        "matrix.allowed_inviters", "console.user", "reminders.parallel_sends",
    }  # fmt: skip
    for key in flat:
        if key not in known:
            raise ConfigError(f"{key}: unknown setting (see config/buendnisbot.example.toml)")

    language = _str(flat, "language", "de").lower()
    if language not in LANGUAGES:
        raise ConfigError(
            f"{_name('language')}: must be one of {', '.join(LANGUAGES)}, not {language!r}"
        )
    timezone = _str(flat, "timezone", "Europe/Berlin")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{_name('timezone')}: unknown time zone {timezone!r}") from None
    log_level = _str(flat, "log_level", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{_name('log_level')}: must be DEBUG, INFO, WARNING or ERROR")

    admins_raw = flat.get("admins", [])
    admins = (
        [a.strip() for a in admins_raw.split(",")] if isinstance(admins_raw, str) else admins_raw
    )
    if not isinstance(admins, list):
        raise ConfigError(f"{_name('admins')}: expected a list of account ids")
    for admin in admins:
        if not isinstance(admin, str) or not _ADMIN.match(admin.strip()):
            raise ConfigError(
                f"{_name('admins')}: {admin!r} is not telegram:ID, matrix:@user:server or console:NAME"
            )

    if not isinstance(chat_languages, Mapping) or any(
        v not in LANGUAGES for v in chat_languages.values()
    ):
        raise ConfigError(f"chat_languages: values must be one of {', '.join(LANGUAGES)}")

    database_url = _str(flat, "database_url", DEFAULT_DATABASE_URL)
    if not database_url.startswith(
        ("sqlite+aiosqlite://", "postgresql+asyncpg://", "postgresql://")
    ):
        raise ConfigError(
            f"{_name('database_url')}: use sqlite+aiosqlite:///path or postgresql+asyncpg://..."
        )
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+asyncpg://" + database_url.removeprefix("postgresql://")

    return Settings(
        database_url=database_url,
        language=language,
        timezone=timezone,
        admins=frozenset(a.strip() for a in admins),
        chat_languages=dict(chat_languages),
        ags_file=data_file("ags.toml", _str(flat, "ags_file")),
        survey_file=data_file("survey.toml", _str(flat, "survey_file")),
        survey_poll_days=_count(flat, "survey_poll_days", 14, 1, 365),
        log_level=log_level,
        log_payloads=_bool(flat, "log_payloads"),
        console_user=_str(flat, "console.user", "du") or "du",
        heartbeat_file=Path(_str(flat, "heartbeat_file", "data/heartbeat")),
        telegram=_telegram(flat),
        matrix=_matrix(flat),
        secret_key=Secret(_str(flat, "secret_key")),
        secret_key_file=Path(key_file) if (key_file := _str(flat, "secret_key_file")) else None,
        reminder_offsets=_reminder_offsets(flat),
        reminder_parallel_sends=_parallel_sends(flat),
        commands_per_minute=_count(flat, "limits.commands_per_minute", 20, 0, 6000),
        command_burst=_count(flat, "limits.burst", 5, 1, 1000),
        privacy=_privacy(flat),
        web=web_settings(flat, _str, ConfigError),
    )


def _privacy(flat: Mapping[str, Any]) -> PrivacySettings:
    """The operator's part of `/privacy`; each may be left out (then it says so)."""
    email = _str(flat, "privacy.email")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise ConfigError(f"{_name('privacy.email')}: {email!r} is not an e-mail address")
    return PrivacySettings(
        controller=_str(flat, "privacy.controller"),
        address=_str(flat, "privacy.address"),
        email=email,
        retention=_str(flat, "privacy.retention"),
        authority=_str(flat, "privacy.authority"),
    )


def _bool(flat: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """true/false in the file; from the environment also 1/0, yes/no."""
    value = flat.get(key, default)
    if isinstance(value, str):
        value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(
            value.strip().lower(), value
        )
    if not isinstance(value, bool):
        raise ConfigError(f"{_name(key)}: must be true or false")
    return value


def _count(flat: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    """A whole number from `low` to `high` (from the environment it arrives as text)."""
    value = flat.get(key, default)
    if isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{_name(key)}: must be a whole number from {low} to {high}")
    return value


def _reminder_offsets(flat: Mapping[str, Any]) -> tuple[timedelta, ...]:
    """`"1d 1h"` (or a list `["1d", "1h"]`): how long before a meeting reminders go out."""
    from bot.when import WhenError, parse_offsets

    raw = flat.get("reminders.offsets", "1d 1h")
    items = raw.split() if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f'{_name("reminders.offsets")}: expected text like "1d 1h"')
    try:
        return tuple(parse_offsets(items))
    except WhenError:
        raise ConfigError(
            f'{_name("reminders.offsets")}: {raw!r} is not a list of offsets like "2d 1h 10m" '
            "(each between 1m and 30d, at most ten)"
        ) from None


def _parallel_sends(flat: Mapping[str, Any]) -> int:
    value = flat.get("reminders.parallel_sends", 8)
    if not isinstance(value, int) or not 1 <= value <= 100:
        raise ConfigError("reminders.parallel_sends: must be a number from 1 to 100")
    return value


def _telegram(flat: Mapping[str, Any]) -> TelegramSettings | None:
    token = _str(flat, "telegram.token")
    if not token:
        return None
    if not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", token):
        raise ConfigError(
            f"{_name('telegram.token')}: does not look like a BotFather token (123456:ABC...)"
        )
    mode = _str(flat, "telegram.mode", "polling").lower()
    if mode not in ("polling", "webhook"):
        raise ConfigError(f"{_name('telegram.mode')}: must be 'polling' or 'webhook'")
    webhook_url = _str(flat, "telegram.webhook_url")
    if mode == "webhook" and not webhook_url.startswith("https://"):
        raise ConfigError(f"{_name('telegram.webhook_url')}: webhook mode needs an https:// URL")
    port = flat.get("telegram.webhook_port", 8443)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError("telegram.webhook_port: must be a port number")
    secret = _str(flat, "telegram.webhook_secret")
    if mode == "webhook":
        check_webhook_secret(secret, _name("telegram.webhook_secret"))
    base_url = _str(flat, "telegram.base_url").rstrip("/")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{_name('telegram.base_url')}: needs a URL like http://127.0.0.1:8081 (or leave it out)"
        )
    return TelegramSettings(
        token=Secret(token),
        mode=mode,
        webhook_url=webhook_url,
        webhook_listen=_str(flat, "telegram.webhook_listen", "127.0.0.1") or "127.0.0.1",
        webhook_port=port,
        webhook_secret=Secret(secret),
        base_url=base_url,
    )


def check_webhook_secret(secret: str, name: str = "telegram.webhook_secret") -> None:
    """Webhook mode only with a secret: without one, anyone who finds the URL can post
    updates in anybody's name (an admin's `from.id` included), and the bot would obey."""
    if not secret:
        raise ConfigError(
            f"{name}: webhook mode needs a secret, or anyone who finds the URL can send "
            "updates in anybody's name; set 1-256 characters A-Z, a-z, 0-9, _ and -"
        )
    if not _WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError(f"{name}: use 1-256 characters A-Z, a-z, 0-9, _ and - only")


def _matrix(flat: Mapping[str, Any]) -> MatrixSettings | None:
    homeserver = _str(flat, "matrix.homeserver")
    user_id = _str(flat, "matrix.user_id")
    password = _str(flat, "matrix.password")
    token = _str(flat, "matrix.access_token")
    if not (homeserver or user_id or password or token):
        return None
    if not homeserver.startswith(("http://", "https://")):
        raise ConfigError(
            f"{_name('matrix.homeserver')}: needs a URL like https://matrix.example.org"
        )
    if not re.fullmatch(r"@[^:\s]+:\S+", user_id):
        raise ConfigError(f"{_name('matrix.user_id')}: needs a full user id like @bot:example.org")
    if not (password or token):
        raise ConfigError(
            f"{_name('matrix.password')}: set a password or {_name('matrix.access_token')}"
        )
    inviters = flat.get("matrix.allowed_inviters", [])
    if not isinstance(inviters, list) or not all(isinstance(i, str) for i in inviters):
        raise ConfigError(
            "matrix.allowed_inviters: expected a list like ['@anna:example.org', ':example.org']"
        )
    space = _str(flat, "matrix.space")
    if space and not re.fullmatch(r"#[^:\s]+:\S+|!\S+", space):
        raise ConfigError(
            f"{_name('matrix.space')}: needs a room id or alias like #buendnis:example.org"
        )
    server = user_id.split(":", 1)[1]
    return MatrixSettings(
        homeserver=homeserver.rstrip("/"),
        user_id=user_id,
        password=Secret(password),
        access_token=Secret(token),
        device_id=_str(flat, "matrix.device_id", "BUENDNISBOT") or "BUENDNISBOT",
        store_path=Path(_str(flat, "matrix.store_path", "data/matrix-store")),
        allowed_inviters=tuple(inviters) if inviters else (f":{server}",),
        space=space,
    )
