"""Shutdown: SIGTERM (what `docker stop` sends) ends a real bot process (`python -m bot run`,
Matrix on the test Synapse) cleanly within 2 s, even in the middle of sending one reminder
to 40 rooms; nothing is half-written, and the next start carries on: every room ends up
with exactly one copy of the reminder.

The set-up is the one of `test_reminders_crash.py` (`parallel_sends = 1`: the fan-out goes
room by room, about a quarter second each), only the signal is SIGTERM, not SIGKILL.
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from storage.db import Database
from storage.meetings.models import Reminder
from tests.support.matrix_bot import register_bot
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name
from tests.test_reminders_crash import (
    BotProcess,
    delivery_counts,
    reminder_notices,
    resumed_once,
    rooms_with_a_meeting,
    write_config,
)

pytestmark = pytest.mark.synapse
ROOMS = 40
EXIT_WITHIN = 2.0  # seconds from SIGTERM to the process's exit (the bound)


def terminate(bot: BotProcess) -> tuple[int, float]:
    """SIGTERM; the exit code and the seconds until the process was gone."""
    started = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    try:
        code = bot.proc.wait(10)
    finally:
        took = time.monotonic() - started
        bot.stop()  # kills it if it did not stop; closes the log
    return code, took


async def test_sigterm_in_the_middle_of_a_fan_out_stops_within_2_s_and_the_next_start_resumes(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    ben = await MatrixHuman.login(synapse, unique_name("ben"))
    config = write_config(tmp_path, synapse, account.user_id, account.password, human.user_id)
    # write_config switches the per-person command limit off (one admin links many rooms).
    log = tmp_path / "bot.log"
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    bot = BotProcess(config, log)
    try:
        await human.start_sync()
        rooms = await rooms_with_a_meeting(human, ben, account.user_id, ROOMS)
        # An idle bot, mid long-poll: SIGTERM ends it at once.
        code, took = terminate(bot)
        assert (code, took < EXIT_WITHIN) == (0, True), (code, took)

        # While it is down: the reminder shall fall due right after the next start.
        async with db.write() as session:
            result = await session.execute(
                update(Reminder)
                .where(Reminder.status == "pending")
                .values(due_at=datetime.now(UTC) + timedelta(seconds=4))
            )
            assert result.rowcount == 1  # type: ignore[attr-defined]

        # The second start: SIGTERM once the first rooms have their reminder.
        mark = human.mark()
        bot = BotProcess(config, log)

        def some_arrived(_seen: SeenEvent) -> bool:
            return len(reminder_notices(human, account.user_id, rooms)) >= 2

        await human.wait_for(some_arrived, timeout=30, since=mark)
        code, took = terminate(bot)
        assert code == 0, log.read_text()
        assert took < EXIT_WITHIN, f"SIGTERM to exit took {took:.2f} s"
        at_stop = await delivery_counts(db)
        assert at_stop["sent"] < ROOMS, f"the signal came too late to test anything: {at_stop}"
        assert sum(at_stop.values()) == ROOMS
        # Nothing half-written: a delivery is sent, or still due (`pending`, or `sending`,
        # which the next start resumes with the same key); nothing else.
        assert set(at_stop) <= {"sent", "pending", "sending"}, at_stop
        async with db.read() as session:
            assert list(await session.scalars(select(Reminder.status))) == ["sending"]

        # The third start carries on: every room gets its reminder, exactly once.
        bot = await resumed_once(config, log, db, human, account.user_id, rooms, mark)

        code, took = terminate(bot)
        assert (code, took < EXIT_WITHIN) == (0, True), (code, took)
        text = log.read_text()
        assert "Traceback" not in text, text[text.index("Traceback") - 2000 :]
        assert "ERROR" not in text, [line for line in text.splitlines() if "ERROR" in line]
    finally:
        bot.stop()
        await db.dispose()
        await human.close()
        await ben.close()
