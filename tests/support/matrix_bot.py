"""The whole bot on a real Synapse, and the few steps every Matrix end-to-end test repeats.

`running_bot` starts `App` with only the `MatrixTransport` (database, dispatcher, handlers
all real) and always stops it; `ask` is one chat turn: a human says something and waits for
the bot's notice, timing the round trip.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.app import App
from bot.config import MatrixSettings, Secret, Settings
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


@dataclass
class RunningBot:
    app: App
    transport: MatrixTransport

    @property
    def user_id(self) -> str:
        return self.transport.user_id


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[RunningBot]:
    assert settings.matrix is not None
    transport = MatrixTransport(settings.matrix)
    app = App(settings, [transport])
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
