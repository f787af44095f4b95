"""Link tokens: write, find by keyed hash, revoke; and what `/mydata`, `/forget` and a
`/connect` merge do with them. The hashing itself is handlers/calendar/tokens.py."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import utcnow
from storage.web.models import WebToken


async def issue(
    session: AsyncSession,
    *,
    digest: str,
    purpose: str,
    person_id: int,
    scope: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> WebToken:
    row = WebToken(
        digest=digest,
        purpose=purpose,
        person_id=person_id,
        scope=scope,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row


async def find(session: AsyncSession, digest: str, purpose: str, now: datetime) -> WebToken | None:
    """The live token with this hash: not revoked, not expired. The row is looked up by
    its unique hash; the hashes are compared again in constant time all the same."""
    row = await session.scalar(select(WebToken).where(WebToken.digest == digest))
    if row is None or not hmac.compare_digest(row.digest, digest):
        return None
    if row.purpose != purpose or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row


async def live(
    session: AsyncSession, person_id: int, purpose: str, scopes: tuple[str, ...]
) -> WebToken | None:
    """The person's live token for one of `scopes` (the newest), if any."""
    return await session.scalar(
        select(WebToken)
        .where(
            WebToken.person_id == person_id,
            WebToken.purpose == purpose,
            WebToken.scope.in_(scopes),
            WebToken.revoked_at.is_(None),
        )
        .order_by(WebToken.id.desc())
        .limit(1)
    )


async def live_scopes(session: AsyncSession, person_id: int, purpose: str) -> list[str]:
    """The scopes of the person's links for `purpose` that are not revoked."""
    rows = await session.scalars(
        select(WebToken.scope).where(
            WebToken.person_id == person_id,
            WebToken.purpose == purpose,
            WebToken.revoked_at.is_(None),
        )
    )
    return sorted(set(rows))


async def revoke(
    session: AsyncSession, person_id: int, purpose: str, scopes: tuple[str, ...], now: datetime
) -> int:
    """Revoke the person's live tokens for `scopes`; how many."""
    result = await session.execute(
        update(WebToken)
        .where(
            WebToken.person_id == person_id,
            WebToken.purpose == purpose,
            WebToken.scope.in_(scopes),
            WebToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def of_person(session: AsyncSession, person_id: int) -> list[dict[str, object]]:
    """For `/mydata`: what each link is for and its dates, never its hash."""
    rows = await session.scalars(
        select(WebToken).where(WebToken.person_id == person_id).order_by(WebToken.id)
    )
    return [
        {
            "purpose": row.purpose,
            "scope": row.scope,
            "created_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        }
        for row in rows
    ]


async def forget(session: AsyncSession, person_id: int) -> None:
    await session.execute(delete(WebToken).where(WebToken.person_id == person_id))


async def merge(session: AsyncSession, keep: int, absorb: int) -> None:
    """Two accounts became one person: each keeps the links they were given (they work
    for the merged person now); of two live personal feeds the kept person's stays and
    the other is revoked, so one person has one personal feed."""
    mine = await live(session, keep, "feed", ("mine:all", "mine:going"))
    if mine is not None:
        await session.execute(
            update(WebToken)
            .where(
                WebToken.person_id == absorb,
                or_(WebToken.scope == "mine:all", WebToken.scope == "mine:going"),
                WebToken.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
    await session.execute(
        update(WebToken).where(WebToken.person_id == absorb).values(person_id=keep)
    )
