"""What stood between a Matrix command and its answer (issue 18, benchmark 2's stages):
nio made a blocking SQLite trip on the event loop after every sync to save no encrypted
rooms. And the stage log the benchmark reads (bot/stages.py) names every stage of a
command in order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nio.store import DefaultStore

from bot import stages
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
        stages.close()


@synapse_test
async def test_the_stage_log_names_every_stage_of_a_command_in_order(
    synapse: SynapseServer, tmp_path: Path, stage_log: Path
) -> None:
    """Benchmark 2 reads these lines from the bot's process to say where the time goes."""
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    try:
        await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot:
            room_id = await room_with_bot(human, bot.user_id)
            asked = human.mark()
            answer = await ask(human, room_id, bot.user_id, "!my")
            assert answer.body.startswith("Du bist noch in keiner AG.")
    finally:
        await human.close()
    command = next(e.event_id for e in human.events[asked:] if e.body == "!my")
    assert command is not None
    seen = stages.read(str(stage_log))[command]
    order = ["sync", "callback", "dispatched", "task", "context", "handler", "reply", "send"]
    order += ["sent"]
    assert [s for s in sorted(seen, key=seen.__getitem__) if s in order] == order
    assert seen["callback"] <= seen["nio_done"] <= seen["after_sync_done"]


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
