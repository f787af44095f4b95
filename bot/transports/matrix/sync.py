"""The Matrix transport's own sync loop (instead of nio's `sync_forever`).

- The first sync (the backlog) is read for state but never answered; a saved position
  the homeserver no longer accepts (after a reset) is dropped, not retried forever.
- Errors back off instead of spinning; an expired token logs in again with the password.
- The sync position is saved every SYNC_TOKEN_SAVE_INTERVAL and at stop, not after every
  sync as nio would: nio's save is a blocking SQLite commit on the event loop (about
  2 ms) before the events are handed out, twice per command. After a crash the older
  position only means a longer backlog, and the backlog is never answered.
- Whoever waits for a room to show up in nio's state waits on `synced`, notified after
  every sync.
- The next sync waits (at most SYNC_HOLD) until the commands of the last one are done, as
  a bare nio bot awaiting its callbacks does: otherwise its request reaches the single
  homeserver process while it takes the reply, and its wake-up by that reply competes
  with the person's (about 3-7 ms per command on a local Synapse, benchmark 2). A slow
  command holds receiving back by SYNC_HOLD at most, and not at all once it waits for a
  sync itself (`wait_for_room`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nio

from bot.config import MatrixSettings
from bot.transports.matrix.login import MatrixLoginError, password_login
from bot.transports.matrix.position import RESUME_TIMELINE
from bot.transports.matrix.send import backoff, http_status

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
SYNC_TOKEN_SAVE_INTERVAL = 30.0  # seconds between saves of the sync position
SYNC_HOLD = 0.25  # seconds the next sync waits at most for the commands of the last one
# The backlog is never answered, so the first sync needs room state but hardly any timeline
# (a first sync resumed from the shared position reads up to RESUME_TIMELINE events a room).
FIRST_SYNC_FILTER = {"room": {"timeline": {"limit": 1}}}
RESUME_FILTER = {"room": {"timeline": {"limit": RESUME_TIMELINE}}}

AfterSync = Callable[[nio.SyncResponse], Awaitable[None]]


class Syncer:
    def __init__(self, client: nio.AsyncClient, settings: MatrixSettings) -> None:
        self.client = client
        self.settings = settings
        self.task: asyncio.Task[None] | None = None
        self.synced = asyncio.Condition()  # notified after every sync (and at stop)
        self._after: AfterSync | None = None
        self._token_saved_at: float | None = None
        self.on_restart: Callable[[], None] | None = None
        self._held: list[asyncio.Future[Any]] = []  # the commands of the sync under way
        self._wanted = asyncio.Event()  # someone waits for the next sync

    @property
    def running(self) -> bool:
        return self.task is not None

    async def first_sync(self, *, resume: bool = False) -> nio.SyncResponse:
        """The backlog: read for state (the caller answers none of it), or, `resume`d
        from the shared position (position.py), with the events since then."""
        store = self.client.store
        if store is not None and not self.client.loaded_sync_token:
            self.client.loaded_sync_token = store.load_sync_token()
        failures = 0
        while True:
            wanted = RESUME_FILTER if resume else FIRST_SYNC_FILTER
            resp = await self.client.sync(timeout=0, sync_filter=wanted, full_state=True)
            if isinstance(resp, nio.SyncResponse):
                self.save_token()
                return resp
            failures += 1
            if http_status(resp) == 400 and self.client.loaded_sync_token:
                # A token from before a homeserver reset: start over (the backlog is
                # ignored anyway).
                log.warning("matrix: saved sync position not accepted; syncing from scratch")
                self.client.loaded_sync_token = None
                self.client.next_batch = ""
                if resume and self.on_restart is not None:
                    self.on_restart()  # from scratch: the backlog is not answered after all
                resume = False
                continue
            await self._failed(resp, failures)

    def start(self, after: AfterSync) -> None:
        """Sync in the background; `after(response)` runs after each sync."""
        self._after = after
        self.task = asyncio.create_task(self.loop(), name="matrix-sync")

    async def stop(self) -> None:
        task, self.task = self.task, None
        self._held = []
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.save_token()
        async with self.synced:
            self.synced.notify_all()  # a direct chat waiting for its room syncs by itself

    async def loop(self) -> None:
        """Long-poll forever; nio itself reconnects (backoff up to 5 s) when the server is gone."""
        failures = 0
        while True:
            try:
                resp = await self.client.sync(timeout=SYNC_TIMEOUT_MS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("matrix: sync raised %s; retrying", type(exc).__name__)
                await asyncio.sleep(backoff(failures))
                continue
            if not isinstance(resp, nio.SyncResponse):
                failures += 1
                await self._failed(resp, failures)
                continue
            if failures:
                log.info("matrix: syncing again after %d failed attempts", failures)
                failures = 0
            if self._after is not None:
                await self._after(resp)
            self.save_token(unless_within=SYNC_TOKEN_SAVE_INTERVAL)
            async with self.synced:
                self.synced.notify_all()
            await self._hold()

    def hold_for(self, work: Awaitable[Any]) -> None:
        """A command of the sync under way (its task): the next sync waits for it (see
        SYNC_HOLD). Anything but a task or future is not waited for (never started here)."""
        if isinstance(work, asyncio.Future):
            self._held.append(work)

    async def _hold(self) -> None:
        """Until the commands of the last sync are done, someone waits for a sync, or
        SYNC_HOLD passed."""
        held, self._held = self._held, []
        pending = {w for w in held if not w.done()}
        if not pending:
            return
        self._wanted.clear()
        wanted = asyncio.ensure_future(self._wanted.wait())
        deadline = asyncio.get_running_loop().time() + SYNC_HOLD
        try:
            while pending and not wanted.done():
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    return
                # wait(), not gather(): the commands are never cancelled from here.
                _, pending = await asyncio.wait(
                    pending | {wanted}, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(wanted)
        finally:
            wanted.cancel()

    def save_token(self, *, unless_within: float = 0.0) -> None:
        """Where the next start resumes syncing; skipped if saved less than `unless_within`
        seconds ago (the save blocks the event loop for a few ms)."""
        store, token = self.client.store, self.client.next_batch
        now = asyncio.get_running_loop().time()
        saved_at = self._token_saved_at
        if store is None or not token or (saved_at is not None and now - saved_at < unless_within):
            return
        try:
            store.save_sync_token(token)
        except Exception:
            log.exception("matrix: could not save the sync position")
        self._token_saved_at = now

    async def _failed(self, resp: Any, failures: int) -> None:
        code = getattr(resp, "status_code", None)
        log.warning("matrix: sync failed (%s), attempt %d", code or "error", failures)
        if code == "M_UNKNOWN_TOKEN" and self.settings.password:
            with contextlib.suppress(MatrixLoginError):
                await password_login(self.client, self.settings)
        retry_ms = getattr(resp, "retry_after_ms", None)
        await asyncio.sleep(retry_ms / 1000 if retry_ms else backoff(failures))

    async def wait_for_room(self, room_id: str, until: Callable[[], bool] | None = None) -> None:
        """Until a room the bot just created or joined is in nio's state (nio only sends
        into rooms it has synced), and `until()` holds if given (a new room may show up
        in a sync before all of its first events)."""

        def ready() -> bool:
            return room_id in self.client.rooms and (until is None or until())

        def done() -> bool:
            if ready() or self.task is None:
                return True
            self._wanted.set()  # after every sync: a command waiting for one holds none back
            return False

        while not ready():
            if self.task is None:
                # Shutting down (receiving stopped): sync once ourselves; messages are not
                # taken any more, so nothing in it gets answered.
                await self.client.sync(timeout=0)
                continue
            async with self.synced:
                await self.synced.wait_for(done)


async def housekeeping(client: nio.AsyncClient) -> None:
    """What `sync_forever` does between syncs: keys and queued to-device messages."""
    try:
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("matrix: key maintenance failed; retrying after the next sync")
