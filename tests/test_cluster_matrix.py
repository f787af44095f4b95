"""Matrix with two real bot processes on one PostgreSQL database and the test Synapse:
the leader alone syncs; killed with -9, the standby takes over, answers what was asked
during the gap, and answers nothing twice (the sync position in the database, replies
with transaction ids from the event ids, one device for all processes)."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from storage.db import Database
from storage.meetings.models import Reminder
from tests.support.cluster import cluster
from tests.support.matrix_bot import ask, register_bot, room_with_bot
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name
from tests.test_reminders_crash import delivery_counts, reminder_notices, rooms_with_a_meeting

pytestmark = [pytest.mark.synapse, pytest.mark.postgres, pytest.mark.timeout(180)]
FAN_OUT_ROOMS = 16
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


async def test_kill_9_of_the_leader_mid_fan_out_leaves_one_reminder_per_room(
    synapse: SynapseServer, postgres_url: str, tmp_path: Path
) -> None:
    """A meeting linked to many rooms, its reminder due now; the leader is killed once the
    first rooms have it: the standby takes over and every room ends with one copy."""
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    ben = await MatrixHuman.login(synapse, unique_name("ben"))
    table = matrix_table(synapse, account.user_id, account.password, tmp_path / "store")
    table = "[reminders]\nparallel_sends = 1\n\n" + table
    db = Database(postgres_url)
    try:
        with cluster(
            tmp_path,
            postgres_url,
            lease_seconds=4,  # the standby resumes the killed leader's fan-out after 4 s, not 30
            matrix=table,
            admins=(f"matrix:{human.user_id}",),
        ) as nodes:
            setup = nodes.start()
            await nodes.wait_roles(leaders=1, standbys=0, within=60)
            await human.start_sync()
            rooms = await rooms_with_a_meeting(human, ben, account.user_id, FAN_OUT_ROOMS)
            assert await asyncio.to_thread(setup.terminate) == 0
            # While all are down: the reminder falls due right after the next start.
            async with db.write() as session:
                result = await session.execute(
                    update(Reminder)
                    .where(Reminder.status == "pending")
                    .values(due_at=datetime.now(UTC) + timedelta(seconds=8))
                )
                assert result.rowcount == 1  # type: ignore[attr-defined]
            mark = human.mark()
            nodes.start()
            nodes.start()
            first = await nodes.wait_roles(leaders=1, standbys=1)

            def some_arrived(_seen: SeenEvent) -> bool:
                return len(reminder_notices(human, account.user_id, rooms)) >= 3

            await human.wait_for(some_arrived, timeout=40, since=mark)
            first.kill()
            at_kill = await delivery_counts(db)
            assert at_kill["sent"] < FAN_OUT_ROOMS, f"killed too late: {at_kill}"

            def all_arrived(_seen: SeenEvent) -> bool:
                found = {e.room_id for e in reminder_notices(human, account.user_id, rooms)}
                return found == set(rooms)

            await human.wait_for(all_arrived, timeout=60, since=mark)
            await asyncio.sleep(2.0)  # time for a duplicate to show
            per_room = Counter(e.room_id for e in reminder_notices(human, account.user_id, rooms))
            assert per_room == Counter(dict.fromkeys(rooms, 1)), per_room
            for node in nodes.living():
                assert await asyncio.to_thread(node.terminate) == 0
    finally:
        await db.dispose()
        await human.close()
        await ben.close()
