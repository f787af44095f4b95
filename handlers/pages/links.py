"""Page links: personal, random (the feed tokens' kind, handlers/calendar/tokens.py),
stored as keyed hashes with purpose `page`, valid for LIFETIME and revocable.

Scopes: `poll:<id>` (a poll's result), `datepoll:<id>` (a Terminumfrage's grid, where
the link's owner can answer), `ag:<id>` (an AG's overview, for leads). A new link for
the same thing revokes the old one; `/seite aus` revokes them all.

The answer form carries a nonce: a keyed hash of the token and the time the page was
made, valid for NONCE_LIFETIME. The token in the path is personal already; the nonce
makes sure a POST comes from a page the bot rendered for that link, recently.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.context import Services
from handlers.calendar.tokens import digest, new_token
from handlers.polls.secret import secret_key
from storage.repo import Session
from storage.web import tokens
from storage.web.models import TokenPurpose, WebToken

PAGE = TokenPurpose.PAGE.value
LIFETIME = timedelta(days=30)
NONCE_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime


async def issue(services: Services, person_id: int, scope: str) -> Issued:
    """A new link to `scope` for the person; their older link to it stops working."""
    token = new_token()
    hashed = await digest(services.settings, token)
    now = services.now()
    expires = now + LIFETIME

    async def work(session: Session) -> None:
        await tokens.revoke(session, person_id, PAGE, (scope,), now)
        await tokens.issue(
            session,
            digest=hashed,
            purpose=PAGE,
            person_id=person_id,
            scope=scope,
            now=now,
            expires_at=expires,
        )

    await services.db.run(work)
    return Issued(token, expires)


async def revoke_all(services: Services, person_id: int) -> int:
    """`/seite aus`: every live page link of the person; how many."""
    now = services.now()

    async def work(session: Session) -> int:
        scopes = await tokens.live_scopes(session, person_id, PAGE)
        return await tokens.revoke(session, person_id, PAGE, tuple(scopes), now)

    return await services.db.run(work)


async def find(services: Services, session: Session, token: str) -> WebToken | None:
    """The live page link of this token (not revoked, not expired), else None."""
    return await tokens.find(session, await digest(services.settings, token), PAGE, services.now())


def url(services: Services, token: str) -> str:
    web = services.settings.web
    assert web is not None
    return f"{web.public_url}/seite/{token}"


async def nonce(services: Services, token: str) -> str:
    stamp = str(int(services.now().timestamp()))
    return f"{stamp}.{await _sign(services, token, stamp)}"


async def nonce_ok(services: Services, token: str, given: str) -> bool:
    stamp, _, mac = given.partition(".")
    if not stamp.isdecimal() or len(stamp) > 12:
        return False
    age = services.now().timestamp() - int(stamp)
    if not 0 <= age <= NONCE_LIFETIME.total_seconds():
        return False
    # As bytes: compare_digest refuses str with other than ASCII (a forged form's nonce).
    return hmac.compare_digest(mac.encode(), (await _sign(services, token, stamp)).encode())


async def _sign(services: Services, token: str, stamp: str) -> str:
    key = await secret_key(services.settings)
    message = f"buendnisbot/page-nonce/{token}/{stamp}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
