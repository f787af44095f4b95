"""A real bot process (`python -m bot run`, Matrix on the test Synapse) killed with
SIGKILL in the middle of sending one reminder to many rooms, then started again: every
room ends up with exactly one copy. The deliveries caught in `sending` are resent with
the same key, so the same transaction id, and Synapse drops the duplicates.

`parallel_sends = 1` in the bot's config makes the fan-out go room by room (about a
quarter second each, with the answer reactions), so the kill lands in its middle.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from storage.db import Database
from storage.leases import LEASE_ENV
from storage.meetings.models import Reminder, ReminderDelivery
from tests.support.matrix_bot import ask, register_bot, room_with_bot, wait_joined
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name

pytestmark = pytest.mark.synapse
ROOT = Path(__file__).resolve().parents[1]
ROOMS = 16
# The bot's lease length (storage/leases.py) in the kill test: the third start resumes the
# killed one's deliveries once their leases ran out, after 4 s instead of production's 30 s.
LEASE_SECONDS = 4.0


def write_config(
    workdir: Path, server: SynapseServer, bot_id: str, password: str, admin: str
) -> Path:
    config = workdir / "bot.toml"
    config.write_text(
        f"""
database_url = "sqlite+aiosqlite:///{workdir / "bot.db"}"
admins = ["matrix:{admin}"]
ags_file = "{ROOT / "config" / "ags.toml"}"
heartbeat_file = "{workdir / "heartbeat"}"
log_level = "INFO"

[reminders]
parallel_sends = 1

# The set-up links many rooms from one admin account: no per-person command limit here.
[limits]
commands_per_minute = 0

[matrix]
homeserver = "{server.base_url}"
user_id = "{bot_id}"
password = "{password}"
store_path = "{workdir / "store"}"
allowed_inviters = [":localhost"]
"""
    )
    return config


class BotProcess:
    """`python -m bot run` in the background, its log in a file; `lease_seconds`: its
    lease length (production's 30 s unless given)."""

    def __init__(self, config: Path, log: Path, lease_seconds: float | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BUENDNISBOT_")}
        if lease_seconds is not None:
            env[LEASE_ENV] = str(lease_seconds)
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def reminder_notices(human: MatrixHuman, bot_id: str, rooms: list[str]) -> list[SeenEvent]:
    return [
        e
        for e in human.events
        if e.room_id in rooms
        and e.sender == bot_id
        and e.type == "m.room.message"
        and e.msgtype == "m.notice"
        and e.body.startswith("⏰ Erinnerung")
    ]


async def delivery_counts(db: Database) -> Counter[str]:
    async with db.read() as session:
        rows = await session.execute(
            select(ReminderDelivery.status, func.count()).group_by(ReminderDelivery.status)
        )
        return Counter({status: int(n) for status, n in rows.all()})


async def resumed_once(
    config: Path,
    log: Path,
    db: Database,
    human: MatrixHuman,
    bot_id: str,
    rooms: list[str],
    mark: int,
    lease_seconds: float | None = None,
) -> BotProcess:
    """Start the bot again and prove the interrupted fan-out ends with every room's
    reminder delivered and seen exactly once; the running bot, for the caller to stop."""
    bot = BotProcess(config, log, lease_seconds)
    started = time.monotonic()
    while (await delivery_counts(db))["sent"] < len(rooms):
        assert time.monotonic() - started < 40, await delivery_counts(db)
        await asyncio.sleep(0.2)

    def all_arrived(_seen: SeenEvent) -> bool:
        return {e.room_id for e in reminder_notices(human, bot_id, rooms)} == set(rooms)

    await human.wait_for(all_arrived, timeout=20, since=mark)
    await asyncio.sleep(1.0)  # time for a duplicate, had there been one, to show up
    per_room = Counter(e.room_id for e in reminder_notices(human, bot_id, rooms))
    assert per_room == Counter(dict.fromkeys(rooms, 1)), per_room
    async with db.read() as session:
        assert list(await session.scalars(select(Reminder.status))) in (["sent"], ["late-sent"])
        statuses = set(await session.scalars(select(ReminderDelivery.status)))
        assert statuses == {"sent"}, statuses
    return bot


async def rooms_with_a_meeting(
    human: MatrixHuman, ben: MatrixHuman, bot_id: str, count: int
) -> list[str]:
    """`count` rooms (with a third member, so they count as groups) linked to AG 2, and a
    meeting of AG 2 in three hours planned in the first."""
    rooms = list(
        await asyncio.gather(
            *(
                room_with_bot(human, bot_id, invite=(ben.user_id,), name=f"Raum {i}")
                for i in range(count)
            )
        )
    )
    await asyncio.gather(*(ben.join(r) for r in rooms))
    await asyncio.gather(*(wait_joined(human, r, ben.user_id) for r in rooms))
    await asyncio.gather(
        *(ask(human, r, bot_id, "!link ag2", contains="AG", timeout=20) for r in rooms)
    )
    await ask(
        human, rooms[0], bot_id, "!meeting ag2 in 3 Stunden Krisensitzung", contains="Kennung"
    )
    return rooms


async def test_kill_9_in_the_middle_of_a_fan_out_leaves_one_copy_per_room(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    ben = await MatrixHuman.login(synapse, unique_name("ben"))
    config = write_config(tmp_path, synapse, account.user_id, account.password, human.user_id)
    log = tmp_path / "bot.log"
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    bot = BotProcess(config, log, LEASE_SECONDS)
    try:
        await human.start_sync()
        rooms = await rooms_with_a_meeting(human, ben, account.user_id, ROOMS)
        bot.stop()

        # While it is down: the reminder (2 h before the meeting) shall fall due right
        # after the next start.
        due = datetime.now(UTC) + timedelta(seconds=4)
        async with db.write() as session:
            result = await session.execute(
                update(Reminder).where(Reminder.status == "pending").values(due_at=due)
            )
            assert result.rowcount == 1  # type: ignore[attr-defined]

        # The second start: killed once the first rooms have their reminder.
        mark = human.mark()
        bot = BotProcess(config, log, LEASE_SECONDS)

        def some_arrived(_seen: SeenEvent) -> bool:
            return len(reminder_notices(human, account.user_id, rooms)) >= 3

        await human.wait_for(some_arrived, timeout=30, since=mark)
        bot.kill()
        at_kill = await delivery_counts(db)
        assert at_kill["sent"] < ROOMS, f"the kill came too late to test anything: {at_kill}"
        assert sum(at_kill.values()) == ROOMS

        # The third start resumes the interrupted fan-out.
        bot = await resumed_once(
            config, log, db, human, account.user_id, rooms, mark, LEASE_SECONDS
        )
    finally:
        bot.stop()
        await db.dispose()
        await human.close()
        await ben.close()
