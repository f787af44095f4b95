"""Faults on Matrix: the homeserver is killed (SIGKILL) while the bot syncs, and comes back.

The whole bot (App, Matrix transport, SQLite) keeps running through it and recovers by
itself: it answers again, answers nothing twice, delivers a reminder that fell due while the
server was gone exactly once, and a reply whose answer the crash swallowed is not posted a
second time when nio sends it again.

The tests kill a homeserver of their own (one for this module), not the session's shared
one: a SIGKILL in the middle of the suite would disturb every other test using it, and a
failing test here could leave it down. The `server` fixture hands each test a running server
and starts it again afterwards if a test failed while it was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import nio
import pytest

from bot.core import ChatRef
from bot.rich import text
from tests.support.matrix_bot import (
    RunningBot,
    ask,
    bot_settings,
    human_and_bot_account,
    notices_from,
    register_bot,
    room_with_bot,
    running_bot,
)
from tests.support.meetings import remind_in
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name
from tests.test_reminders_matrix import (
    group_room,
    plan,
    reminder_status,
    reminders_in,
    status_becomes,
    wait_until,
)

pytestmark = pytest.mark.synapse
AG1 = "Nachhaltige Dorfentwicklung"
AG2 = "Transparenz und Beteiligung"
BACK = 40.0  # generous: nio's reconnect backoff (up to 5 s) plus Synapse's start


@pytest.fixture(scope="module")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    server = SynapseServer(tmp_path_factory.mktemp("faults-hs"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(homeserver: SynapseServer) -> Iterator[SynapseServer]:
    """The module's homeserver, running at the start and at the end of every test."""
    if not homeserver.running:
        homeserver.start()
    yield homeserver
    if not homeserver.running:
        homeserver.start()


async def crash(server: SynapseServer) -> None:
    await asyncio.to_thread(server.kill)


async def come_back(server: SynapseServer) -> None:
    """Same port, same data: to the clients the homeserver was just gone for a while."""
    await asyncio.to_thread(server.start)


async def while_syncing(bot: RunningBot, human: MatrixHuman, room_id: str) -> None:
    """Until the bot has just received a sync (a chat line it does not answer) and gone
    into its next long poll."""
    synced = bot.transport.syncer.synced
    async with synced:  # held until wait(): the notification cannot come before it
        await human.send_text(room_id, "Guten Morgen")
        await asyncio.wait_for(synced.wait(), BACK)
    await asyncio.sleep(0.2)


def received_ids(bot: RunningBot) -> list[str]:
    """Every text event the bot's sync hands to the transport, in order (filled from now)."""
    seen: list[str] = []

    async def record(_room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        seen.append(event.event_id)

    bot.transport.client.add_event_callback(record, nio.RoomMessageText)
    return seen


def assert_alive(bot: RunningBot) -> None:
    task = bot.transport.syncer.task
    assert task is not None and not task.done(), "the sync loop ended"
    assert bot.app.services.timers.running


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_bot_syncs_through_a_killed_homeserver(
    server: SynapseServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with (
        human_and_bot_account(server, tmp_path, admin=False) as (human, settings),
        running_bot(settings) as bot,
    ):
        room_id = await room_with_bot(human, bot.user_id)
        received = received_ids(bot)
        mark = human.mark()

        await while_syncing(bot, human, room_id)
        # Stored by Synapse, which dies at once (here, before the bot's long poll has
        # brought it): the bot's sync position still lies before it, so it comes with
        # the first sync after the restart and is answered then, once.
        await human.send_text(room_id, "!join ag1")
        await crash(server)
        # A human's client cannot get a command through to a server that is gone.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(2):
                await human.send_text(room_id, "!join ag3")
        await asyncio.sleep(1)
        assert_alive(bot)

        await come_back(server)
        first = await human.wait_for_notice(room_id, bot.user_id, BACK, f"AG {AG1}", since=mark)
        joined = await ask(human, room_id, bot.user_id, "!join ag2", timeout=BACK)
        assert joined.body.startswith(f"Willkommen in der AG {AG2} (ag2)!"), joined.body
        mine = await ask(human, room_id, bot.user_id, "!my", contains="Deine AGs")
        assert f"{AG1} (ag1) – Mitglied" in mine.body
        assert f"{AG2} (ag2) – Mitglied" in mine.body
        assert "(ag3)" not in mine.body  # sent while the server was gone: never arrived

        await asyncio.sleep(1)  # room for a duplicate to show up
        answers = [e.body for e in notices_from(human, room_id, bot.user_id, mark)]
        assert answers == [first.body, joined.body, mine.body]
        # The sync position did not go back: no message reached the bot twice.
        assert len(received) == len(set(received)) == 4
        assert_alive(bot)
    assert errors(caplog) == []


async def test_a_reminder_due_while_the_homeserver_is_down_arrives_once(
    server: SynapseServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with (
        human_and_bot_account(server, tmp_path) as (human, settings),
        running_bot(settings) as bot,
    ):
        room_id = await group_room(server, human, bot.user_id)
        occurrence = await plan(human, room_id, bot.user_id)
        mark = human.mark()
        due = await remind_in(bot.app, occurrence, 2.0)

        await while_syncing(bot, human, room_id)
        await crash(server)
        await wait_until(due)
        await asyncio.sleep(1.0)
        # Fired on time; its delivery waits for the homeserver.
        assert await reminder_status(bot.app, occurrence) == ["sending"]
        assert_alive(bot)

        await come_back(server)
        seen = await human.wait_for_notice(
            room_id, bot.user_id, timeout=BACK, contains="Erinnerung", since=mark
        )
        assert seen.body.startswith(f"⏰ Erinnerung: Probe-Treffen – AG {AG2}")
        assert await status_becomes(bot.app, occurrence, ["sent"]) == ["sent"]
        # Commands work again, and the reminder did not come a second time.
        await ask(human, room_id, bot.user_id, "!ags", contains=AG2)
        assert len(reminders_in(human, room_id, bot.user_id, mark)) == 1
        assert_alive(bot)
    assert errors(caplog) == []


async def test_a_reply_whose_answer_the_crash_swallowed_is_posted_once(
    server: SynapseServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The worst moment: Synapse has stored the bot's reply, then dies before it answers.
    nio sends the reply again after the restart, with the same transaction id, and the
    homeserver (which keeps transaction ids in its database) takes it as the same event."""
    caplog.set_level(logging.WARNING)
    async with (
        human_and_bot_account(server, tmp_path, admin=False) as (human, settings),
        running_bot(settings) as bot,
    ):
        room_id = await room_with_bot(human, bot.user_id)
        await ask(human, room_id, bot.user_id, "!ags", contains=AG2)
        client = bot.transport.client
        send = client.send
        died = asyncio.Event()
        puts: list[str] = []

        async def stored_then_dead(method: str, path: str, *args: Any, **kw: Any) -> Any:
            if method == "PUT" and "/send/m.room.message/" in path:
                puts.append(path.split("?")[0])
            resp = await send(method, path, *args, **kw)
            if not died.is_set() and puts:
                await crash(server)
                died.set()
                raise aiohttp.ServerDisconnectedError()
            return resp

        client.send = stored_then_dead  # type: ignore[method-assign]
        mark = human.mark()
        await human.send_text(room_id, "!join ag2")
        async with asyncio.timeout(BACK):
            await died.wait()
        assert_alive(bot)
        await come_back(server)

        await human.wait_for_notice(room_id, bot.user_id, BACK, f"AG {AG2}", since=mark)
        # The reply went out again after the restart, under the same transaction id.
        assert len(puts) >= 2 and set(puts) == {puts[0]}, puts
        # A send the bot makes itself, with a key it already used: one event, the same id.
        chat = ChatRef("matrix", room_id, is_direct=True)
        first = await bot.transport.send(chat, text("Einmal"), key="faults:once")
        await asyncio.to_thread(server.stop)
        await come_back(server)
        again = await bot.transport.send(chat, text("Einmal"), key="faults:once")
        assert again.message_id == first.message_id

        await ask(human, room_id, bot.user_id, "!my", contains="Deine AGs", timeout=BACK)
        await asyncio.sleep(1)
        answers = [e.body for e in notices_from(human, room_id, bot.user_id, mark)]
        assert len(answers) == 3, answers
        assert answers[0].startswith(f"Willkommen in der AG {AG2} (ag2)!")
        assert answers[1] == "Einmal"
        assert_alive(bot)
    assert errors(caplog) == []


async def test_stopping_while_the_homeserver_is_down_leaves_nothing_running(
    server: SynapseServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGTERM during the outage, with a reply still waiting for the homeserver: the bot
    stops (no hang on a long poll or a send that retries), and no task or HTTP session of
    it keeps running afterwards."""
    caplog.set_level(logging.WARNING)
    account = register_bot(server)
    human = await MatrixHuman.login(server, unique_name("anna"))
    before = asyncio.all_tasks()
    try:
        await human.start_sync()
        async with asyncio.timeout(BACK):
            async with running_bot(bot_settings(tmp_path, server, account)) as bot:
                room_id = await room_with_bot(human, bot.user_id)
                client = bot.transport.client
                send = client.send
                died = asyncio.Event()

                async def dead_before(method: str, path: str, *args: Any, **kw: Any) -> Any:
                    if not died.is_set() and method == "PUT" and "/send/m.room.message/" in path:
                        await crash(server)
                        died.set()
                    return await send(method, path, *args, **kw)

                client.send = dead_before  # type: ignore[method-assign]
                await human.send_text(room_id, "!ags")
                await died.wait()
                await asyncio.sleep(1)
                assert_alive(bot)
        await human.stop_sync()
        assert client.client_session is None or client.client_session.closed
        await asyncio.sleep(0.5)
        left = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()]
        assert left == [], left
    finally:
        await human.close()
    assert errors(caplog) == []
