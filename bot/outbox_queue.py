"""Matrix from a process that is not the leader: its calls go through `outbox_message`.

Only the leader is logged in to Matrix (one device, one sync). A replica that takes a
Telegram command which also writes to Matrix (a poll posted to an AG's chats on both
networks, an announcement, a private notice, an invitation into the AG's room) still
finds a "matrix" transport in `services.transports`: `LeaderRouted`, which hands each
call to the real transport while that runs in this process, and otherwise writes the
call into the table (`QueuedCalls`) and waits for the leader to make it:

- the row holds the method and its arguments as JSON (bot/outbox_codec.py) and the
  call's idempotency key as `send_key` (a retried call with the same key joins the row
  already queued); a NOTIFY wakes the leader's drain (bot/outbox_drain.py);
- the caller waits for the outcome (NOTIFY from the leader, or polling every half
  second) and gets the real result (the event id of the message, so polls and summaries
  can be edited later) or the error the real transport raised;
- after `wait` seconds with no leader having taken the row, it is cancelled (only if
  still `pending`: one conditional UPDATE) and `QueuedSendError` is raised; a row the
  leader has taken is waited for a while longer, since it is being sent.

Same `platform`, `capabilities` and command prefix as the real transport: handlers
cannot tell the difference, except that a call takes a few milliseconds more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from bot.admission import ChatRight, JoinAsked, Way
from bot.core import (
    BaseTransport,
    Button,
    ChatRef,
    Inbox,
    MenuEntry,
    PollSpec,
    PollVote,
    SentPoll,
    SentRef,
    Transport,
)
from bot.outbox_codec import KEYED, QueuedSendError, dump_call, leader_error, load_outcome
from bot.outbox_drain import Drain
from bot.rich import AccountRef, Rich
from bot.spaces import Spaces
from storage.cluster import outbox as rows
from storage.cluster.models import OutboxStatus
from storage.notify import OUTBOX, OUTBOX_DONE, notify

if TYPE_CHECKING:
    from bot.context import Services
    from storage.db import Database

log = logging.getLogger(__name__)

QUEUE_WAIT = 20.0  # seconds a call waits for a leader to take it
SENDING_WAIT = 90.0  # and then for the leader to finish (its send budget is 60 s)
POLL_SECONDS = 0.5  # between looks at the row, should a notification be missed


class QueuedCalls:
    """Writes calls for the leader and waits for their outcome."""

    def __init__(self, services: Services, platform: str, *, wait: float = QUEUE_WAIT) -> None:
        self._services = services
        self.platform = platform
        self.wait = wait
        self._done: dict[int, asyncio.Event] = {}
        services.listener.on(OUTBOX_DONE, self._on_done)

    def _on_done(self, payload: str) -> None:
        if payload.isdecimal() and (event := self._done.get(int(payload))) is not None:
            event.set()

    async def call(self, method: str, *args: Any, key: str | None = None, **kwargs: Any) -> Any:
        """Queue `method(*args, **kwargs)` (with `key=` where the method takes one)."""
        services = self._services
        keyed = dict(kwargs, key=key) if method in KEYED else kwargs
        payload = dump_call(method, args, keyed)
        async with services.db.write() as session:
            row_id = await rows.enqueue(session, self.platform, payload, key, services.now())
            await notify(session, OUTBOX, str(row_id))
        log.debug("%s: %s queued for the leader as row %d", self.platform, method, row_id)
        return await self._outcome(row_id, method)

    async def _outcome(self, row_id: int, method: str) -> Any:
        loop = asyncio.get_running_loop()
        started = loop.time()
        event = self._done.setdefault(row_id, asyncio.Event())
        try:
            while True:
                event.clear()  # before the look: a notification after it is not missed
                async with self._services.db.read() as session:
                    found = await rows.outcome(session, row_id)
                if found is None:
                    raise QueuedSendError(f"queued {method} vanished")
                if found.status == OutboxStatus.SENT.value:
                    return load_outcome(found.payload)
                if found.status == OutboxStatus.FAILED.value:
                    raise leader_error(found.payload) or QueuedSendError(
                        found.last_error or f"queued {method} failed"
                    )
                waited = loop.time() - started
                if waited >= self.wait and found.status == OutboxStatus.PENDING.value:
                    async with self._services.db.write() as session:
                        cancelled = await rows.cancel_if_pending(
                            session, row_id, "no leader took it in time"
                        )
                    if cancelled:
                        log.warning("%s: no leader took a queued %s", self.platform, method)
                        raise QueuedSendError(f"no leader took the queued {method}")
                    continue  # taken meanwhile: wait for it
                if waited >= self.wait + SENDING_WAIT:
                    raise QueuedSendError(f"the queued {method} is still being sent")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), POLL_SECONDS)
        finally:
            self._done.pop(row_id, None)


class LeaderRouted(BaseTransport):
    """The "matrix" transport of every process on PostgreSQL: the real one while it runs
    here (this process leads and is logged in), the queue otherwise. Starting it starts
    the real transport and the leader's drain of the queue; stopping stops both."""

    def __init__(self, services: Services, real: Transport) -> None:
        self.real = real
        self.platform = real.platform
        self.capabilities = real.capabilities
        self.command_prefix = real.command_prefix
        self.queue = QueuedCalls(services, real.platform)
        self.drain: Drain = Drain(services, real)
        self.live = False  # the real transport runs in this process
        self._inbox: Inbox | None = None

    # --- lifecycle: the real transport and the drain --------------------------------
    # `open` (every process), `lead` / `unlead` (the leader's duties) where the App splits
    # starting that way; `start` is both at once.

    async def start(self, inbox: Inbox) -> None:
        await self.open(inbox)
        await self.lead()

    def use_database(self, db: Database) -> None:
        self.real.use_database(db)  # Matrix keeps its sync position there for the next leader

    async def open(self, inbox: Inbox) -> None:
        self._inbox = inbox
        await self.real.open(inbox)

    async def lead(self) -> None:
        """Elected: the real transport runs here from now on, and the drain with it."""
        await self.real.lead()
        self.live = True
        await self.drain.start()

    async def unlead(self) -> None:
        """No longer the leader: calls go to the queue again, for the next leader."""
        await self.drain.stop()
        self.live = False
        await self.real.unlead()

    async def stop_receiving(self) -> None:
        await self.drain.stop()
        await self.real.stop_receiving()

    async def stop(self) -> None:
        await self.drain.stop()
        self.live = False
        await self.real.stop()

    def __getattr__(self, name: str) -> Any:
        """Anything else the real transport has (its sync position, its client for
        tests): the wrapper stands in front of it, not instead of it."""
        if name == "real":
            raise AttributeError(name)
        return getattr(self.real, name)

    @property
    def finished(self) -> asyncio.Event | None:
        return self.real.finished

    async def publish_menus(self, menus: Mapping[tuple[str, str], Sequence[MenuEntry]]) -> None:
        if self.live:
            await self.real.publish_menus(menus)

    # --- calls ----------------------------------------------------------------------

    async def _route(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.live:
            return await getattr(self.real, method)(*args, **kwargs)
        key = kwargs.pop("key", None)
        return await self.queue.call(method, *args, key=key, **kwargs)

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        result: SentRef = await self._route("send", chat, message, key=key)
        return result

    async def send_direct(
        self, account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        result: SentRef = await self._route("send_direct", account, message, key=key)
        return result

    async def send_with_buttons(
        self,
        chat: ChatRef,
        message: Rich,
        buttons: tuple[Button, ...],
        *,
        key: str | None = None,
    ) -> SentRef:
        result: SentRef = await self._route("send_with_buttons", chat, message, buttons, key=key)
        return result

    async def edit(self, sent: SentRef, message: Rich, buttons: tuple[Button, ...] = ()) -> None:
        await self._route("edit", sent, message, buttons)

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
        result: SentRef = await self._route(
            "send_file", chat, filename, data, mime, caption, key=key
        )
        return result

    async def send_poll(self, chat: ChatRef, poll: PollSpec, *, key: str | None = None) -> SentPoll:
        result: SentPoll = await self._route("send_poll", chat, poll, key=key)
        return result

    async def close_poll(self, sent: SentPoll, result: Rich, *, key: str | None = None) -> None:
        await self._route("close_poll", sent, result, key=key)

    async def fetch_poll_votes(self, sent: SentPoll) -> list[PollVote]:
        votes: list[PollVote] = await self._route("fetch_poll_votes", sent)
        return votes

    # --- doors and Spaces (bot/admission.py, bot/spaces.py) --------------------------

    async def let_in(self, chat: ChatRef, account: AccountRef, *, link: str | None) -> Way:
        way: Way = await self._route("let_in", chat, account, link=link)
        return way

    async def answer_join_request(self, request: JoinAsked, approve: bool) -> None:
        await self._route("answer_join_request", request, approve)

    async def remove_member(self, chat: ChatRef, account: AccountRef) -> bool:
        return bool(await self._route("remove_member", chat, account))

    async def create_topic(self, chat: ChatRef, name: str) -> ChatRef:
        topic: ChatRef = await self._route("create_topic", chat, name)
        return topic

    async def create_room(self, name: str, topic: str, *, space: str | None) -> ChatRef:
        room: ChatRef = await self._route("create_room", name, topic, space=space)
        return room

    def right_hint(self, right: ChatRight) -> str:
        hint = getattr(self.real, "right_hint", None)
        return str(hint(right)) if hint is not None else ""

    async def find_space(self, ref: str) -> ChatRef:
        space: ChatRef = await self._route("find_space", ref)
        return space

    async def create_space(self, name: str) -> ChatRef:
        space: ChatRef = await self._route("create_space", name)
        return space

    def link_to(self, chat: ChatRef) -> str:
        return cast(Spaces, self.real).link_to(chat)


def route_through_queue(services: Services, platforms: Sequence[str] = ("matrix",)) -> None:
    """On PostgreSQL (several processes possible), put `LeaderRouted` in front of the
    transports only the leader runs (Matrix), and let the leader's rescan look at the
    queue. SQLite has one process, which always leads: nothing changes there."""
    if services.db.is_sqlite:
        return
    for platform in platforms:
        real = services.transports.get(platform)
        if real is not None and not isinstance(real, LeaderRouted):
            services.transports[platform] = LeaderRouted(services, real)
    if any(isinstance(t, LeaderRouted) for t in services.transports.values()):
        services.registry.rescan_hooks.append(rescan_queue)


async def rescan_queue(services: Services) -> None:
    """The safety net of the drain's wake-ups (run by the leader every few seconds): look
    at the queue now, and forget rows done for more than a day."""
    for transport in list(services.transports.values()):
        if isinstance(transport, LeaderRouted) and transport.live:
            await transport.drain.rescan()
