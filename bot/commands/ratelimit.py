"""Spam protection: one token bucket per person for commands, button presses and
reactions; the dispatcher asks it before anything else is done with an input.

One process (SQLite, or one process on PostgreSQL) keeps the buckets in memory
(`RateLimit`). Several processes on one PostgreSQL (webhook replicas: a person's inputs
reach any of them) share them in the `rate_bucket` table (`SharedRateLimit`, one
statement per input, storage/cluster/buckets.py), so a flood split across replicas is
limited as if one process took it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.cluster import buckets
from storage.db import CONNECT_TIMEOUT, Database

log = logging.getLogger(__name__)

Verdict = Literal["run", "warn", "drop"]


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    warned: bool = False


class RateLimit:
    """Spam protection: a token bucket per person (platform and account id).

    Each input (command, button press, reaction) takes a token; a person has up to
    `burst` tokens, refilled at `per_minute`. Without a token the input is not handled:
    the first such one gets a "slow down" answer ("warn"), the ones after it nothing at
    all ("drop") until the bucket is full again, so a flood never makes the bot flood the
    chat back. `also` names further buckets the input must find a token in as well (all
    or nothing), e.g. one shared by everyone who writes anonymously in a chat.
    Admins are limited like anyone (a misfiring script or a taken-over admin account
    floods just the same; a person typing commands never gets near the limit).
    Kept in memory only: it protects, it is not state; a restart starts everyone afresh.
    """

    PRUNE_ABOVE = 1000  # buckets kept before the full (idle) ones are forgotten

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def check(
        self,
        platform: str,
        sender_id: str,
        per_minute: int,
        burst: int,
        *,
        also: Sequence[str] = (),
    ) -> Verdict:
        if per_minute <= 0:
            return "run"
        now = self._clock()
        keys = [(platform, key) for key in (sender_id, *also)]
        if len(self._buckets) >= self.PRUNE_ABOVE and any(k not in self._buckets for k in keys):
            self._prune(now, per_minute, burst)  # before, so no bucket of this input goes
        buckets = [self._bucket(key, now, per_minute, burst) for key in keys]
        empty = [bucket for bucket in buckets if bucket.tokens < 1]
        if not empty:
            for bucket in buckets:
                bucket.tokens -= 1
            return "run"
        if all(bucket.warned for bucket in empty):
            return "drop"
        for bucket in empty:
            bucket.warned = True
        return "warn"

    def _bucket(self, key: tuple[str, str], now: datetime, per_minute: int, burst: int) -> _Bucket:
        """The bucket under `key`, refilled up to now (a new one is full)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(burst), now)
        else:
            self._refill(bucket, now, per_minute, burst)
        if bucket.tokens >= burst:
            bucket.warned = False
        return bucket

    @staticmethod
    def _refill(bucket: _Bucket, now: datetime, per_minute: int, burst: int) -> None:
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(float(burst), bucket.tokens + elapsed * per_minute / 60)
        bucket.at = now

    def _prune(self, now: datetime, per_minute: int, burst: int) -> None:
        for key, bucket in list(self._buckets.items()):
            self._refill(bucket, now, per_minute, burst)
            if bucket.tokens >= burst:
                del self._buckets[key]


class SharedRateLimit:
    """The same buckets as `RateLimit`, kept in PostgreSQL for all processes at once.

    Costs one database round trip per input (measured in docs/cluster.md#replicas). When
    the database cannot be asked, this process counts on its own (in memory) until it
    can again."""

    PRUNE_EVERY = 1000  # inputs between two clean-ups of long idle buckets
    IDLE = timedelta(hours=1)
    ALONE_SECONDS = 5.0

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        self._since_prune = 0
        self._engine: AsyncEngine | None = None
        # While the database does not answer: this process's own buckets, asked for
        # ALONE_SECONDS before the database is tried again (a flood during an outage is
        # still limited, and does not wait for a connection at every input).
        self._alone = RateLimit(clock)
        self._alone_until = 0.0

    @property
    def engine(self) -> AsyncEngine:
        """A small pool of its own, without the main pool's ping at each checkout: that
        ping is a second round trip, and this statement is on every command's way (a
        connection the server dropped fails one check, which lets the input pass, and is
        replaced)."""
        if self._engine is None:
            url = make_url(self._db.url)
            timeout = url.get_driver_name() == "asyncpg" and "timeout" not in url.query
            self._engine = create_async_engine(
                url,
                pool_size=2,
                max_overflow=3,
                pool_pre_ping=False,
                hide_parameters=True,
                connect_args={"timeout": CONNECT_TIMEOUT} if timeout else {},
            )
        return self._engine

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    async def check(
        self,
        platform: str,
        sender_id: str,
        per_minute: int,
        burst: int,
        *,
        also: Sequence[str] = (),
    ) -> Verdict:
        if per_minute <= 0:
            return "run"
        if time.monotonic() < self._alone_until:
            return self._alone.check(platform, sender_id, per_minute, burst, also=also)
        now = self._clock()
        keys = [f"{platform}:{key}" for key in (sender_id, *also)]
        try:
            taken = await self._take(keys, now, per_minute, burst)
        except (DBAPIError, OSError) as exc:
            if not self._alone_until:
                log.warning(
                    "rate limit: the database did not answer (%s); counting in this process "
                    "until it does",
                    type(exc).__name__,
                )
            self._alone_until = time.monotonic() + self.ALONE_SECONDS
            return self._alone.check(platform, sender_id, per_minute, burst, also=also)
        if self._alone_until:
            self._alone_until = 0.0
            log.info("rate limit: shared in the database again")
        empty = [t for t in taken if not t.took]
        if not empty:
            return "run"
        return "drop" if all(t.warned_before for t in empty) else "warn"

    async def _take(
        self, keys: list[str], now: datetime, per_minute: int, burst: int
    ) -> list[buckets.Taken]:
        engine = self.engine
        if len(keys) == 1:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                taken = [
                    await buckets.take(conn, keys[0], now=now, per_minute=per_minute, burst=burst)
                ]
        else:
            async with engine.begin() as conn:
                taken = await buckets.take_all(
                    conn, keys, now=now, per_minute=per_minute, burst=burst
                )
        self._since_prune += 1
        if self._since_prune >= self.PRUNE_EVERY:
            self._since_prune = 0
            async with engine.begin() as conn:
                await buckets.prune(conn, now=now, older_than=self.IDLE)
        return taken
