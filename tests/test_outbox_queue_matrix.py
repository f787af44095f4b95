"""The Matrix queue against the real Synapse: a replica that is not logged in to Matrix
posts to an AG's Matrix room through the leader (bot/outbox_queue.py), exactly once; a
leader that dies between sending and recording leaves the row to the next leader, which
sends it again with the same transaction id, and Synapse drops the duplicate.

Both bots share one PostgreSQL and the bot's Matrix account; the replica's commands come
in on a recording network ("fake", standing for Telegram in webhook mode).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.clock import ManualClock
from bot.config import Secret, Settings
from bot.core import ChatRef, SentRef
from bot.outbox_queue import LeaderRouted
from bot.rich import text
from bot.transports.matrix import MatrixTransport
from bot.transports.matrix.polls import POLL_START
from storage.cluster.models import OutboxMessage
from storage.leases import LEASE
from tests.support.fake import FakeTransport
from tests.support.matrix_bot import ask, bot_settings, register_bot, room_with_bot
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name

pytestmark = [pytest.mark.synapse, pytest.mark.postgres]


@pytest.fixture
async def setting(
    synapse: SynapseServer, tmp_path: Path, postgres_url: str
) -> AsyncIterator[tuple[MatrixHuman, Settings, SynapseServer]]:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    await human.start_sync()
    settings = bot_settings(
        tmp_path, synapse, account, admins=(f"matrix:{human.user_id}", "fake:admin")
    )
    try:
        yield (
            human,
            dataclasses.replace(
                settings, database_url=postgres_url, secret_key=Secret("shared-secret")
            ),
            synapse,
        )
    finally:
        await human.close()


@asynccontextmanager
async def leader(settings: Settings) -> AsyncIterator[App]:
    """A bot that leads: logged in to Matrix, draining the queue."""
    assert settings.matrix is not None
    app = App(settings, [FakeTransport(), MatrixTransport(settings.matrix)])
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@asynccontextmanager
async def replica(settings: Settings) -> AsyncIterator[tuple[App, FakeTransport]]:
    """A bot that does not lead: commands on "fake", Matrix never started."""
    assert settings.matrix is not None
    fake = FakeTransport()
    app = App(settings, [fake, MatrixTransport(settings.matrix)])
    app.services.leading = False
    await app.prepare_database()
    await app.services.listener.start()
    await fake.start(app.dispatcher)
    try:
        yield app, fake
    finally:
        await app.services.listener.stop()
        await app.services.db.dispose()


async def say(app: App, chat: str, who: str, command: str) -> None:
    from bot.core import IncomingMessage, UserRef

    message = IncomingMessage(
        ChatRef("fake", chat, title=chat), UserRef("fake", who, who), command, message_id="1"
    )
    await (await app.dispatcher.message(message))


async def group_room(human: MatrixHuman, bot_id: str, synapse: SynapseServer) -> str:
    """A room of the human and the bot with a third person invited: a group, not private."""
    ben = synapse.register(unique_name("ben"), "pw-ben")
    return await room_with_bot(human, bot_id, invite=(ben,))


async def test_a_poll_from_the_replica_is_posted_once_in_the_matrix_room(
    setting: tuple[MatrixHuman, Settings, SynapseServer],
) -> None:
    human, settings, synapse = setting
    async with leader(settings) as lead:
        bot_id = settings.matrix.user_id if settings.matrix else ""
        room_id = await group_room(human, bot_id, synapse)
        await ask(human, room_id, bot_id, "!link ag2", contains="ag2")
        async with replica(settings) as (rep, fake):
            await say(rep, "gruppe", "admin", "link ag2")
            mark = human.mark()

            await say(rep, "gruppe", "admin", "poll Wann Plenum? Di, Mi, Do")

            start = await human.wait_for(
                lambda e: e.room_id == room_id and e.type == POLL_START and e.sender == bot_id,
                since=mark,
            )
            await asyncio.sleep(1.0)  # a duplicate would arrive within this
            starts = [
                e for e in human.events[mark:] if e.room_id == room_id and e.type == POLL_START
            ]
            assert [e.event_id for e in starts] == [start.event_id]
            assert [spec.question for _, spec in fake.polls] == ["Wann Plenum?"]
            routed = lead.services.transports["matrix"]
            assert isinstance(routed, LeaderRouted) and routed.drain.made == 1


async def test_a_leader_killed_mid_row_leaves_it_to_the_next_one_and_synapse_drops_the_resend(
    setting: tuple[MatrixHuman, Settings, SynapseServer],
) -> None:
    human, settings, synapse = setting
    assert settings.matrix is not None
    bot_id = settings.matrix.user_id
    async with replica(settings) as (rep, _fake):
        standin = rep.services.transports["matrix"]
        assert isinstance(standin, LeaderRouted) and not standin.live
        async with leader(settings) as first:
            room_id = await group_room(human, bot_id, synapse)
            drain = first.services.transports["matrix"]
            assert isinstance(drain, LeaderRouted)
            stuck = asyncio.Event()

            async def dies_before_recording(*_args: object, **_kwargs: object) -> None:
                stuck.set()
                await asyncio.Event().wait()  # killed here: sent, not recorded

            drain.drain._finish = dies_before_recording  # type: ignore[method-assign]
            mark = human.mark()
            call = asyncio.create_task(
                standin.send(ChatRef("matrix", room_id), text("Plenum morgen"), key="announce:7")
            )
            seen = await human.wait_for_notice(
                room_id, bot_id, contains="Plenum morgen", since=mark
            )
            await asyncio.wait_for(stuck.wait(), 10)
        # The first leader is gone; its lease on the row is still running.
        async with rep.services.db.read() as session:
            row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "sending" and row.attempts == 1
        assert not call.done()

        later = dataclasses.replace(settings)
        async with leader(later) as second:
            second.services.clock = ManualClock(rep.services.now() + LEASE + timedelta(seconds=1))
            second.services.transports["matrix"].drain.wake()  # type: ignore[attr-defined]
            sent = await asyncio.wait_for(call, 30)

        assert sent == SentRef(ChatRef("matrix", room_id), seen.event_id)
        await asyncio.sleep(1.0)  # a duplicate would arrive within this
        notices = [
            e
            for e in human.events[mark:]
            if e.room_id == room_id and e.sender == bot_id and "Plenum morgen" in e.body
        ]
        assert [e.event_id for e in notices] == [seen.event_id]
        async with rep.services.db.read() as session:
            row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "sent" and row.attempts == 2
