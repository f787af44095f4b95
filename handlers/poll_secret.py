"""One vote per person in anonymous polls, without storing who voted.

The bot keeps a keyed hash (HMAC-SHA256) of poll and person instead of the person: it
recognises a second vote of the same person, so the vote can be changed, but the
database alone does not say whose it is, and no log line names the voter. The key lives
outside the database (setting `secret_key`, or a file created on first use); when a
poll closes, the hashes are erased, so afterwards not even the key links a vote to
anyone.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from bot.config import Settings


def _read_or_create(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process was first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    return key


def read_key(settings: Settings) -> bytes | None:
    """The key if there is one, without creating it (for the command line)."""
    if settings.secret_key:
        return settings.secret_key.reveal().encode()
    try:
        return settings.key_file.read_bytes().strip() or None
    except FileNotFoundError:
        return None


async def secret_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.reveal().encode()
    key = await asyncio.to_thread(_read_or_create, settings.key_file)
    if not key:
        raise RuntimeError(f"the key file {settings.key_file} is empty")
    return key


async def voter_token(settings: Settings, poll_id: int, person_id: int) -> str:
    key = await secret_key(settings)
    message = f"buendnisbot/anonymous-vote/{poll_id}/{person_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
