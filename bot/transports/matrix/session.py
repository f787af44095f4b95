"""The bot's Matrix session on disk: access token and device id beside nio's store,
owner-only, so a restart reuses the device and its encryption keys."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "credentials.json"


@dataclass(frozen=True)
class Credentials:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str


def read_credentials(path: Path) -> Credentials | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(
            str(data["homeserver"]),
            str(data["user_id"]),
            str(data["device_id"]),
            str(data["access_token"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable %s; logging in with the password", path.name)
        return None


def write_credentials(path: Path, creds: Credentials) -> None:
    """Owner-only file, written whole (temp file + rename) so a crash never leaves half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        path.parent.chmod(0o700)  # the store beside it holds the device's private keys
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(creds.__dict__, fh)
    os.replace(tmp, path)


def prepare_store(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        path.chmod(0o700)
