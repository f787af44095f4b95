"""Matrix with two real bot processes on one PostgreSQL database and the test Synapse:
the leader alone syncs; killed with -9, the standby takes over, answers what was asked
during the gap, and answers nothing twice (the sync position in the database, replies
with transaction ids from the event ids, one device for all processes)."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support.cluster import cluster
from tests.support.matrix_bot import ask, register_bot, room_with_bot
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name

pytestmark = [pytest.mark.synapse, pytest.mark.postgres, pytest.mark.timeout(180)]
UNKNOWN_AG = re.compile(r"Die AG „(\w+)“ kenne ich nicht")


def matrix_table(server: SynapseServer, bot_id: str, password: str, store: Path) -> str:
    return f"""[matrix]
homeserver = "{server.base_url}"
user_id = "{bot_id}"
password = "{password}"
store_path = "{store}"
allowed_inviters = [":localhost"]"""


def answered(human: MatrixHuman, room_id: str, bot_id: str) -> Counter[str]:
    """How often the bot answered each `!join <word>` (its answer names the word)."""
    found: Counter[str] = Counter()
    for seen in human.events:
        if seen.room_id == room_id and seen.sender == bot_id and seen.type == "m.room.message":
            match = UNKNOWN_AG.search(seen.body)
            if match:
                found[match[1]] += 1
    return found


async def test_after_a_kill_9_the_new_leader_answers_the_gap_once_and_nothing_twice(
    synapse: SynapseServer, postgres_url: str, tmp_path: Path
) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    table = matrix_table(synapse, account.user_id, account.password, tmp_path / "store")
    try:
        with cluster(tmp_path, postgres_url, matrix=table) as nodes:
            first = nodes.start()
            await nodes.wait_roles(leaders=1, standbys=0, within=60)
            nodes.start()
            await nodes.wait_roles(leaders=1, standbys=1)
            await human.start_sync()
            room = await room_with_bot(human, account.user_id)
            before = [f"vorher{i}" for i in range(3)]
            for word in before:
                await ask(human, room, account.user_id, f"!join {word}", contains=word)

            first.kill()
            killed_at = time.monotonic()
            gap = [f"luecke{i}" for i in range(4)]
            for word in gap:
                await human.send_text(room, f"!join {word}")
            await nodes.wait_roles(leaders=1, standbys=0, within=30)

            deadline = time.monotonic() + 40
            while set(gap) - set(answered(human, room, account.user_id)):
                assert time.monotonic() < deadline, answered(human, room, account.user_id)
                await asyncio.sleep(0.2)
            took = time.monotonic() - killed_at
            after = ["danach0"]
            await ask(human, room, account.user_id, "!join danach0", contains="danach0")
            await asyncio.sleep(3)  # time for a duplicate to show
            counts = answered(human, room, account.user_id)
            assert counts == Counter(dict.fromkeys(before + gap + after, 1)), counts
            assert took < 30, f"the gap was answered {took:.1f} s after the kill"
            for node in nodes.living():
                assert await asyncio.to_thread(node.terminate) == 0
            for node in nodes.nodes:
                assert "Ed25519" not in node.log()
                assert "Traceback" not in node.log(), node.log()[-4000:]
    finally:
        await human.close()
