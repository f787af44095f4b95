"""The spam protection's token buckets in the database (`rate_bucket`), for processes that
share one PostgreSQL: a person's inputs reach any of them, the bucket is one.

One input of one bucket is one statement (a single round trip): the row is locked,
refilled up to now, a token taken if there is one, and the verdict's facts returned, all
in SQL, so two processes taking from one bucket at once queue on its row lock and never
both take the last token. An input that takes from several buckets (all or nothing: a
person writing as a chat) takes them in key order in one transaction and gives the
tokens back if one bucket is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.cluster.models import BUCKET_KEY_MAX, RateBucket


def _refilled(row: str) -> str:
    """SQL: the tokens of bucket row `row` now, refilled since its `at`, at most `burst`."""
    return (
        f"LEAST(CAST(:burst AS float8), {row}.tokens + GREATEST(0.0, "
        f"EXTRACT(EPOCH FROM (CAST(:now AS timestamptz) - {row}.at))) * CAST(:rate AS float8))"
    )


# `at` never goes back: of two hosts whose clocks differ, the one ahead would otherwise
# refill the difference again at every input after one of the other (a flood alternating
# between them got the burst anew each time); so the difference counts once.
# `prev` locks the row first: a second process taking from the same bucket waits for this
# statement's transaction and then reads its result. It is joined into the INSERT so that
# it runs before the update (read only in RETURNING, it would run after it and find the
# row already changed by this statement). The update computes from the same row (locked,
# so the same values); `prev` is only read for the verdict.
_TAKE = text(
    f"""
WITH prev AS (
  SELECT {_refilled("r")} AS refilled, r.warned AS warned
  FROM rate_bucket r WHERE r.key = :key FOR UPDATE
)
INSERT INTO rate_bucket AS b (key, tokens, at, warned)
SELECT :key, CAST(:burst AS float8) - 1, CAST(:now AS timestamptz), false
FROM (SELECT 1) AS one LEFT JOIN prev ON true
ON CONFLICT (key) DO UPDATE SET
  tokens = CASE WHEN {_refilled("b")} >= 1 THEN {_refilled("b")} - 1 ELSE {_refilled("b")} END,
  at = GREATEST(b.at, CAST(:now AS timestamptz)),
  warned = CASE WHEN {_refilled("b")} >= CAST(:burst AS float8) THEN false
                WHEN {_refilled("b")} >= 1 THEN b.warned ELSE true END
RETURNING (SELECT refilled FROM prev), (SELECT warned FROM prev)
"""
)


@dataclass(frozen=True)
class Taken:
    """What one bucket said: whether a token was taken, and whether the person had been
    told to slow down already since the bucket was last full."""

    key: str
    took: bool
    warned_before: bool


async def take(
    conn: AsyncConnection, key: str, *, now: datetime, per_minute: int, burst: int
) -> Taken:
    """Take a token from the bucket `key` (a new bucket starts full)."""
    key = key[:BUCKET_KEY_MAX]
    refilled, warned = (
        await conn.execute(
            _TAKE, {"key": key, "now": now, "rate": per_minute / 60, "burst": float(burst)}
        )
    ).one()
    if refilled is None:  # a new bucket (or one another process made this instant)
        return Taken(key, True, False)
    return Taken(key, refilled >= 1, bool(warned) and refilled < burst)


async def take_all(
    conn: AsyncConnection, keys: Sequence[str], *, now: datetime, per_minute: int, burst: int
) -> list[Taken]:
    """Take a token from each bucket or from none (call inside a transaction): in key
    order, so two processes never wait for each other's rows crosswise."""
    taken = [
        await take(conn, key, now=now, per_minute=per_minute, burst=burst)
        for key in sorted(set(keys))
    ]
    if not all(t.took for t in taken):
        back = [t.key for t in taken if t.took]
        if back:
            await conn.execute(
                update(RateBucket)
                .where(RateBucket.key.in_(back))
                .values(tokens=RateBucket.tokens + 1)
            )
    return taken


async def prune(conn: AsyncConnection, *, now: datetime, older_than: timedelta) -> int:
    """Forget buckets untouched for `older_than` (full again long since)."""
    result = await conn.execute(delete(RateBucket).where(RateBucket.at < now - older_than))
    return int(getattr(result, "rowcount", 0) or 0)
