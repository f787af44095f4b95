"""What stood between a Matrix command and its answer (issue 18, benchmark 2's stages):
the handler waited for the rest of nio's sync handling, and nio made a blocking SQLite trip
on the event loop after every sync to save no encrypted rooms. And the stage log the
benchmark reads (bot/stages.py) names every stage of a command in order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nio
import pytest
from nio.store import DefaultStore

from bot import stages
from bot.core import IncomingMessage
from bot.transports.matrix.client import StagedClient
from tests.support.matrix_bot import (
    ask,
    bot_settings,
    register_bot,
    room_with_bot,
    running_bot,
)
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name

synapse_test = pytest.mark.synapse


@pytest.fixture
def stage_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "stages.log"
    stages.setup(str(path))
    try:
        yield path
    finally:
        if stages._out is not None:
            stages._out.close()
        stages._out, stages.enabled = None, False


@synapse_test
async def test_a_commands_handler_starts_inside_the_sync_that_brought_it(
    synapse: SynapseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage_log: Path
) -> None:
    """Before, the handler task ran only once nio had handled the whole sync (saving the
    store, key bookkeeping) and the next sync's request was on its way."""
    in_sync = [False]
    handled = StagedClient.receive_response

    async def receive(self: StagedClient, response: nio.Response) -> None:
        in_sync[0] = isinstance(response, nio.SyncResponse)
        try:
            await handled(self, response)
        finally:
            in_sync[0] = False

    monkeypatch.setattr(StagedClient, "receive_response", receive)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    try:
        await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot:
            started_in_sync: list[bool] = []
            handle = bot.app.dispatcher.handle

            async def noted(message: IncomingMessage) -> None:
                started_in_sync.append(in_sync[0])
                await handle(message)

            monkeypatch.setattr(bot.app.dispatcher, "handle", noted)
            room_id = await room_with_bot(human, bot.user_id)
            answer = await ask(human, room_id, bot.user_id, "!my")
            assert answer.body.startswith("Du bist noch in keiner AG.")
            assert started_in_sync == [True]
    finally:
        await human.close()
    command = next(key for key, seen in stages.read(str(stage_log)).items() if "handler" in seen)
    seen = stages.read(str(stage_log))[command]
    order = ["sync", "callback", "dispatched", "task", "context", "handler", "reply", "send"]
    order += ["sent"]
    assert [s for s in sorted(seen, key=seen.__getitem__) if s in order] == order
    assert {"nio_done", "after_sync_done"} <= set(seen)


@synapse_test
async def test_no_store_trip_for_a_sync_without_newly_encrypted_rooms(
    synapse: SynapseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved: list[set[str]] = []
    save = DefaultStore.save_encrypted_rooms

    def counted(self: DefaultStore, rooms: Any) -> None:
        saved.append(set(rooms))
        save(self, rooms)

    monkeypatch.setattr(DefaultStore, "save_encrypted_rooms", counted)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    try:
        await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot:
            plain = await room_with_bot(human, bot.user_id)
            await ask(human, plain, bot.user_id, "!my")
            await ask(human, plain, bot.user_id, "!my")
            assert set() not in saved, "a sync without new encrypted rooms went to the store"
            secret = await room_with_bot(human, bot.user_id, encrypted=True, name="Geheim")
            store = bot.transport.client.store
            assert store is not None
            synced = bot.transport.syncer.synced  # notified after every sync
            async with asyncio.timeout(10), synced:
                await synced.wait_for(lambda: secret in store.load_encrypted_rooms())
            assert plain not in store.load_encrypted_rooms()
    finally:
        await human.close()
