"""Link tokens: random, URL-safe, 192 bits; stored only as a keyed hash.

The hash is HMAC-SHA256 under the bot's secret key (the one that keys anonymous ballots,
handlers/polls/secret.py), with a purpose-specific prefix, so a copy of the database
without the key opens no feed, and the token cannot be read back from it: `/kalender`
shows a link once; `/kalender neu` makes a new one and revokes the old.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.settings import Settings
from handlers.polls.secret import secret_key

TOKEN_BYTES = 24  # 32 characters of URL-safe base64


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest_with(key: bytes, token: str) -> str:
    message = b"buendnisbot/web-token/" + token.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def digest(settings: Settings, token: str) -> str:
    return digest_with(await secret_key(settings), token)
