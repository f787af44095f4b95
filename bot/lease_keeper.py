"""Keeping a lease while a send runs (storage/leases.py).

A lease runs out after `storage.leases.LEASE`; a send may take longer (Telegram's flood
window of 20 messages a minute per group, a Matrix send retrying for a minute). A row
whose lease ran out in the middle of its send is free for the leader's rescan, which
sends it again: on Telegram a second message. So whoever sends a leased row renews the
lease until the row is marked, as the reminders' fan-out does (handlers/reminders/).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from storage.leases import LEASE

log = logging.getLogger(__name__)

RENEW_EVERY = LEASE.total_seconds() / 3  # seconds between renewals
FINISH = 5.0  # seconds a renewal under way may take to finish when the block ends


@contextlib.asynccontextmanager
async def kept(
    renew: Callable[[], Awaitable[object]], *, what: str, every: float = RENEW_EVERY
) -> AsyncIterator[None]:
    """Call `renew` every `every` seconds while the block runs (a failed renewal is
    logged and tried again at the next turn). A `renew` that returns False says the row
    is no longer ours: renewing stops.

    At the block's end a renewal under way is let finish (for at most FINISH seconds)
    rather than cancelled: cut off in the middle of its statement, it left the
    connection to be cleaned up under the next one's feet (seen once on a loaded machine:
    a PendingRollbackError, then a test waiting out its time-out)."""
    stop = asyncio.Event()

    async def loop() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return
            try:
                held = await renew()
            except Exception as exc:
                log.warning("%s: lease not renewed: %r", what, type(exc))
                continue
            if held is False:
                log.warning("%s: another process holds it now", what)
                return

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), FINISH)
        except TimeoutError:  # a renewal that hangs (the database gone) is given up
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
