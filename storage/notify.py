"""Wake-ups between the bot's processes on one PostgreSQL: LISTEN/NOTIFY.

A process that wrote something others keep in memory (a cached table) or must act on (a
queued Matrix message for the leader, a newly planned reminder) says so with
`notify(session, channel, payload)` inside its transaction: PostgreSQL delivers the
notification only if, and when, the transaction commits. Every process listens on one
dedicated connection (`Listener`), outside the pool, with reconnect and backoff. While
the connection is down notifications are lost, so whoever relies on them is told at each
(re)connection (`on_connect`) and catches up: caches drop everything, the leader's drain
looks at its table. SQLite has one process: nothing to tell, `notify` does nothing and
the listener never starts.

Channels: `CACHE` (payload: the written tables, storage/cache.py), `OUTBOX` (a queued
Matrix call for the leader) and `OUTBOX_DONE` (its outcome, payload: the row id) of
bot/outbox_queue.py, `PLAN` (something was planned that the leader's
rescan should look at now rather than in a few seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.db import CONNECT_TIMEOUT, Database

log = logging.getLogger(__name__)

CACHE = "buendnisbot_cache"
OUTBOX = "buendnisbot_outbox"
OUTBOX_DONE = "buendnisbot_outbox_done"
PLAN = "buendnisbot_plan"

PAYLOAD_MAX = 7900  # PostgreSQL's limit is 8000 bytes
PING_SECONDS = 10.0  # a quiet connection is checked this often (a dead peer sends nothing)
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 10.0

Callback = Callable[[str], None]


async def notify(target: AsyncSession | AsyncConnection, channel: str, payload: str = "") -> None:
    """Tell the other processes on `channel`, when the current transaction commits
    (nothing on SQLite)."""
    bind = target.bind if isinstance(target, AsyncSession) else target.engine
    if bind is None or bind.dialect.name != "postgresql":
        return
    await target.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": channel, "payload": payload[:PAYLOAD_MAX]},
    )


class Listener:
    """LISTEN on a dedicated connection of this process; callbacks run on the event loop
    and must not block (they bump a counter or set an event)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._callbacks: dict[str, list[Callback]] = {}
        self._on_connect: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self._connection: Any = None
        self.connected = asyncio.Event()
        self.connections = 0  # how many times it (re)connected

    @property
    def enabled(self) -> bool:
        return not self._db.is_sqlite

    def on(self, channel: str, callback: Callback) -> None:
        """Call `callback(payload)` for each notification on `channel` (also when added
        while listening already)."""
        new = channel not in self._callbacks
        self._callbacks.setdefault(channel, []).append(callback)
        conn = self._connection
        if new and conn is not None and not conn.is_closed():
            task = asyncio.get_running_loop().create_task(conn.add_listener(channel, self._deliver))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def on_connect(self, callback: Callable[[], None]) -> None:
        """Called at each (re)connection: notifications before it may have been missed."""
        self._on_connect.append(callback)

    @property
    def backend_pid(self) -> int | None:
        """The server process of the listening connection (tests terminate it)."""
        conn = self._connection
        return None if conn is None or conn.is_closed() else int(conn.get_server_pid())

    async def start(self) -> None:
        """Listen in the background (on PostgreSQL); returns at once."""
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name="notify-listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    async def _run(self) -> None:
        """Connect, listen until the connection is lost, back off, again. Logged at INFO
        once per loss (a database outage is logged by those whose work it stops), the
        retries at DEBUG."""
        delay = BACKOFF_FIRST
        while True:
            try:
                lost = await self._connect()
                delay = BACKOFF_FIRST
                await self._watch(lost)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected.is_set():
                    log.info(
                        "notify listener: connection lost (%s), reconnecting", type(exc).__name__
                    )
                else:
                    log.debug("notify listener: cannot connect: %r", type(exc))
            self.connected.clear()
            await self._close()
            await asyncio.sleep(delay)
            delay = min(BACKOFF_MAX, delay * 2)

    async def _connect(self) -> asyncio.Event:
        import asyncpg

        url = make_url(self._db.url).set(drivername="postgresql")
        conn = await asyncpg.connect(
            url.render_as_string(hide_password=False), timeout=CONNECT_TIMEOUT
        )
        self._connection = conn
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        for channel in self._callbacks:
            await conn.add_listener(channel, self._deliver)
        self.connections += 1
        self.connected.set()
        log.info("notify listener: listening (connection %d)", self.connections)
        for callback in self._on_connect:
            self._call(callback)
        return lost

    async def _watch(self, lost: asyncio.Event) -> None:
        """Until the connection is lost: a ping now and then finds a silently dead one."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), PING_SECONDS)
            if lost.is_set():
                raise ConnectionError("listener connection closed")
            await asyncio.wait_for(self._connection.execute("SELECT 1"), PING_SECONDS)

    def _deliver(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        for callback in self._callbacks.get(channel, []):
            self._call(callback, payload)

    @staticmethod
    def _call(callback: Callable[..., None], *args: str) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("notify listener: a callback failed")

    async def _close(self) -> None:
        conn, self._connection = self._connection, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2.0)
            if not conn.is_closed():
                conn.terminate()
