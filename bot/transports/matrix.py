"""Matrix through matrix-nio: commands in (plain and end-to-end encrypted) rooms, notices out.

Why it looks the way it does:
- One device for the bot's whole life: a fixed device id, nio's store and the access token
  kept in the store folder, so encrypted rooms survive restarts and no devices pile up.
- Our own sync loop instead of `sync_forever`: the first sync (the backlog) is read for state
  but never answered, errors back off instead of spinning, and handlers run as tasks of the
  Inbox, so a slow handler never stalls receiving.
- The sync position is saved to the store every SYNC_TOKEN_SAVE_INTERVAL and at stop, not
  after every sync as nio would: nio's save is a blocking SQLite commit on the event loop
  (about 2 ms) before the events are handed out, twice per command (the command's sync and
  the one bringing back the bot's own reply). After a crash the older position only means
  a longer backlog, and the backlog is never answered.
- Every send has a transaction id derived from its key: a retry after a rate limit or an
  outage reuses it, and the homeserver drops the duplicate.
- Polls (MSC3381) live in matrix_poll_io, files and reaction "buttons" in matrix_media_io,
  waiting for room keys and trusting new devices in matrix_keys, private rooms in
  matrix_direct; this class routes events there and lends them its sending and retrying
  (matrix_send). Logging in is matrix_login.
- Whether a room is a private chat is matrix_private's rule (not a head count): it needs
  every member event a sync brings before nio handles the sync, hence the small client
  subclass below.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nio

from bot.config import MatrixSettings
from bot.core import (
    BaseTransport,
    Button,
    Capabilities,
    ChatRef,
    DirectMessageUnavailable,
    Inbox,
    MemberJoined,
    PollSpec,
    PollVote,
    SentPoll,
    SentRef,
    UserRef,
)
from bot.logs import pseudonym
from bot.rich import AccountRef, Rich
from bot.transports.matrix_direct import DirectRooms
from bot.transports.matrix_keys import RoomKeys
from bot.transports.matrix_login import MatrixLoginError, log_in, password_login
from bot.transports.matrix_media_io import MatrixMedia
from bot.transports.matrix_poll_io import MatrixPolls
from bot.transports.matrix_private import PrivateRooms
from bot.transports.matrix_receive import chat_ref, incoming, member, user_ref
from bot.transports.matrix_send import (
    SEND_BUDGET,
    MatrixSendError,
    backoff,
    http_status,
    retry_delay,
)
from bot.transports.matrix_send import retrying as retry_call
from bot.transports.matrix_session import prepare_store
from bot.transports.matrix_text import (
    PLATFORM,
    inviter_allowed,
    notice_content,
    transaction_id,
)

log = logging.getLogger(__name__)


SYNC_TIMEOUT_MS = 30_000
STOP_GRACE = 10.0  # seconds stop() waits for sends still in flight
SYNC_TOKEN_SAVE_INTERVAL = 30.0  # seconds between saves of the sync position
# The backlog is never answered, so the first sync needs room state but hardly any timeline.
FIRST_SYNC_FILTER = {"room": {"timeline": {"limit": 1}}}


__all__ = ["MatrixLoginError", "MatrixSendError", "MatrixTransport", "retry_delay"]


class _Client(nio.AsyncClient):
    """nio's client, showing each sync to the private-room rule before handling it."""

    private: PrivateRooms | None = None

    async def receive_response(self, response: nio.Response) -> None:
        if self.private is not None and isinstance(response, nio.SyncResponse):
            self.private.see_sync(response)
        await super().receive_response(response)


# --- the transport ----------------------------------------------------------------------


class MatrixTransport(BaseTransport):
    platform = PLATFORM
    command_prefix = "!"
    # `buttons`: offered as reactions the bot puts under its message (see matrix_media).
    capabilities = Capabilities(
        html=True,
        mentions=True,
        native_polls=True,
        buttons=True,
        files=True,
        max_message_length=16000,
    )

    def __init__(self, settings: MatrixSettings, *, send_budget: float = SEND_BUDGET) -> None:
        self.settings = settings
        self.send_budget = send_budget
        self.client = _Client(
            settings.homeserver,
            settings.user_id,
            device_id=settings.device_id,
            store_path=str(settings.store_path),
            config=nio.AsyncClientConfig(
                store_sync_tokens=False,  # saved by _save_sync_token, see above
                encryption_enabled=True,
                max_timeout_retry_wait_time=5,  # reconnect within seconds after an outage
            ),
        )
        self.rate_limited = 0  # M_LIMIT_EXCEEDED answers seen (nio waits and retries them)
        self._inbox: Inbox | None = None
        self._live = False
        self._live_rooms: set[str] = set()
        self._sync_task: asyncio.Task[None] | None = None
        self._synced = asyncio.Condition()
        self._background: set[asyncio.Task[Any]] = set()
        self._handled_invites: set[str] = set()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopped = False
        self._receiving = False
        self._callbacks_registered = False
        self._token_saved_at: float | None = None
        self._polls = MatrixPolls(self)
        self._media = MatrixMedia(self)
        self._keys = RoomKeys(self)
        self._private = PrivateRooms(settings.user_id)
        self.client.private = self._private
        self._direct = DirectRooms(self, self._private)

    @property
    def user_id(self) -> str:
        return self.settings.user_id

    @property
    def inbox(self) -> Inbox | None:
        return self._inbox

    def is_live(self, room_id: str) -> bool:
        """Whether events in the room are answered: after the first sync, and in rooms the
        bot was in by then or joined since (their history stays unanswered)."""
        return self._live and room_id in self._live_rooms

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, inbox: Inbox) -> None:
        """Log in, read the backlog without answering it, then sync in the background."""
        self._inbox = inbox
        self._stopped = False
        self._receiving = True
        await asyncio.to_thread(prepare_store, self.settings.store_path)
        self._register_callbacks()
        await log_in(self.client, self.settings)
        store = self.client.store
        if store is not None and not self.client.loaded_sync_token:
            self.client.loaded_sync_token = store.load_sync_token()
        await self._first_sync()
        self._save_sync_token()
        self._live_rooms = set(self.client.rooms)
        self._live = True
        await self._housekeeping()
        self._sync_task = asyncio.create_task(self._sync_loop(), name="matrix-sync")
        log.info("matrix: logged in as %s (device %s)", self.user_id, self.client.device_id)

    async def stop_receiving(self) -> None:
        """Take no new messages; commands already received may still send their replies."""
        self._live = False
        self._receiving = False
        task, self._sync_task = self._sync_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._save_sync_token()
        async with self._synced:
            self._synced.notify_all()  # a direct chat waiting for its room syncs by itself

    async def stop(self) -> None:
        """Stop receiving, let sends already under way finish, then close the connection."""
        await self.stop_receiving()
        try:
            async with asyncio.timeout(STOP_GRACE):
                await self._idle.wait()
        except TimeoutError:
            log.warning("matrix: %d sends still running at shutdown", self._in_flight)
        for job in list(self._background):
            job.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._stopped = True  # nio would quietly open a new HTTP session for a late send
        await self.client.close()

    def _register_callbacks(self) -> None:
        if self._callbacks_registered:
            return
        self._callbacks_registered = True
        client = self.client
        client.add_event_callback(self._on_text, nio.RoomMessageText)
        client.add_event_callback(self._on_unknown, nio.UnknownEvent)
        client.add_event_callback(self._on_reaction, nio.ReactionEvent)
        client.add_event_callback(self._keys.on_undecryptable, nio.MegolmEvent)
        client.add_event_callback(self._on_invite, nio.InviteMemberEvent)
        client.add_event_callback(self._on_member, nio.RoomMemberEvent)
        client.add_to_device_callback(
            self._keys.on_room_key, (nio.RoomKeyEvent, nio.ForwardedRoomKeyEvent)
        )
        client.add_response_callback(self._keys.on_keys_query, nio.KeysQueryResponse)
        client.add_response_callback(self._on_error_response, nio.ErrorResponse)

    # --- syncing --------------------------------------------------------------------------

    async def _first_sync(self) -> None:
        failures = 0
        while True:
            resp = await self.client.sync(timeout=0, sync_filter=FIRST_SYNC_FILTER, full_state=True)
            if isinstance(resp, nio.SyncResponse):
                return
            failures += 1
            if http_status(resp) == 400 and self.client.loaded_sync_token:
                # A token from before a homeserver reset: start over (the backlog is
                # ignored anyway).
                log.warning("matrix: saved sync position not accepted; syncing from scratch")
                self.client.loaded_sync_token = None
                continue
            await self._sync_failed(resp, failures)

    async def _sync_loop(self) -> None:
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
                await self._sync_failed(resp, failures)
                continue
            if failures:
                log.info("matrix: syncing again after %d failed attempts", failures)
                failures = 0
            # Rooms whose join event fell out of a limited timeline: answer from now on.
            self._live_rooms.update(self.client.rooms)
            for room_id, joined in resp.rooms.join.items():
                if joined.timeline.limited and room_id in self._live_rooms:
                    # Poll responses may have fallen into the gap: read them back.
                    self.spawn(self._polls.catch_up(room_id), "poll catch-up")
            await self._housekeeping()
            self._save_sync_token(unless_within=SYNC_TOKEN_SAVE_INTERVAL)
            async with self._synced:
                self._synced.notify_all()

    def _save_sync_token(self, *, unless_within: float = 0.0) -> None:
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

    async def _sync_failed(self, resp: Any, failures: int) -> None:
        code = getattr(resp, "status_code", None)
        log.warning("matrix: sync failed (%s), attempt %d", code or "error", failures)
        if code == "M_UNKNOWN_TOKEN" and self.settings.password:
            with contextlib.suppress(MatrixLoginError):
                await password_login(self.client, self.settings)
        retry_ms = getattr(resp, "retry_after_ms", None)
        await asyncio.sleep(retry_ms / 1000 if retry_ms else backoff(failures))

    async def _housekeeping(self) -> None:
        """What `sync_forever` does between syncs: keys and queued to-device messages."""
        client = self.client
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

    # --- callbacks (never raise, never wait for a handler) --------------------------------

    async def _on_text(self, room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        try:
            if not self.is_live(room.room_id):
                log.debug(
                    "matrix: not answering %s (from before the bot started or joined)",
                    event.event_id,
                )
                return
            if event.sender == self.user_id or self._inbox is None:
                return
            message = incoming(room, event, self.user_id)
            if message is not None:
                message = dataclasses.replace(message, chat=self.chat_ref(room))
                await self._inbox.message(message)
        except Exception:
            log.exception("matrix: could not take message %s", event.event_id)

    def chat_ref(self, room: nio.MatrixRoom) -> ChatRef:
        """The room as the core sees it: private only by matrix_private's rule, judged now."""
        return chat_ref(room, is_direct=self._private.partner(room) is not None)

    def user_ref(self, room: nio.MatrixRoom | None, user_id: str) -> UserRef:
        return user_ref(room, user_id)

    def _takes(self, room: nio.MatrixRoom, event: Any) -> bool:
        """Live events from others only: the backlog and the bot's own events are left."""
        return (
            self.is_live(room.room_id) and event.sender != self.user_id and self._inbox is not None
        )

    async def _on_unknown(self, room: nio.MatrixRoom, event: nio.UnknownEvent) -> None:
        """Poll responses (plain, or decrypted by nio) go to the poll half."""
        try:
            if self._takes(room, event):
                self._polls.on_event(room, event)
        except Exception:
            log.exception("matrix: could not take event %s", event.event_id)

    async def _on_reaction(self, room: nio.MatrixRoom, event: nio.ReactionEvent) -> None:
        try:
            if self._takes(room, event):
                self._media.on_reaction(room, event)
        except Exception:
            log.exception("matrix: could not take reaction %s", event.event_id)

    async def take_decrypted(self, room: nio.MatrixRoom, event: Any) -> None:
        """An event decrypted late (its room key came after it): handled as if new."""
        if isinstance(event, nio.RoomMessageText):
            await self._on_text(room, event)
        elif isinstance(event, nio.UnknownEvent):
            await self._on_unknown(room, event)
        elif isinstance(event, nio.ReactionEvent):
            await self._on_reaction(room, event)

    async def _on_invite(self, room: nio.MatrixRoom, event: nio.InviteMemberEvent) -> None:
        try:
            if not self._receiving:
                return  # shutting down: the invite stays for the next start
            if event.state_key != self.user_id or event.membership != "invite":
                return
            if room.room_id in self._handled_invites:
                return
            self._handled_invites.add(room.room_id)
            if inviter_allowed(event.sender, self.settings.allowed_inviters):
                log.info(
                    "matrix: joining %s, invited by %s",
                    pseudonym(PLATFORM, room.room_id),
                    pseudonym(PLATFORM, event.sender),
                )
                self.spawn(self._answer_invite(room.room_id, join=True), "join")
            else:
                log.info(
                    "matrix: declining the invite to %s from %s (not an allowed inviter)",
                    pseudonym(PLATFORM, room.room_id),
                    pseudonym(PLATFORM, event.sender),
                )
                self.spawn(self._answer_invite(room.room_id, join=False), "decline")
        except Exception:
            log.exception(
                "matrix: could not handle the invite to %s", pseudonym(PLATFORM, room.room_id)
            )

    async def _answer_invite(self, room_id: str, *, join: bool) -> None:
        try:
            if join:
                await self.retrying(lambda: self.client.join(room_id), nio.JoinResponse, "join")
            else:
                await self.retrying(
                    lambda: self.client.room_leave(room_id), nio.RoomLeaveResponse, "decline"
                )
        except MatrixSendError as exc:
            log.warning(
                "matrix: could not answer the invite to %s: %s", pseudonym(PLATFORM, room_id), exc
            )
        finally:
            self._handled_invites.discard(room_id)

    async def _on_member(self, room: nio.MatrixRoom, event: nio.RoomMemberEvent) -> None:
        self._direct.membership_changed(room.room_id)
        if event.state_key != self.user_id:
            await self._on_other_member(room, event)
            return
        if event.membership == "join":
            self._live_rooms.add(room.room_id)  # history before our join stays unanswered
        elif event.membership in ("leave", "ban"):
            self._live_rooms.discard(room.room_id)
            self._direct.forget(room.room_id)

    async def _on_other_member(self, room: nio.MatrixRoom, event: nio.RoomMemberEvent) -> None:
        """Someone entered a room (a join after not being joined; a changed display name
        or avatar is a join after a join). The backlog, and rooms from before the bot's
        own join, are left."""
        try:
            if (
                event.membership != "join"
                or event.prev_membership == "join"
                or not self.is_live(room.room_id)
                or self._inbox is None
            ):
                return
            joined = MemberJoined(
                self.chat_ref(room), member(room, event.state_key), room.joined_count
            )
            if not joined.chat.is_direct:
                await self._inbox.member_joined(joined)
        except Exception:
            log.exception("matrix: could not take member event %s", event.event_id)

    async def _on_error_response(self, resp: nio.ErrorResponse) -> None:
        if resp.status_code == "M_LIMIT_EXCEEDED":
            self.rate_limited += 1
            log.debug("matrix: rate limited, retry after %s ms", resp.retry_after_ms)

    def spawn(self, coro: Awaitable[Any], name: str) -> None:
        """A background task that logs its failure and is cancelled at stop()."""

        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("matrix: %s failed", name)

        task = asyncio.create_task(run(), name=f"matrix-{name}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- sending --------------------------------------------------------------------------

    def _check_private(self, chat: ChatRef) -> None:
        """Something meant for one person goes out only while the room is still private
        (it may have stopped being so since the message it answers, or never was)."""
        if chat.is_direct and not self._direct.is_private(chat.id):
            log.info("matrix: not sending a private message into room %s: not private", chat.id)
            raise DirectMessageUnavailable()

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        self._check_private(chat)
        event_id = await self._send_content(chat.id, notice_content(message), transaction_id(key))
        return SentRef(chat, event_id)

    async def send_poll(self, chat: ChatRef, poll: PollSpec, *, key: str | None = None) -> SentPoll:
        self._check_private(chat)
        return await self._polls.send_poll(chat, poll, key=key)

    async def close_poll(self, sent: SentPoll, result: Rich, *, key: str | None = None) -> None:
        await self._polls.close_poll(sent, result, key=key)

    async def fetch_poll_votes(self, sent: SentPoll) -> list[PollVote]:
        return await self._polls.fetch_poll_votes(sent)

    async def send_file(
        self,
        chat: ChatRef,
        filename: str,
        data: bytes,
        mime: str,
        caption: Rich | None = None,
        *,
        key: str | None = None,
    ) -> SentRef:
        self._check_private(chat)
        return await self._media.send_file(chat, filename, data, mime, caption, key=key)

    async def send_with_buttons(
        self,
        chat: ChatRef,
        message: Rich,
        buttons: tuple[Button, ...],
        *,
        key: str | None = None,
    ) -> SentRef:
        self._check_private(chat)
        return await self._media.send_with_buttons(chat, message, buttons, key=key)

    async def send_direct(
        self, account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        if account.platform != PLATFORM:
            raise DirectMessageUnavailable()
        room_id = await self._direct.room_for(account.external_id)
        chat = ChatRef(PLATFORM, room_id, is_direct=True, title=account.display_name)
        return await self.send(chat, message, key=key)

    async def _send_content(self, room_id: str, content: dict[str, Any], tx_id: str) -> str:
        return await self.send_event(room_id, "m.room.message", content, tx_id)

    async def send_event(
        self,
        room_id: str,
        event_type: str,
        content: dict[str, Any],
        tx_id: str,
        *,
        done: Callable[[Any], bool] | None = None,
    ) -> str:
        """Send any room event (encrypted where the room is); returns its event id, or ""
        when `done` accepted an error answer as success."""
        async with self.busy():
            resp = await self.retrying(
                lambda: self.client.room_send(
                    room_id,
                    event_type,
                    dict(content),
                    tx_id=tx_id,
                    ignore_unverified_devices=True,
                ),
                nio.RoomSendResponse,
                "send",
                done=done,
            )
            return str(resp.event_id) if isinstance(resp, nio.RoomSendResponse) else ""

    @contextlib.asynccontextmanager
    async def busy(self) -> AsyncIterator[None]:
        """Around each send or upload: stop() waits for these, and refuses new ones after."""
        if self._stopped:
            raise MatrixSendError("the Matrix transport is stopped")
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def retrying(
        self,
        call: Callable[[], Awaitable[Any]],
        expected: type,
        what: str,
        *,
        budget: float | None = None,
        done: Callable[[Any], bool] | None = None,
    ) -> Any:
        """`call` repeated through rate limits and outages for at most `budget` seconds
        (default `send_budget`); see matrix_send.retrying."""
        budget = self.send_budget if budget is None else budget
        return await retry_call(call, expected, what, budget=budget, done=done)

    async def wait_for_room(self, room_id: str, until: Callable[[], bool] | None = None) -> None:
        """Until a room the bot just created or joined is in nio's state (nio only sends
        into rooms it has synced), and `until()` holds if given (a new room may show up
        in a sync before all of its first events)."""

        def ready() -> bool:
            return room_id in self.client.rooms and (until is None or until())

        while not ready():
            if self._sync_task is None:
                # Shutting down (receiving stopped): sync once ourselves; messages are not
                # taken any more, so nothing in it gets answered.
                await self.client.sync(timeout=0)
                continue
            async with self._synced:
                await self._synced.wait_for(lambda: ready() or self._sync_task is None)
