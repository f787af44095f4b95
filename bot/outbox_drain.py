"""The leader's half of the Matrix queue (bot/outbox_queue.py): make the queued calls.

A task runs while the real transport runs in this process (the leader). It takes open
rows with a lease (`storage.leases.take_many`, owner: this process's node id; SKIP
LOCKED, so two leaders for a moment take disjoint rows), makes each call on the real
transport with the row's send key as idempotency key (on Matrix the transaction id:
should this process die mid-call, the next leader takes the row once its lease ran out
and sends it again with the same id, and Synapse drops the duplicate), writes the
result (`sent`) or the error (`failed`), and NOTIFYs the waiting caller. Its lease is
renewed while calls run long. It wakes on the caller's NOTIFY, at each reconnection of
the listener, at the leader's rescan (every few seconds) and every `IDLE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.core import Transport
from bot.outbox_codec import ALLOWED, KEYED, dump_error, dump_result, load_call
from storage.cluster import outbox as rows
from storage.db import DatabaseUnavailable
from storage.leases import LEASE
from storage.notify import OUTBOX, OUTBOX_DONE, notify

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

IDLE_SECONDS = 5.0  # a look at the queue at least this often
PARALLEL = 8  # calls made at once
KEEP_DONE = timedelta(days=1)  # done rows are deleted after this
# A call not done after this long is given up (`failed`): its caller stopped waiting
# (bot/outbox_queue.py: QUEUE_WAIT + SENDING_WAIT), and nio retries a timed-out request
# without end, so a hung call would hold its row and a drain slot for good.
CALL_BUDGET = 110.0


class Drain:
    def __init__(self, services: Services, real: Transport) -> None:
        self._services = services
        self._real = real
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy: set[int] = set()
        self.made = 0  # calls made (sent or failed), for tests and logs
        self.call_budget = CALL_BUDGET
        services.listener.on(OUTBOX, lambda _payload: self.wake())
        services.listener.on_connect(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self._real.platform}-drain")

    async def stop(self) -> None:
        """Stop taking rows; calls under way are cut short (their rows stay `sending`
        and go to the next leader when the lease runs out)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def rescan(self) -> None:
        """The leader's rescan: look now, and delete rows done for more than a day."""
        self.wake()
        services = self._services
        async with services.db.write() as session:
            gone = await rows.purge(session, now=services.now(), older_than=KEEP_DONE)
        if gone:
            log.debug("%s queue: %d old rows deleted", self._real.platform, gone)

    async def _run(self) -> None:
        limit = asyncio.Semaphore(PARALLEL)
        running: set[asyncio.Task[None]] = set()
        renewer = asyncio.create_task(self._renew_leases())
        try:
            while True:
                self._wake.clear()
                try:
                    taken = await self._take()
                except DatabaseUnavailable as exc:
                    log.warning("%s queue: database unavailable: %s", self._real.platform, exc)
                    taken = []
                except Exception:
                    log.exception("%s queue: could not take rows", self._real.platform)
                    taken = []
                for row_id, payload, key in taken:
                    await limit.acquire()
                    self._busy.add(row_id)
                    task = asyncio.create_task(self._make(row_id, payload, key))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    task.add_done_callback(functools.partial(self._done, row_id, limit))
                if taken:
                    continue  # more may be waiting
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)
        finally:
            renewer.cancel()
            for task in list(running):
                task.cancel()
            await asyncio.gather(renewer, *running, return_exceptions=True)

    def _done(self, row_id: int, limit: asyncio.Semaphore, _task: object = None) -> None:
        self._busy.discard(row_id)
        limit.release()

    async def _take(self) -> list[tuple[int, str, str | None]]:
        services = self._services
        async with services.db.write() as session:
            return await rows.take(
                session,
                self._real.platform,
                owner=services.node_id,
                now=services.now(),
                busy=set(self._busy),
                limit=PARALLEL,
            )

    async def _make(self, row_id: int, payload: str, key: str | None) -> None:
        method = "?"
        try:
            method, args, kwargs = load_call(payload)
            if method not in ALLOWED:
                raise ValueError(f"not a queued call: {method[:40]}")
            if method in KEYED:  # the caller's whole key (the row's may be shortened)
                kwargs["key"] = kwargs.get("key") or key or f"outbox:{row_id}"
            async with asyncio.timeout(self.call_budget):
                result: Any = await getattr(self._real, method)(*args, **kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "%s queue: row %d (%s) failed: %r", self._real.platform, row_id, method, type(exc)
            )
            await self._finish(
                row_id, sent=False, payload=dump_error(method, exc), error=type(exc).__name__
            )
            return
        await self._finish(row_id, sent=True, payload=dump_result(method, result), error=None)

    async def _finish(self, row_id: int, *, sent: bool, payload: str, error: str | None) -> None:
        """Record the outcome; if that fails, the row stays `sending` under our lease and
        is made again (with the same key) once the lease runs out."""
        try:
            await self._record(row_id, sent=sent, payload=payload, error=error)
        except Exception as exc:
            log.warning(
                "%s queue: row %d done but not recorded: %r", self._real.platform, row_id, type(exc)
            )

    async def _record(self, row_id: int, *, sent: bool, payload: str, error: str | None) -> None:
        services = self._services
        async with services.db.write() as session:
            ours = await rows.finish(
                session,
                row_id,
                owner=services.node_id,
                sent=sent,
                payload=payload,
                error=error,
                now=services.now(),
            )
            await notify(session, OUTBOX_DONE, str(row_id))
        self.made += 1
        if not ours:
            log.warning(
                "%s queue: row %d was no longer ours when done", self._real.platform, row_id
            )

    async def _renew_leases(self) -> None:
        """Keep the leases of calls under way (a send may retry for a minute)."""
        services = self._services
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            busy = list(self._busy)
            if not busy:
                continue
            try:
                async with services.db.write() as session:
                    await rows.renew(session, busy, owner=services.node_id, now=services.now())
            except Exception as exc:
                log.warning("%s queue: leases not renewed: %r", self._real.platform, type(exc))
