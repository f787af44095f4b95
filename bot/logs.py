"""Logging set-up: one format, quiet HTTP libraries, and secrets redacted everywhere.

httpx logs every request URL at INFO, and a Telegram URL contains the bot token; the
redacting filter is the safety net for that and anything like it.

At DEBUG the libraries log whole payloads: python-telegram-bot every getUpdates answer and
update (message texts, `/connect` codes, private `/vote`s), nio every event, aiosqlite every
query with its parameters. Those loggers stay at INFO unless `log_payloads` asks for them;
the bot's own DEBUG lines (ids and outcomes, never texts) are not affected.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable

NOISY = (
    "httpx",
    "httpcore",
    "telegram.ext.Updater",
    "apscheduler",
    "nio",
    "aiohttp.access",
    "alembic.runtime.plugins",  # seven "setup plugin" lines on every start
)
# Loggers that print what people wrote (see the module's docstring).
PAYLOADS = ("telegram", "nio", "aiosqlite")
PSEUDONYM_LENGTH = 10  # hex characters: enough to tell people apart in one log
# The key of the log pseudonyms: part of the logging set-up, like the handlers. Random
# until `use_pseudonym_key` derives it from the bot's secret key at start-up.
_pseudonym_key = [secrets.token_bytes(32)]


def use_pseudonym_key(secret: bytes) -> None:
    """Derive the pseudonyms' key from the bot's secret key, so an account keeps its
    pseudonym across restarts; the secret itself never keys anything but its own use."""
    _pseudonym_key[0] = hmac.new(secret, b"buendnisbot/log-pseudonym", hashlib.sha256).digest()


def pseudonym(platform: str, external_id: str | int) -> str:
    """What the log says instead of an account, private chat or room id: a keyed hash,
    the same for the same id, telling nothing about it to anyone without the bot's key.
    `/privacy` promises that accounts are kept as internal numbers only; ids in the log
    would break that."""
    message = f"{platform}:{external_id}".encode()
    return hmac.new(_pseudonym_key[0], message, hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:
            # A malformed call (`log.info("%s %s", one)`): raising here would reach the
            # caller, and logging's own error report would print the raw arguments.
            message = f"{record.msg} {record.args!r}"
        redacted = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return True

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def setup_logging(level: str, secrets: Iterable[str] = (), *, payloads: bool = False) -> None:
    """`payloads`: let the libraries' payload loggers (`PAYLOADS`) log at `level` too."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in PAYLOADS:
        logger = logging.getLogger(name)
        if payloads:
            logger.setLevel(root.level)
        else:
            logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
