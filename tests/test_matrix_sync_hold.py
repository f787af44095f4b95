"""The sync loop's hold (issue 18, bot/transports/matrix/sync.py): the next sync request
waits until the commands of the last sync are done, as a bare nio bot that awaits its
callbacks does, but never longer than SYNC_HOLD, and not at all for a command that waits
for a sync itself. A fake client notes when each sync request starts; on a real Synapse, the requests the
bot makes for one command are counted and timed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nio
import pytest

from bot.config import MatrixSettings
from bot.transports.matrix import sync as sync_module
from bot.transports.matrix.sync import Syncer
from tests.support.matrix_bot import ask, bot_settings, register_bot, room_with_bot, running_bot
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name

synapse_test = pytest.mark.synapse


class FakeClient:
    """Just what the sync loop uses: `sync` answers at once (the first request brings a
    command) and notes when each request started."""

    def __init__(self) -> None:
        self.started: list[float] = []
        self.store = None
        self.next_batch = ""
        self.rooms: dict[str, Any] = {}
        self.second = asyncio.Event()
        self.first_answers = asyncio.Event()  # the first sync's answer comes when set
        self.first_answers.set()

    async def sync(self, **_: Any) -> nio.SyncResponse:
        self.started.append(asyncio.get_running_loop().time())
        await self.first_answers.wait()
        if len(self.started) > 1:
            self.second.set()
            await asyncio.sleep(3600)  # the long poll: nothing more happens
        self.next_batch = f"s{len(self.started)}"
        return nio.SyncResponse.from_dict({"next_batch": self.next_batch})


def syncer(client: FakeClient) -> Syncer:
    return Syncer(client, MatrixSettings("http://localhost", "@bot:localhost"))  # type: ignore[arg-type]


async def run_one_command(work: asyncio.Future[None], client: FakeClient) -> Syncer:
    """Start the loop; its first sync hands out one command, `work`."""
    s = syncer(client)

    async def after(_resp: nio.SyncResponse) -> None:
        if len(client.started) == 1:
            s.hold_for(work)

    s.start(after)
    return s


async def test_the_next_sync_waits_until_the_command_of_the_last_is_done() -> None:
    client = FakeClient()
    work: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    s = await run_one_command(work, client)
    try:
        await asyncio.sleep(0.05)
        assert len(client.started) == 1  # the reply is still on its way: no request yet
        done_at = asyncio.get_running_loop().time()
        work.set_result(None)
        await asyncio.wait_for(client.second.wait(), 1)
        assert client.started[1] >= done_at
    finally:
        await s.stop()


async def test_a_slow_command_holds_the_next_sync_back_for_sync_hold_at_most(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sync_module, "SYNC_HOLD", 0.1)
    client = FakeClient()
    work: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    s = await run_one_command(work, client)
    try:
        await asyncio.wait_for(client.second.wait(), 1)
        waited = client.started[1] - client.started[0]
        assert 0.09 <= waited < 0.5
        assert not work.done()  # never cancelled: the command goes on
    finally:
        await s.stop()
        work.cancel()


@pytest.mark.parametrize("waiting_before_the_sync", [False, True])
async def test_a_command_waiting_for_a_room_does_not_hold_the_sync_it_waits_for(
    monkeypatch: pytest.MonkeyPatch, waiting_before_the_sync: bool
) -> None:
    """A command that made a room waits for the sync that brings it; holding that sync
    for the command would cost it SYNC_HOLD every time."""
    monkeypatch.setattr(sync_module, "SYNC_HOLD", 30.0)
    client = FakeClient()
    if waiting_before_the_sync:
        client.first_answers.clear()
    loop = asyncio.get_running_loop()
    command: asyncio.Future[None] = loop.create_future()
    s = await run_one_command(command, client)
    waiting = asyncio.create_task(s.wait_for_room("!new:localhost"))
    await asyncio.sleep(0.05)
    client.first_answers.set()  # a sync without the room: the command goes on waiting
    try:
        await asyncio.wait_for(client.second.wait(), 1)
        assert client.started[1] - client.started[0] < 1.0
    finally:
        waiting.cancel()
        await s.stop()
        command.cancel()


@synapse_test
async def test_a_command_costs_one_send_and_no_sync_runs_beside_it(
    synapse: SynapseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per command the bot asks the homeserver for nothing but the reply (no typing, no
    receipts, no member or key queries), and while the reply is being sent no sync of the
    bot's is under way: the homeserver takes the reply alone, and the reply wakes the
    person's sync, not the bot's beside it."""
    requests: list[tuple[str, str, float, float]] = []
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    try:
        await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot:
            room_id = await room_with_bot(human, bot.user_id)
            await ask(human, room_id, bot.user_id, "!my")  # warm: joined, cached
            await asyncio.sleep(0.3)
            send = bot.transport.client.send

            async def timed(method: str, path: str, *a: Any, **kw: Any) -> Any:
                started = time.monotonic()
                try:
                    return await send(method, path, *a, **kw)
                finally:
                    requests.append((method, path.split("?")[0], started, time.monotonic()))

            monkeypatch.setattr(bot.transport.client, "send", timed)
            answer = await ask(human, room_id, bot.user_id, "!my")
            await asyncio.sleep(0.5)  # the bot's sync with its own reply came back
            monkeypatch.undo()
    finally:
        await human.close()
    assert answer.body.startswith("Du bist noch in keiner AG.")
    others = [(m, p) for m, p, _, _ in requests if not p.endswith("/sync")]
    assert len(others) == 1 and others[0][0] == "PUT", others
    assert f"/rooms/{quote(room_id)}/send/m.room.message/" in others[0][1]
    (put_start, put_end) = next((a, b) for m, _, a, b in requests if m == "PUT")
    beside = [
        (a, b) for m, p, a, b in requests if p.endswith("/sync") and a < put_end and b > put_start
    ]
    assert beside == [], "a sync was under way while the reply was sent"
