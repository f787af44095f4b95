"""Matrix through matrix-nio: commands in (plain and end-to-end encrypted) rooms, notices out.

Why it looks the way it does:
- One device for the bot's whole life: a fixed device id, nio's store and the access token
  kept in the store folder, so encrypted rooms survive restarts and no devices pile up.
- Our own sync loop instead of `sync_forever` (sync.py): the backlog is read for state but
  never answered, and handlers run as tasks of the Inbox: the next sync waits for them
  (so that it does not meet the reply at the homeserver) for SYNC_HOLD at most.
- Every send has a transaction id derived from its key: a retry after a rate limit or an
  outage reuses it, and the homeserver drops the duplicate.
- Polls (MSC3381) live in poll_io, files and reaction "buttons" in media_io, waiting for
  room keys and trusting new devices in keys, private rooms in direct, invites in invites;
  this class routes events there and lends them its sending and retrying (send.RoomSender)
  through the small `host.MatrixHost` protocol. Logging in is login.
- Whether a room is a private chat is private.py's rule (not a head count): it needs
  every member event a sync brings before nio handles the sync, hence the small client
  subclass below.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable
from typing import Any

import nio

from bot import stages
from bot.config import MatrixSettings
from bot.core import (
    BaseTransport,
    Capabilities,
    ChatRef,
    DirectMessageUnavailable,
    Inbox,
    IncomingMessage,
    MemberJoined,
    SentRef,
    UserRef,
)
from bot.rich import AccountRef, Rich
from bot.transports.matrix.client import QuietStore, StagedClient
from bot.transports.matrix.direct import DirectRooms
from bot.transports.matrix.doors import MatrixDoors
from bot.transports.matrix.edit import MatrixEdits
from bot.transports.matrix.handon import MatrixHandOn
from bot.transports.matrix.invites import Invites
from bot.transports.matrix.keys import RoomKeys
from bot.transports.matrix.login import log_in
from bot.transports.matrix.media_io import MatrixMedia
from bot.transports.matrix.poll_io import MatrixPolls
from bot.transports.matrix.position import Continuity, answered
from bot.transports.matrix.private import PrivateRooms
from bot.transports.matrix.receive import chat_ref, incoming, member, user_ref
from bot.transports.matrix.send import SEND_BUDGET, RoomSender
from bot.transports.matrix.session import prepare_store
from bot.transports.matrix.sync import Syncer, housekeeping
from bot.transports.matrix.text import PLATFORM, notice_content, transaction_id
from bot.transports.positions import DbPositions
from storage.db import Database

log = logging.getLogger(__name__)

STOP_GRACE = 10.0  # seconds stop() waits for sends still in flight


# --- the transport ----------------------------------------------------------------------


class MatrixTransport(MatrixHandOn, MatrixDoors, MatrixEdits, BaseTransport):
    platform = PLATFORM
    command_prefix = "!"
    # Buttons are reactions the bot puts under its notice (media.py); edits: edit.py.
    capabilities = Capabilities(
        html=True,
        mentions=True,
        native_polls=True,
        buttons=True,
        reactions=True,
        edits=True,
        files=True,
        max_message_length=16000,
    )

    def __init__(self, settings: MatrixSettings, *, send_budget: float = SEND_BUDGET) -> None:
        self.settings = settings
        self.client = StagedClient(
            settings.homeserver,
            settings.user_id,
            device_id=settings.device_id,
            store_path=str(settings.store_path),
            config=nio.AsyncClientConfig(
                store_sync_tokens=False,  # saved by the Syncer, see sync.py
                encryption_enabled=True,
                store=QuietStore,
                max_timeout_retry_wait_time=5,  # reconnect within seconds after an outage
            ),
        )
        self.rate_limited = 0  # M_LIMIT_EXCEEDED answers seen (nio waits and retries them)
        self._inbox: Inbox | None = None
        self._live = False
        self._live_rooms: set[str] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._receiving = False
        self._callbacks_registered = False
        self.syncer = Syncer(self.client, settings)
        self.continuity = Continuity()
        self._held: list[IncomingMessage] = []  # commands of a resumed first sync
        self.syncer.on_restart = self._not_resuming
        self.sender = RoomSender(self.client, send_budget)
        self._invites = Invites(self, settings.allowed_inviters)
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
        if self.continuity.cutoff_ms is not None:  # a resumed first sync (position.py)
            return self._live and room_id in self.client.rooms
        return self._live and room_id in self._live_rooms

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, inbox: Inbox) -> None:
        """Log in, read the backlog without answering it, then sync in the background."""
        await self.open(inbox)
        await self.lead()

    def use_database(self, db: Database) -> None:
        self.continuity.positions = DbPositions(db)

    async def open(self, inbox: Inbox) -> None:
        """Every process: nothing to connect. Only the leader logs in and uses the store,
        so one device's encryption keys are never used by two processes at once."""
        self._inbox = inbox

    async def lead(self) -> None:
        """Log in and sync: from the shared position if there is one (answering what came
        since, position.py), else from the store's, leaving the backlog unanswered."""
        self.sender.stopped = False
        self._receiving = True
        await asyncio.to_thread(prepare_store, self.settings.store_path)
        self._register_callbacks()
        await log_in(self.client, self.settings)
        shared = await self.continuity.resume_from()
        if shared:
            self.client.loaded_sync_token = shared  # not this process's own, older one
            # Not `next_batch`: nio drops a sync response whose next_batch equals its own,
            # so a quiet room's resumed first sync would be dropped whole (no rooms at all).
            self.client.next_batch = None
            self._live = True  # answer the gap, see is_live
        first = await self.syncer.first_sync(resume=bool(shared))
        self.continuity.cutoff_ms = None
        await self._handle_resumed(first)
        self.continuity.batch_done(self.client.next_batch)
        self._live_rooms = set(self.client.rooms)
        self._live = True
        await housekeeping(self.client)
        self.syncer.start(self._after_sync)
        log.info("matrix: logged in as %s (device %s)", self.user_id, self.client.device_id)

    async def _handle_resumed(self, first: nio.SyncResponse) -> None:
        """The commands of a resumed first sync, held until the whole sync was read: those
        whose reply is among the bot's own events were answered before and are skipped."""
        held, self._held = self._held, []
        if not held:
            return
        done = answered(first, self.user_id)
        for message in held:
            first_reply = f"reply:{message.chat.key}:{message.message_id}:0"
            if transaction_id(first_reply) in done:
                log.info("matrix: %s was answered before the takeover", message.message_id)
                continue
            assert self._inbox is not None
            self.continuity.track(await self._inbox.message(message))

    def _not_resuming(self) -> None:
        self._live = False
        self.continuity.cutoff_ms = None

    async def unlead(self) -> None:
        """No longer the leader: stop syncing and sending at once and close the session
        (another process now uses the device); `lead` logs in again."""
        await self.stop(grace=0.0)

    async def stop_receiving(self) -> None:
        """Take no new messages; commands already received may still send their replies."""
        self._live = False
        self._receiving = False
        await self.syncer.stop()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop receiving, let sends already under way finish, then close the connection."""
        await self.stop_receiving()
        try:
            async with asyncio.timeout(grace):
                await self.sender.idle()
        except TimeoutError:
            log.warning("matrix: %d sends still running at shutdown", self.sender.in_flight)
        for job in list(self._background):
            job.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.continuity.stop()
        self.sender.stopped = True  # nio would quietly open a new HTTP session for a late send
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

    async def _after_sync(self, resp: nio.SyncResponse) -> None:
        # Rooms whose join event fell out of a limited timeline: answer from now on.
        self._live_rooms.update(self.client.rooms)
        for room_id, joined in resp.rooms.join.items():
            if joined.timeline.limited and room_id in self._live_rooms:
                # Poll responses may have fallen into the gap: read them back.
                self.spawn(self._polls.catch_up(room_id), "poll catch-up")
        self.continuity.batch_done(resp.next_batch)
        await housekeeping(self.client)
        if stages.enabled:
            for key in self.client.stage_keys:
                stages.mark("after_sync_done", key)

    # --- callbacks (never raise, never wait for a handler) --------------------------------

    async def _on_text(self, room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        try:
            if not self.is_live(room.room_id):
                log.debug(
                    "matrix: not answering %s (from before the bot started or joined)",
                    event.event_id,
                )
                return
            if not self._fresh(event):
                return
            message = incoming(room, event, self.user_id)
            if stages.enabled:
                self.client.staged(event.event_id)
            if message is not None and self._inbox is not None:
                message = dataclasses.replace(message, chat=self.chat_ref(room))
                if self.continuity.cutoff_ms is not None:  # a resumed first sync: see lead
                    self._held.append(message)
                    return
                work = await self._inbox.message(message)
                if work is not None:
                    self.syncer.hold_for(work)  # the next sync waits for it (sync.py)
                self.continuity.track(work)
        except Exception:
            log.exception("matrix: could not take message %s", event.event_id)

    def chat_ref(self, room: nio.MatrixRoom) -> ChatRef:
        """The room as the core sees it: private only by private.py's rule, judged now."""
        return chat_ref(room, is_direct=self._private.partner(room) is not None)

    def user_ref(self, room: nio.MatrixRoom | None, user_id: str) -> UserRef:
        return user_ref(room, user_id)

    def _takes(self, room: nio.MatrixRoom, event: Any) -> bool:
        """Live events from others only: the backlog and the bot's own events are left."""
        return self.is_live(room.room_id) and self._fresh(event)

    def _fresh(self, event: Any) -> bool:
        """From someone else, to be answered: not the bot's own, not too old (position.py)."""
        ours = event.sender == self.user_id or self._inbox is None
        return not ours and self.continuity.fresh(event)

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
        if self._receiving:  # shutting down: the invite stays for the next start
            self._invites.on_invite(room, event)

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
                or not self._takes(room, event)
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
        self._check_private(chat)  # a chat sent to as private is private now
        content = notice_content(message, private=chat.is_direct)
        event_id = await self._send_content(chat.id, content, transaction_id(key))
        return SentRef(chat, event_id)

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
