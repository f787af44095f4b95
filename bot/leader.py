"""Which of the bot's processes leads: runs receiving, the timers, the start and rescan
hooks (bot/app.py starts and stops those "duties").

On PostgreSQL the leader is the process holding a session advisory lock
(`pg_try_advisory_lock`) on a connection of its own, outside the pool: the server lets
one session hold it, and drops it the moment that session ends (the process died, was
killed, or lost its connection). A process that does not lead tries again every
`TRY_EVERY` seconds; the leader checks its connection every `CHECK_EVERY` seconds with
a query that also says whether the lock is still its own, and gives up its duties at once
when the answer does not come within `CHECK_TIMEOUT`. So a standby takes over
TRY_EVERY + start-up of the duties after a leader's death, and at most
CHECK_EVERY + CHECK_TIMEOUT after its connection broke (the server ends the broken
session by itself; the old leader has stopped by then).

On SQLite there is one process only (bot/single.py refuses a second): it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# Fixed keys of the advisory locks ("Bündnis" + 1 and + 2 as numbers): the leader's and
# the one around migrations at start-up.
LEADER_KEY = 0x42756E646E697301
MIGRATE_KEY = 0x42756E646E697302
TRY_EVERY = 1.0
CHECK_EVERY = 1.0
CHECK_TIMEOUT = 1.5
CONNECT_TIMEOUT = 5.0

# Whether the lock is still this session's: doubles as the connection check.
_HELD = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = $1"
)

Duty = Callable[[], Awaitable[None]]


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL as asyncpg's connect() takes it."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


async def connect(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT)


@contextlib.asynccontextmanager
async def migration_lock(url: str) -> Any:
    """Only one process migrates at a time (two starting at once would both try)."""
    conn = await connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATE_KEY)
        yield
    finally:
        with contextlib.suppress(Exception):
            await conn.close(timeout=2)


class Leadership:
    """Elect on PostgreSQL; `lead()` runs on election, `follow()` when lost (at once)."""

    def __init__(self, url: str, lead: Duty, follow: Duty, *, node_id: str = "") -> None:
        self.url = url
        self._lead = lead
        self._follow = follow
        self.node_id = node_id
        self.leading = False
        self.try_every = TRY_EVERY
        self.check_every = CHECK_EVERY
        self.check_timeout = CHECK_TIMEOUT
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None
        self._said_standby = False
        self._failures = 0
        self._stopped = False

    async def start(self) -> None:
        """One try now (a lone process leads before start-up returns), then in the
        background: try every `try_every` s, or check every `check_every` s while leading."""
        try:
            self._conn = await connect(self.url)
            if await self._try():
                await self._elected()
        except Exception as exc:
            await self._fail(exc)
        self._task = asyncio.create_task(self._run(), name="leader-election")

    async def _run(self) -> None:
        while not self._stopped:
            try:
                await asyncio.sleep(self.check_every if self.leading else self.try_every)
                if self._conn is None:
                    self._conn = await connect(self.url)
                if self.leading:
                    if not await self._still_held():
                        log.warning("lost the leader lock or its connection: stopping the duties")
                        await self._lost()
                        await self._drop_connection()
                elif await self._try():
                    await self._elected()
                self._failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._fail(exc)

    async def _try(self) -> bool:
        won = bool(await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_KEY))
        if not won and not self._said_standby:
            log.info("standby: another process leads; this one takes over when it stops")
            self._said_standby = True
        return won

    async def _elected(self) -> None:
        """Take the duties up, checking the lock meanwhile: the start-up steps may take
        minutes, and a leader that lost the lock in the middle must stop then, not after."""
        self._said_standby = False
        log.info("leading (node %s)", self.node_id)
        self.leading = True
        lead: asyncio.Future[None] = asyncio.ensure_future(self._lead())
        try:
            while not lead.done():
                await asyncio.wait({lead}, timeout=self.check_every)
                if not lead.done() and not await self._still_held():
                    log.warning("lost the leader lock while taking over: stopping the duties")
                    raise ConnectionError("the leader lock was lost while taking over")
            lead.result()
        finally:
            if not lead.done():
                lead.cancel()
                await asyncio.gather(lead, return_exceptions=True)

    async def _lost(self) -> None:
        if self.leading:
            self.leading = False
            await self._follow()

    async def _fail(self, exc: Exception) -> None:
        self._failures += 1
        if self._failures == 1:
            log.warning("leader: lost or could not take the lead (%s)", type(exc).__name__)
        await self._lost()
        await self._drop_connection()

    async def _still_held(self) -> bool:
        try:
            held = await self._conn.fetchval(_HELD, LEADER_KEY, timeout=self.check_timeout)
        except asyncio.CancelledError:
            raise
        except Exception:
            return False
        return bool(held)

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()  # never waits for a server that may be gone

    async def stop(self) -> None:
        """Give up leading (duties first) and release the lock at once: a standby takes
        over within TRY_EVERY (a rolling restart)."""
        self._stopped = True
        task, self._task = self._task, None
        while task is not None and not task.done():
            # A cancellation may be swallowed by the duty it hits (a database driver's
            # clean-up raising its own error): cancel again until the task is gone.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(task), timeout=0.5)
        await self._lost()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close(timeout=1)  # ends the session: the lock goes with it
            except Exception:
                conn.terminate()
