"""nio-driven "human" users of a real Synapse homeserver (``synapse_server.py``, whose
``SynapseServer`` is importable from here too: a test that has humans has their server)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nio

from tests.support.synapse_server import SynapseServer

__all__ = ["MatrixHuman", "Predicate", "SeenEvent", "SynapseServer"]


@dataclass(frozen=True)
class SeenEvent:
    """One event a ``MatrixHuman`` saw, with the room it arrived in (nio events lack it)."""

    index: int
    room_id: str
    event: Any

    @property
    def source(self) -> dict[str, Any]:
        src = getattr(self.event, "source", None)
        return src if isinstance(src, dict) else {}

    @property
    def type(self) -> str:
        """Event type; for decrypted events the inner type (e.g. ``m.room.message``)."""
        return str(self.source.get("type") or getattr(self.event, "type", ""))

    @property
    def sender(self) -> str:
        return str(getattr(self.event, "sender", None) or self.source.get("sender", ""))

    @property
    def event_id(self) -> str | None:
        value = getattr(self.event, "event_id", None) or self.source.get("event_id")
        return str(value) if value else None

    @property
    def content(self) -> dict[str, Any]:
        content = self.source.get("content")
        return content if isinstance(content, dict) else {}

    @property
    def body(self) -> str:
        body = getattr(self.event, "body", None)
        if body is None:
            body = self.content.get("body", "")
        return str(body)

    @property
    def msgtype(self) -> str | None:
        value = self.content.get("msgtype")
        return str(value) if value is not None else None

    def __str__(self) -> str:
        kind = type(self.event).__name__
        return f"#{self.index} {self.room_id} {kind} {self.type} from {self.sender}: {self.body!r}"


Predicate = Callable[[SeenEvent], bool]

_RECORDED_EVENT_TYPES: tuple[type, ...] = (
    nio.Event,
    nio.InviteEvent,
    nio.BadEvent,
    nio.UnknownBadEvent,
)


class MatrixHuman:
    """A test user on the other side of the bot, driven through ``nio.AsyncClient``.

    ``start_sync()`` runs ``sync_forever`` in the background and records every timeline event
    (text, notices, unknown/poll events, decrypted Megolm events, invites) into ``events``;
    ``wait_for`` then waits on a condition instead of sleeping.
    """

    def __init__(self, server: SynapseServer, client: nio.AsyncClient, password: str) -> None:
        self.server = server
        self.client = client
        self.password = password
        self.events: list[SeenEvent] = []
        self._seen_ids: set[tuple[str, str]] = set()
        self._changed = asyncio.Condition()
        self._sync_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[None]] = set()
        client.add_event_callback(self._on_event, _RECORDED_EVENT_TYPES)
        client.add_response_callback(self._on_sync, nio.SyncResponse)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @property
    def device_id(self) -> str:
        return str(self.client.device_id)

    @classmethod
    async def login(
        cls,
        server: SynapseServer,
        username: str,
        *,
        password: str | None = None,
        store_path: Path | None = None,
        device_id: str | None = None,
    ) -> MatrixHuman:
        """Register (if needed) and log in. ``store_path`` turns on E2E with a nio store.

        Pass the same ``device_id`` and ``store_path`` again to reuse a device instead of
        piling up new ones on every login.
        """
        if password is None:
            password = "pw-" + username
        user_id = server.register(username, password, exist_ok=True)
        # Fast reconnects after server.restart(): nio's default backoff grows to 60 s.
        config_kwargs: dict[str, Any] = {"max_timeout_retry_wait_time": 1.0}
        if store_path is not None:
            Path(store_path).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (tiny, once)
            config = nio.AsyncClientConfig(
                store_sync_tokens=True, encryption_enabled=True, **config_kwargs
            )
            client = nio.AsyncClient(
                server.base_url,
                user_id,
                device_id=device_id,
                store_path=str(store_path),
                config=config,
            )
        else:
            config = nio.AsyncClientConfig(encryption_enabled=False, **config_kwargs)
            client = nio.AsyncClient(server.base_url, user_id, device_id=device_id, config=config)
        resp = await client.login(password, device_name=f"test-{username}")
        if not isinstance(resp, nio.LoginResponse):
            await client.close()
            raise RuntimeError(f"login of {user_id} failed: {resp}")
        return cls(server, client, password)

    # -- recording --------------------------------------------------------------------------

    async def _on_event(self, room: nio.MatrixRoom, event: Any) -> None:
        seen = SeenEvent(len(self.events), str(room.room_id), event)
        if seen.event_id is not None:
            key = (seen.room_id, seen.event_id)
            if key in self._seen_ids:
                return  # a re-sync after restart/re-login delivers history again
            self._seen_ids.add(key)
        self.events.append(seen)
        await self._notify()

    async def _on_sync(self, _response: Any) -> None:
        await self._notify()  # room state (members, invites) may have changed

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def mark(self) -> int:
        """Index to pass as ``since=`` so only events seen from now on match."""
        return len(self.events)

    # -- sync -------------------------------------------------------------------------------

    # The waiting helpers take ``timeout=`` (ASYNC109) on purpose: tests read better with
    # ``await human.wait_for(..., timeout=5)`` than wrapped in ``asyncio.timeout``.

    async def start_sync(self, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Start the background sync loop and wait for its first sync to finish."""
        if self._sync_task is not None and not self._sync_task.done():
            return
        first = asyncio.Event()

        async def first_sync(_response: Any) -> None:
            first.set()

        self.client.add_response_callback(first_sync, nio.SyncResponse)
        self._sync_task = asyncio.create_task(
            self.client.sync_forever(timeout=30_000, full_state=True),
            name=f"sync {self.user_id}",
        )
        # Wake waiters if the loop dies, so they raise its error instead of timing out.
        self._sync_task.add_done_callback(self._on_sync_task_done)
        try:
            await self._until(first.is_set, timeout, what="the first sync")
        finally:
            self.client.response_callbacks = [
                cb for cb in self.client.response_callbacks if cb.func is not first_sync
            ]

    def _on_sync_task_done(self, _task: asyncio.Task[None]) -> None:
        notifier = asyncio.ensure_future(self._notify())
        self._background.add(notifier)
        notifier.add_done_callback(self._background.discard)

    async def stop_sync(self) -> None:
        task, self._sync_task = self._sync_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Stop syncing and close the HTTP session (the device stays, for reuse)."""
        await self.stop_sync()
        await self.client.close()

    async def _until(self, check: Callable[[], bool], seconds: float, *, what: str) -> None:
        """Wait until ``check()`` holds, re-checking whenever a sync or event arrives."""

        def ready() -> bool:
            task = self._sync_task
            if task is not None and task.done() and not task.cancelled():
                exc = task.exception()
                if exc is not None:
                    raise RuntimeError(f"sync loop of {self.user_id} died") from exc
            return check()

        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(ready)
        except TimeoutError:
            recent = "\n".join(f"  {e}" for e in self.events[-15:]) or "  (none)"
            raise TimeoutError(
                f"{self.user_id}: timed out after {seconds}s waiting for {what}; "
                f"last events seen:\n{recent}"
            ) from None

    # -- waiting ----------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Predicate,
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        since: int = 0,
    ) -> SeenEvent:
        """First recorded event at index >= ``since`` matching ``predicate``.

        ``since`` defaults to 0 so an event that arrived before the call still counts; use
        ``mark()`` before the action to ignore older ones. Needs ``start_sync()``.
        """
        found: list[SeenEvent] = []
        scanned = since

        def check() -> bool:
            nonlocal scanned
            while scanned < len(self.events):
                seen = self.events[scanned]
                scanned += 1
                if predicate(seen):
                    found.append(seen)
                    return True
            return False

        await self._until(check, timeout, what=getattr(predicate, "__name__", "an event"))
        return found[0]

    async def wait_for_notice(
        self,
        room_id: str,
        sender: str,
        timeout: float = 10.0,  # noqa: ASYNC109
        contains: str | None = None,
        *,
        since: int = 0,
    ) -> SeenEvent:
        """An ``m.notice`` (how bots answer) from ``sender`` in ``room_id``."""

        def is_notice(seen: SeenEvent) -> bool:
            return (
                seen.room_id == room_id
                and seen.sender == sender
                and seen.type == "m.room.message"
                and seen.msgtype == "m.notice"
                and (contains is None or contains in seen.body)
            )

        is_notice.__name__ = f"a notice from {sender} in {room_id} containing {contains!r}"
        return await self.wait_for(is_notice, timeout, since=since)

    async def wait_for_membership(
        self,
        room_id: str,
        user_id: str,
        membership: str = "join",
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        """Until the synced room state shows ``user_id`` with ``membership``.

        Checks nio's room state, not only timeline events: membership can arrive as state.
        """

        def check() -> bool:
            if membership == "invite" and user_id == self.user_id:
                return room_id in self.client.invited_rooms
            room = self.client.rooms.get(room_id)
            if room is None:
                return False
            if membership == "join":
                # room.users also holds invited members; only a real join counts.
                return user_id in room.users and user_id not in room.invited_users
            if membership == "invite":
                return user_id in room.invited_users
            if membership in ("leave", "ban"):
                return any(
                    seen.room_id == room_id
                    and isinstance(seen.event, nio.RoomMemberEvent)
                    and seen.event.state_key == user_id
                    and seen.event.membership == membership
                    for seen in self.events
                )
            raise ValueError(f"unknown membership {membership!r}")

        await self._until(check, timeout, what=f"{user_id} to {membership} {room_id}")

    # -- acting -----------------------------------------------------------------------------

    async def create_room(
        self,
        name: str | None = None,
        invite: Iterable[str] = (),
        *,
        encrypted: bool = False,
        is_direct: bool = False,
    ) -> str:
        initial_state: list[dict[str, Any]] = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        resp = await self.client.room_create(
            name=name,
            invite=list(invite),
            initial_state=initial_state,
            is_direct=is_direct,
        )
        if not isinstance(resp, nio.RoomCreateResponse):
            raise RuntimeError(f"room_create failed: {resp}")
        return str(resp.room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        resp = await self.client.room_invite(room_id, user_id)
        if not isinstance(resp, nio.RoomInviteResponse):
            raise RuntimeError(f"invite of {user_id} to {room_id} failed: {resp}")

    async def join(self, room_id: str) -> None:
        resp = await self.client.join(room_id)
        if not isinstance(resp, nio.JoinResponse):
            raise RuntimeError(f"join of {room_id} failed: {resp}")

    async def leave(self, room_id: str) -> None:
        resp = await self.client.room_leave(room_id)
        if not isinstance(resp, nio.RoomLeaveResponse):
            raise RuntimeError(f"leave of {room_id} failed: {resp}")

    async def send_text(self, room_id: str, body: str, *, msgtype: str = "m.text") -> str:
        return await self.send_event(room_id, "m.room.message", {"msgtype": msgtype, "body": body})

    async def send_event(self, room_id: str, type: str, content: dict[str, Any]) -> str:
        """Send any event (polls, reactions, ...); encrypts in encrypted rooms."""
        room = self.client.rooms.get(room_id)
        if room is not None and room.encrypted and self.client.should_query_keys:
            # Otherwise devices that joined since the last sync miss the Megolm session.
            await self.client.keys_query()
        resp = await self.client.room_send(room_id, type, content, ignore_unverified_devices=True)
        if not isinstance(resp, nio.RoomSendResponse):
            raise RuntimeError(f"sending {type} to {room_id} failed: {resp}")
        return str(resp.event_id)

    async def trust_all_devices(self) -> int:
        """Query keys and mark every known device verified; returns how many were new."""
        if self.client.olm is None:
            raise RuntimeError("trust_all_devices needs a client with a store_path (E2E)")
        if self.client.should_query_keys:
            await self.client.keys_query()
        changed = 0
        for device in self.client.device_store:
            if device.user_id == self.user_id and device.id == self.device_id:
                continue
            if self.client.verify_device(device):
                changed += 1
        return changed
