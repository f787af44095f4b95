"""Reminders end to end on a real Synapse: on time, after the bot was down over the due
time (sent late at start), and after the homeserver was down over it (delivered once it
is back). The offsets are seconds (set in the database, below `/reminders`' one-minute
minimum), so each test waits a few seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from storage.meetings.models import Reminder
from tests.support.matrix_bot import (
    ask,
    human_and_bot_account,
    notices_from,
    room_with_bot,
    running_bot,
    wait_joined,
)
from tests.support.meetings import remind_in
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name

pytestmark = pytest.mark.synapse
AG2 = "Transparenz und Beteiligung"


def reminders_in(human: MatrixHuman, room_id: str, bot_id: str, since: int = 0) -> list[SeenEvent]:
    return [e for e in notices_from(human, room_id, bot_id, since) if "Erinnerung" in e.body]


async def group_room(server: SynapseServer, human: MatrixHuman, bot_id: str) -> str:
    """A room of the human, the bot and a third person: with two members it would count
    as a private chat, where `!link` is refused."""
    ben = await MatrixHuman.login(server, unique_name("ben"))
    try:
        room_id = await room_with_bot(human, bot_id, invite=(ben.user_id,))
        await ben.join(room_id)
        await wait_joined(human, room_id, ben.user_id)
    finally:
        await ben.close()
    return room_id


async def plan(human: MatrixHuman, room_id: str, bot_id: str) -> int:
    """Link the room to AG 2 and plan a meeting three minutes ahead (on a whole minute,
    so 2 to 3 minutes from now); its occurrence id."""
    await ask(human, room_id, bot_id, "!link ag2", contains=AG2)
    planned = await ask(
        human, room_id, bot_id, "!meeting in 3 Minuten Probe-Treffen", contains="Kennung"
    )
    found = re.search(r"Kennung: m(\d+)", planned.body)
    assert found, planned.body
    return int(found[1])


async def wait_until(when: datetime) -> None:
    await asyncio.sleep(max(0.0, when.timestamp() - time.time()))


async def status_becomes(
    app: App, occurrence_id: int, expected: list[str], *, seconds: float = 10.0
) -> list[str]:
    """The occurrence's reminder statuses once they are `expected`, or as they are after
    `seconds`."""
    for _ in range(int(seconds * 10)):
        if (status := await reminder_status(app, occurrence_id)) == expected:
            return status
        await asyncio.sleep(0.1)
    return await reminder_status(app, occurrence_id)


async def reminder_status(app: App, occurrence_id: int) -> list[str]:
    async with app.services.db.read() as session:
        rows = await session.scalars(
            select(Reminder.status).where(Reminder.occurrence_id == occurrence_id)
        )
        return list(rows)


async def test_a_reminder_arrives_in_the_linked_room_on_time(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    async with (
        human_and_bot_account(synapse, tmp_path) as (human, settings),
        running_bot(settings) as bot,
    ):
        room_id = await group_room(synapse, human, bot.user_id)
        occurrence = await plan(human, room_id, bot.user_id)
        mark = human.mark()
        due = await remind_in(bot.app, occurrence, 2.0)

        seen = await human.wait_for_notice(
            room_id, bot.user_id, timeout=15, contains="Erinnerung", since=mark
        )
        lag = seen.source["origin_server_ts"] / 1000 - due.timestamp()
        assert 0 <= lag < 1.0, f"sent {lag:.3f} s after its due time"
        lines = seen.body.splitlines()
        assert lines[0] == f"⏰ Erinnerung: Probe-Treffen – AG {AG2}"
        assert re.fullmatch(r"\w+, \d+\. \w+ \d{4}, \d\d:\d\d Uhr \(noch [12] Minuten?\)", lines[1])
        assert "Noch hat niemand zugesagt." in lines
        # The answer buttons are the bot's own reactions under the reminder.
        await asyncio.sleep(0.5)
        reactions = {
            e.content.get("m.relates_to", {}).get("key")
            for e in human.events
            if e.type == "m.reaction"
            and e.sender == bot.user_id
            and e.content.get("m.relates_to", {}).get("event_id") == seen.event_id
        }
        assert reactions == {"✅", "❌", "❓"}
        assert len(reminders_in(human, room_id, bot.user_id, mark)) == 1


async def test_the_bot_down_over_the_due_time_sends_it_late_at_start(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    async with human_and_bot_account(synapse, tmp_path) as (human, settings):
        async with running_bot(settings) as bot:
            room_id = await group_room(synapse, human, bot.user_id)
            occurrence = await plan(human, room_id, bot.user_id)
            due = await remind_in(bot.app, occurrence, 2.5)
        mark = human.mark()
        await wait_until(due)
        await asyncio.sleep(1.5)  # more than the second within which a reminder is on time
        assert reminders_in(human, room_id, bot.user_id, mark) == []  # the bot is down

        async with running_bot(settings) as bot:
            seen = await human.wait_for_notice(
                room_id, bot.user_id, timeout=15, contains="Erinnerung", since=mark
            )
            assert seen.body.startswith(f"⏰ Erinnerung (verspätet): Probe-Treffen – AG {AG2}")
            assert await status_becomes(bot.app, occurrence, ["late-sent"], seconds=5) == [
                "late-sent"
            ]
            assert len(reminders_in(human, room_id, bot.user_id, mark)) == 1


async def test_the_homeserver_down_over_the_due_time_gets_it_when_back(tmp_path: Path) -> None:
    server = SynapseServer(tmp_path / "hs")
    await asyncio.to_thread(server.start)
    try:
        async with (
            human_and_bot_account(server, tmp_path) as (human, settings),
            running_bot(settings) as bot,
        ):
            room_id = await group_room(server, human, bot.user_id)
            occurrence = await plan(human, room_id, bot.user_id)
            mark = human.mark()
            due = await remind_in(bot.app, occurrence, 2.0)
            await asyncio.to_thread(server.stop)
            await wait_until(due)
            await asyncio.sleep(1.0)
            # Fired on time; the delivery waits for the homeserver.
            assert await reminder_status(bot.app, occurrence) == ["sending"]

            await asyncio.to_thread(server.start)
            seen = await human.wait_for_notice(
                room_id, bot.user_id, timeout=40, contains="Erinnerung", since=mark
            )
            assert seen.body.startswith(f"⏰ Erinnerung: Probe-Treffen – AG {AG2}")
            assert await status_becomes(bot.app, occurrence, ["sent"]) == ["sent"]
            await asyncio.sleep(0.5)
            assert len(reminders_in(human, room_id, bot.user_id, mark)) == 1
    finally:
        await asyncio.to_thread(server.stop)
