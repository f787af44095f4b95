"""One vote per account and person in anonymous polls, without storing who voted.

The bot keeps a keyed hash (HMAC-SHA256) of the poll and the voter's network account
(network and account id) instead of the voter: it recognises a second vote, so the vote
can be changed, but the database alone does not say whose it is, and no log line names
the voter. The key lives outside the database (setting `secret_key`, or a file created
on first use); when a poll closes, the hashes are erased, so afterwards not even the key
links a vote to anyone.

Why the account and not the person: a person is a grouping of accounts that changes
(`/forget` deletes it and the same account comes back as a new person; `/connect` and
`/disconnect` merge and split people), while the account on the network stays the same.
A hash of the account finds the earlier ballot whatever happened to the person in
between. A person with several accounts has one ballot: a vote looks for the hashes of
all the person's accounts (storage/polls/ballots.py `tokens_of`), and the hash of the
person id (`legacy`, how ballots were keyed before) is looked for too, so a ballot cast
before the change is still found while its poll runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings
from storage.cluster import state
from storage.db import Database

# `bot_state` row with HMAC(key, KEY_CHECK_MESSAGE): every process checks its key against it.
KEY_CHECK = "secret_key.check"
KEY_CHECK_MESSAGE = b"buendnisbot/key-check"


class SecretKeyError(RuntimeError):
    """The secret key is missing or not the one the other processes use (start refused)."""


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


def new_key() -> str:
    """A fresh key, as `buendnisbot secret` prints it."""
    return secrets.token_hex(32)


def fingerprint(key: bytes) -> str:
    return hmac.new(key, KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()


def _refuses_new_file(settings: Settings) -> bool:
    """PostgreSQL means maybe several processes, each with a data folder of its own: a
    key file made in one of them would differ from the others', so none is made unless
    the configuration names the file (a shared volume)."""
    return (
        settings.database_url.startswith("postgresql")
        and not settings.secret_key
        and settings.secret_key_file is None
        and not settings.key_file.exists()
    )


async def agreed_key(settings: Settings, db: Database) -> bytes:
    """The key, checked against the fingerprint the first process stored; at start-up.

    The key itself never goes into the database: a copy of the database alone must not
    tell whose an anonymous ballot is."""
    if _refuses_new_file(settings):
        raise SecretKeyError(
            "no secret key configured. With PostgreSQL every process needs the same one: "
            "set secret_key (BUENDNISBOT_SECRET_KEY) or secret_key_file to the same value "
            "or file for all of them (`buendnisbot secret` prints a new key)"
        )
    key = await secret_key(settings)
    mine = fingerprint(key)
    stored = await db.run(lambda session: state.put_first(session, KEY_CHECK, mine))
    if not hmac.compare_digest(stored, mine):
        raise SecretKeyError(
            "the secret key differs from the one the database was started with (another "
            "process or an earlier start used another key): anonymous ballots and /connect "
            "codes would not match. Give this process the same secret_key or "
            "secret_key_file as the others"
        )
    return key


@dataclass(frozen=True)
class VoterKeys:
    """The anonymous-ballot hashes under one key (storage.polls.ballots.TokenKeys)."""

    key: bytes = field(repr=False)

    def account(self, poll_id: int, platform: str, external_id: str) -> str:
        message = json.dumps(["buendnisbot/anonymous-ballot", poll_id, platform, external_id])
        return hmac.new(self.key, message.encode(), hashlib.sha256).hexdigest()

    def legacy(self, poll_id: int, person_id: int) -> str:
        message = f"buendnisbot/anonymous-vote/{poll_id}/{person_id}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()


async def voter_keys(settings: Settings) -> VoterKeys:
    return VoterKeys(await secret_key(settings))


async def account_token(settings: Settings, poll_id: int, platform: str, external_id: str) -> str:
    """The hash an anonymous ballot of this account in this poll is stored under."""
    return (await voter_keys(settings)).account(poll_id, platform, external_id)
