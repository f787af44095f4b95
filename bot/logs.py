"""Logging set-up: one format, quiet HTTP libraries, and secrets redacted everywhere.

httpx logs every request URL at INFO, and a Telegram URL contains the bot token; the
redacting filter is the safety net for that and anything like it.
"""

from __future__ import annotations

import logging
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


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
