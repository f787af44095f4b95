"""What the bot's settings are: one frozen dataclass per part (the bot, Telegram,
Matrix), the `Secret` string that never shows itself, and where the alliance's data files
are read from. Reading and checking them is bot/config.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/buendnisbot.db"
LOCAL_CONFIG_DIR = Path("config")
PACKAGED_DEFAULTS = Path(__file__).parent / "defaults"


def data_file(name: str, explicit: str = "") -> Path:
    """Where the alliance's AG list (`ags.toml`) or survey (`survey.toml`) is read from:
    the explicit setting; else `config/<name>` in the folder the bot is started in, if
    there is one (the copy people edit, e.g. /app/config in the Docker image); else the
    copy installed with the bot, so that `buendnisbot console` started anywhere has the
    alliance's AGs and survey.

    One source of truth: `config/ags.toml` and `config/survey.toml` in the repository.
    `bot/defaults/` holds only symbolic links to them, which the wheel build resolves
    into real files (package data), so the installed defaults are always what
    `config/` held when the bot was built.
    """
    if explicit:
        return Path(explicit)
    local = LOCAL_CONFIG_DIR / name
    return local if local.is_file() else PACKAGED_DEFAULTS / name


class Secret(str):
    """A string that hides itself in reprs and formatted output."""

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"

    def __format__(self, spec: str) -> str:
        return "***" if self else ""

    def reveal(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return "***" if self else ""


@dataclass(frozen=True)
class TelegramSettings:
    token: Secret
    mode: str = "polling"
    webhook_url: str = ""
    # Local only by default: a reverse proxy (nginx, Caddy) takes Telegram's https calls.
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: Secret = Secret("")
    # The Bot API server, as "http://host:port" (its methods under /bot<token>/): empty
    # for Telegram's own; a self-hosted telegram-bot-api server, or a test's.
    base_url: str = ""


@dataclass(frozen=True)
class WebSettings:
    """The bot's small HTTP server (bot/web/): where it listens and the https address
    people reach it at, through a reverse proxy. Absent: no server, no calendar feeds."""

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""  # e.g. https://bot.example.org (no trailing slash)
    # Requests larger than this are refused (413) before they are read.
    max_body_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class MatrixSettings:
    homeserver: str
    user_id: str
    password: Secret = Secret("")
    access_token: Secret = Secret("")
    device_id: str = "BUENDNISBOT"
    store_path: Path = Path("data/matrix-store")
    allowed_inviters: tuple[str, ...] = ()
    # The alliance's Space ("!id:server" or "#alias:server"); one set with /space wins.
    space: str = ""

    @property
    def server_name(self) -> str:
        return self.user_id.split(":", 1)[1]


@dataclass(frozen=True)
class PrivacySettings:
    """The operator's part of the data-protection notice (`/privacy`), as the GDPR asks
    (Art. 13): who is responsible, how to reach them, how long data is kept, and where to
    complain. Shown as written; empty: `/privacy` says the operator has not filled it in."""

    controller: str = ""  # name of the person or association responsible
    address: str = ""  # their postal address
    email: str = ""  # contact for data-protection questions
    retention: str = ""  # how long data is kept, in a sentence
    authority: str = ""  # the supervisory authority to complain to (optional)

    @property
    def complete(self) -> bool:
        return all((self.controller, self.address, self.email, self.retention))

    @property
    def empty(self) -> bool:
        return not any((self.controller, self.address, self.email, self.retention))


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    language: str = "de"
    timezone: str = "Europe/Berlin"
    admins: frozenset[str] = frozenset()
    chat_languages: Mapping[str, str] = field(default_factory=dict)
    # Decided when the settings are made (see `data_file`), so in the start's folder.
    ags_file: Path = field(default_factory=lambda: data_file("ags.toml"))
    survey_file: Path = field(default_factory=lambda: data_file("survey.toml"))
    # How long a survey question started in an AG (`/survey 1`) runs without --for/--until.
    survey_poll_days: int = 14
    log_level: str = "INFO"
    # Whole update and request payloads of the libraries (python-telegram-bot, nio,
    # aiosqlite) at DEBUG: they carry message texts, connect codes and private votes.
    log_payloads: bool = False
    console_user: str = "du"
    heartbeat_file: Path = Path("data/heartbeat")
    telegram: TelegramSettings | None = None
    matrix: MatrixSettings | None = None
    web: WebSettings | None = None
    # Keys the one-vote-per-person hashes of anonymous polls. Kept out of the database,
    # so a copy of the database alone cannot tell who voted. Empty: a random key in
    # `secret_key_file`, created on first use.
    secret_key: Secret = Secret("")
    secret_key_file: Path | None = None
    # Meeting reminders: how long before a meeting (per AG overridable with /reminders),
    # and how many sends of one reminder run at once (the networks' limits pace them).
    reminder_offsets: tuple[timedelta, ...] = (timedelta(days=1), timedelta(hours=1))
    reminder_parallel_sends: int = 8
    # Spam protection: commands one person (one account) may give, as a token bucket:
    # `command_burst` at once, refilled at `commands_per_minute`. 0 per minute: no limit.
    # A configuration file without [limits] gets 20 per minute, burst 5 (`load_settings`);
    # a Settings built in code (tests, benchmarks) is unlimited unless it asks.
    commands_per_minute: int = 0
    command_burst: int = 5
    privacy: PrivacySettings = field(default_factory=PrivacySettings)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def key_file(self) -> Path:
        """`secret_key_file`, else next to the SQLite database, else beside the heartbeat."""
        if self.secret_key_file is not None:
            return self.secret_key_file
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url.removeprefix(prefix)).parent / "secret.key"
        return self.heartbeat_file.parent / "secret.key"

    def is_admin(self, platform: str, external_id: str) -> bool:
        return f"{platform}:{external_id}" in self.admins

    def secret_values(self) -> list[str]:
        """The plain value of every secret, for the log's redacting filter: each `Secret`
        field (found by type, so a new one cannot be forgotten) and the database password."""
        from sqlalchemy.engine import make_url

        found = [make_url(self.database_url).password or ""]
        for part in (self, self.telegram, self.matrix):
            if part is None:
                continue
            for each in fields(part):
                value = getattr(part, each.name)
                if isinstance(value, Secret):
                    found.append(value.reveal())
        return [value for value in found if value]
