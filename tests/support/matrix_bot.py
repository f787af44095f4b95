"""The whole bot on a real Synapse, and the few steps every Matrix end-to-end test repeats.

`running_bot` starts `App` with only the `MatrixTransport` (database, dispatcher, handlers
all real; optionally another handler registry) and always stops it; `running_transport`
starts the transport alone against a `RecordingInbox`, for tests of what the transport
reports; `ask` is one chat turn: a human says something and waits for the bot's notice,
timing the round trip.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.app import App
from bot.commands import Registry
from bot.config import MatrixSettings, Secret, Settings
from bot.core import ButtonPress, IncomingMessage, MemberJoined, PollCounts, PollVote
from bot.rich import AccountRef
from bot.transports.matrix import MatrixTransport
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name

ROOT = Path(__file__).resolve().parents[2]

# (what, seconds) of every `ask`, so a run can report real round-trip times.
ROUND_TRIPS: list[tuple[str, float]] = []


@dataclass(frozen=True)
class BotAccount:
    user_id: str
    password: str


def register_bot(server: SynapseServer, name: str = "bot") -> BotAccount:
    username = unique_name(name)
    password = "pw-" + username
    return BotAccount(server.register(username, password), password)


def bot_settings(
    workdir: Path,
    server: SynapseServer,
    account: BotAccount,
    *,
    admins: tuple[str, ...] = (),
    allowed_inviters: tuple[str, ...] = (":localhost",),
) -> Settings:
    """Settings of one bot instance; the same `workdir` means the same store and database."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
        admins=frozenset(admins),
        ags_file=ROOT / "config" / "ags.toml",
        matrix=MatrixSettings(
            homeserver=server.base_url,
            user_id=account.user_id,
            password=Secret(account.password),
            store_path=workdir / "store",
            allowed_inviters=allowed_inviters,
        ),
    )


@asynccontextmanager
async def human_and_bot_account(
    server: SynapseServer, workdir: Path, *, admin: bool = True
) -> AsyncIterator[tuple[MatrixHuman, Settings]]:
    """A new bot account with its settings in `workdir`, and a syncing human who is the
    bot's admin (unless `admin=False`); the human logs out afterwards."""
    account = register_bot(server)
    human = await MatrixHuman.login(server, unique_name("anna"))
    admins = (f"matrix:{human.user_id}",) if admin else ()
    try:
        await human.start_sync()
        yield human, bot_settings(workdir, server, account, admins=admins)
    finally:
        await human.close()


@dataclass
class RunningBot:
    app: App
    transport: MatrixTransport

    @property
    def user_id(self) -> str:
        return self.transport.user_id


@asynccontextmanager
async def running_bot(
    settings: Settings, *, registry: Registry | None = None
) -> AsyncIterator[RunningBot]:
    """The whole bot; `registry` replaces the handler table (tests adding handlers)."""
    assert settings.matrix is not None
    transport = MatrixTransport(settings.matrix)
    app = App(settings, [transport])
    if registry is not None:
        app.services.registry = registry
    await app.start()
    try:
        yield RunningBot(app, transport)
    finally:
        await app.stop()


async def room_with_bot(
    human: MatrixHuman,
    bot_id: str,
    *,
    encrypted: bool = False,
    invite: tuple[str, ...] = (),
    name: str = "AG-Raum",
) -> str:
    """A room the human created and the bot joined (auto-join on invite)."""
    room_id = await human.create_room(name, invite=[bot_id, *invite], encrypted=encrypted)
    await wait_joined(human, room_id, bot_id)
    return room_id


async def wait_joined(
    human: MatrixHuman,
    room_id: str,
    user_id: str,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> SeenEvent:
    """The member event of `user_id` joining, as the human's sync saw it.

    Not `MatrixHuman.wait_for_membership(..., "join")`: that checks `room.users`, which
    holds invited members too, so it returns as soon as the invite is out.
    """

    def joined(seen: SeenEvent) -> bool:
        return (
            seen.room_id == room_id
            and seen.type == "m.room.member"
            and seen.source.get("state_key") == user_id
            and seen.content.get("membership") == "join"
        )

    joined.__name__ = f"{user_id} joining {room_id}"
    return await human.wait_for(joined, timeout)


async def ask(
    human: MatrixHuman,
    room_id: str,
    bot_id: str,
    text: str,
    *,
    contains: str | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> SeenEvent:
    """Send `text`, return the bot's next notice in that room (containing `contains`)."""
    mark = human.mark()
    started = time.monotonic()
    await human.send_text(room_id, text)
    seen = await human.wait_for_notice(room_id, bot_id, timeout, contains, since=mark)
    ROUND_TRIPS.append((text, time.monotonic() - started))
    return seen


def notices_from(human: MatrixHuman, room_id: str, sender: str, since: int = 0) -> list[SeenEvent]:
    return [
        e
        for e in human.events[since:]
        if e.room_id == room_id
        and e.sender == sender
        and e.type == "m.room.message"
        and e.msgtype == "m.notice"
    ]


T = TypeVar("T")


@dataclass
class RecordingInbox:
    """An Inbox that only records what the transport reports, and lets a test wait for it."""

    messages: list[IncomingMessage] = field(default_factory=list)
    votes: list[PollVote] = field(default_factory=list)
    presses: list[ButtonPress] = field(default_factory=list)
    joins: list[MemberJoined] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def _record(self, into: list[Any], item: Any) -> None:
        into.append(item)
        async with self._changed:
            self._changed.notify_all()

    async def message(self, message: IncomingMessage) -> None:
        await self._record(self.messages, message)

    async def chat_migrated(self, platform: str, old_id: str, new_id: str) -> None:
        return None

    async def direct_reachable(self, account: AccountRef, reachable: bool) -> None:
        return None

    async def poll_vote(self, vote: PollVote) -> None:
        await self._record(self.votes, vote)

    async def poll_counts(self, counts: PollCounts) -> None:
        return None

    async def member_joined(self, event: MemberJoined) -> None:
        await self._record(self.joins, event)

    async def button_pressed(self, press: ButtonPress) -> str | None:
        await self._record(self.presses, press)
        return None

    async def wait(
        self,
        items: list[T],
        since: int,
        timeout: float = 10.0,  # noqa: ASYNC109
        match: Callable[[T], bool] = lambda _item: True,
    ) -> T:
        """The first item at index >= `since` of `items` (e.g. `inbox.votes`) that matches."""

        def found() -> T | None:
            return next((item for item in items[since:] if match(item)), None)

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        item = found()
        assert item is not None
        return item


@asynccontextmanager
async def running_transport(
    settings: Settings, inbox: RecordingInbox
) -> AsyncIterator[MatrixTransport]:
    """The Matrix transport alone, reporting to `inbox`."""
    assert settings.matrix is not None
    transport = MatrixTransport(settings.matrix)
    await transport.start(inbox)
    try:
        yield transport
    finally:
        await transport.stop()


async def bot_knows(
    transport: MatrixTransport,
    room_id: str,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> None:
    """Until the bot's own sync has the room: nio sends only into rooms it has synced, and
    the human may see the bot's join before the bot does."""
    synced = transport.syncer.synced  # notified after every sync
    async with asyncio.timeout(timeout), synced:
        await synced.wait_for(lambda: room_id in transport.client.rooms)


async def bot_sees(
    transport: MatrixTransport,
    check: Callable[[], bool],
    timeout: float = 10.0,  # noqa: ASYNC109
) -> None:
    """Until `check()` holds after one of the bot's syncs (e.g. a member it should know of)."""
    synced = transport.syncer.synced
    async with asyncio.timeout(timeout), synced:
        await synced.wait_for(check)
