"""Where the next leader goes on syncing, and which events it answers on the way.

With several processes (bot/leader.py) the leader syncs; when it dies, another takes
over. So that the new one answers what arrived in between, and nothing twice:
- the sync position is kept in the database (`bot_state` `matrix.next_batch`, through
  `Positions`), written once every command of a sync's batch has been handled: a batch
  cut short by a crash is read again by the next leader;
- a new leader's first sync starts there and answers its events that are younger than
  `RESUME_WINDOW` (older ones were asked too long ago to be answered now);
- a command read again whose reply already went out is not handled again: the resumed
  sync also brings the bot's own events, each with the transaction id it was sent with
  (all processes log in as one device with one access token: credentials beside the
  store on a shared volume, or `matrix.access_token`), and a reply's id comes from the
  command's event id (text.py `transaction_id`), so `answered` tells which commands were
  answered. Handling one twice would do its work twice (a second poll), not only reply;
- a reply that went out while its command is handled again anyway (no reply yet seen,
  e.g. a crash between the homeserver's answer and the sync) keeps its transaction id,
  and the homeserver drops the repeat;
- a clean stop saves the position of everything handled, so a rolling restart reads
  nothing again.
Without a position (the first start ever, or one process without `Positions`) the
backlog stays unanswered as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, Protocol

log = logging.getLogger(__name__)

RESUME_WINDOW = timedelta(minutes=5)
# Events a resumed first sync brings per room (the default of 1 reads state only).
RESUME_TIMELINE = 50
# At most one write of the position per SAVE_EVERY seconds (and one at stop): a position a
# second behind only means a few events read again, whose replies the homeserver drops.
SAVE_EVERY = 1.0
# What stopping may spend on the last write (SIGTERM must end the process within 2 s; a
# position a second older costs nothing but a few events read again).
STOP_SAVE = 0.2


class Positions(Protocol):
    """The shared store of the sync position (the app wires it to `bot_state`)."""

    async def load(self) -> str | None: ...

    async def save(self, token: str) -> None: ...


class Continuity:
    def __init__(self) -> None:
        self.positions: Positions | None = None
        # While a resumed first sync is handled: events before this (ms) stay unanswered.
        self.cutoff_ms: int | None = None
        self._batch: list[Awaitable[Any]] = []
        self._done: deque[tuple[str, list[Awaitable[Any]]]] = deque()
        self._wake = asyncio.Event()
        self._saver: asyncio.Task[None] | None = None
        self._saved: str | None = None
        self._writing: asyncio.Future[None] | None = None

    async def resume_from(self) -> str | None:
        """The shared position to sync from, if any; events since then get answered."""
        if self.positions is None:
            return None
        try:
            token = await self.positions.load()
        except Exception as exc:
            log.warning("matrix: could not read the shared sync position (%s)", type(exc).__name__)
            return None
        if token:
            self.cutoff_ms = int((time.time() - RESUME_WINDOW.total_seconds()) * 1000)
        self._saved = token
        return token

    def fresh(self, event: Any) -> bool:
        """Whether an event may be answered (always, except old ones of a resumed sync)."""
        cutoff = self.cutoff_ms
        return cutoff is None or int(getattr(event, "server_timestamp", 0) or 0) >= cutoff

    def track(self, work: Awaitable[Any] | None) -> None:
        """A command of the sync under way (the dispatcher's task)."""
        if work is not None and self.positions is not None:
            self._batch.append(work)

    def batch_done(self, token: str | None) -> None:
        """A sync's events are handed out: save `token` once their commands finished."""
        if self.positions is None or not token:
            return
        self._done.append((token, self._batch))
        self._batch = []
        self._wake.set()
        if self._saver is None:
            self._saver = asyncio.create_task(self._save_loop(), name="matrix-position")

    async def _save_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._save_finished(wait=True)
            await asyncio.sleep(SAVE_EVERY)

    async def _save_finished(self, *, wait: bool) -> None:
        """Save the newest position all of whose (and earlier) commands finished; with
        `wait`, what is finished is saved before waiting for a command still running."""
        newest: str | None = None
        for _ in range(len(self._done)):  # not those that come meanwhile: save now and then
            token, work = self._done[0]
            if not all(_finished(each) for each in work):
                if not wait:
                    break
                await self._save(newest)
                # wait(), not gather(): cancelling the saver must not cancel the commands.
                await asyncio.wait([asyncio.ensure_future(each) for each in work])
            self._done.popleft()
            newest = token or newest
        await self._save(newest)

    async def _save(self, newest: str | None) -> None:
        if newest is None or newest == self._saved or self.positions is None:
            return
        # Shielded: a stop while writing must not cut the transaction in half.
        self._writing = asyncio.ensure_future(self.positions.save(newest))
        try:
            await asyncio.shield(self._writing)
            self._saved = newest
        except Exception as exc:
            log.warning("matrix: could not save the sync position (%s)", type(exc).__name__)

    async def stop(self) -> None:
        """Stop saving, after a last write of what is handled (at most STOP_SAVE seconds:
        SIGTERM must end the process within 2 s; a position left behind only means that
        the next leader reads a few events again and skips the answered ones)."""
        saver, self._saver = self._saver, None
        if saver is not None:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._save_finished(wait=False), timeout=STOP_SAVE)
        if self._writing is not None and not self._writing.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._writing), timeout=STOP_SAVE)
        self._batch = []
        self._done.clear()
        self.cutoff_ms = None


def answered(resp: Any, bot_user_id: str) -> set[str]:
    """The transaction ids of the bot's own events in a sync response (the homeserver
    shows them to the device that sent them): which replies went out already."""
    found: set[str] = set()
    for room in getattr(getattr(resp, "rooms", None), "join", {}).values():
        for event in room.timeline.events:
            if getattr(event, "sender", None) != bot_user_id:
                continue
            unsigned = (getattr(event, "source", None) or {}).get("unsigned") or {}
            txn = unsigned.get("transaction_id")
            if isinstance(txn, str):
                found.add(txn)
    return found


def _finished(work: Awaitable[Any]) -> bool:
    done = getattr(work, "done", None)
    return bool(done()) if callable(done) else True
