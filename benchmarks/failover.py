"""Benchmark 11: failover. Two real bot processes (`python -m bot run`) on one PostgreSQL
database, Telegram offline (the test Bot API over HTTP); the leader has a reminder to 20
people planned and is killed (SIGKILL) the moment it falls due. Measured from the kill:
until the standby's first reminder message reaches the Bot API, and until a command sent
right after the kill is answered. The standby tries for the lock every `TRY_EVERY`
(bot/leader.py, 1 s), so it waits up to that before it can lead.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from benchmarks.fanout import FIRST_USER_ID, ROOT, plant_reminder
from bot.app import App
from bot.leader import TRY_EVERY
from bot.settings import Settings
from storage.meetings.models import Reminder
from tests.support.cluster import Cluster, TelegramHttp
from tests.support.postgres import PostgresServer
from tests.support.telegram_updates import message, private_chat, user
from tests.support.telegram_updates import update as tg_update

RECIPIENTS = 20
LEAD_TIME = 20.0  # seconds from planting to the due time: the processes start meanwhile


async def _plant(url: str) -> None:
    """The reminder's rows, due LEAD_TIME from now (the processes are not running yet)."""
    app = App(Settings(database_url=url, ags_file=ROOT / "config" / "ags.toml"), [])
    try:
        await app.prepare_database()
        reminder_id = await plant_reminder(app, RECIPIENTS)
        due = app.services.now() + timedelta(seconds=LEAD_TIME)
        async with app.services.db.write() as session:
            await session.execute(
                update(Reminder).where(Reminder.id == reminder_id).values(due_at=due)
            )
    finally:
        await app.services.db.dispose()


def _reminders(api: TelegramHttp) -> list[Any]:
    return [
        call
        for call in api.api.calls_to("sendMessage")
        if int(call.params.get("chat_id", 0)) >= FIRST_USER_ID and call.status == 200
    ]


async def _until(check: Any, limit: float = 60.0) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit:
            raise TimeoutError("the standby did not take over within a minute")
        await asyncio.sleep(0.02)
    return time.monotonic()


async def one_run(server: PostgresServer, workdir: Path, run: int) -> dict[str, float]:
    url = server.create_database(f"failover_{run}_{int(time.time())}")
    await _plant(url)
    api = TelegramHttp()
    await api.start()
    nodes = Cluster(workdir, url, telegram=api.base_url)
    try:
        started = time.monotonic()
        nodes.start()
        nodes.start()
        leader = await nodes.wait_roles(leaders=1, standbys=1, within=LEAD_TIME - 3)
        await asyncio.sleep(max(0.0, started + LEAD_TIME - time.monotonic()))
        leader.kill()
        killed = time.monotonic()
        assert not _reminders(api), "the leader sent before the kill"
        person = user(FIRST_USER_ID - 1 - run, "Anna")
        await api.api.push(tg_update(message(private_chat(person), person, "/help")))
        first_reminder, answered = await asyncio.gather(
            _until(lambda: bool(_reminders(api))),
            _until(lambda: bool(api.api.texts(person["id"]))),
        )
        await _until(lambda: len(_reminders(api)) >= RECIPIENTS)
        for node in nodes.living():
            await asyncio.to_thread(node.terminate)
        return {
            "reminder_seconds": round(first_reminder - killed, 2),
            "command_seconds": round(answered - killed, 2),
            "reminders_sent": len(_reminders(api)),
        }
    finally:
        nodes.close()
        await api.stop()


async def failover_benchmark(runs: int = 3) -> dict[str, Any]:
    server = PostgresServer()
    with tempfile.TemporaryDirectory() as tmp:
        server.start(Path(tmp))
        try:
            results = []
            for run in range(runs):
                workdir = Path(tmp) / f"run{run}"
                workdir.mkdir()
                results.append(await one_run(server, workdir, run))
        finally:
            server.stop()
    reminder = [r["reminder_seconds"] for r in results]
    command = [r["command_seconds"] for r in results]
    return {
        "runs": results,
        "reminder_median_s": statistics.median(reminder),
        "reminder_max_s": max(reminder),
        "command_median_s": statistics.median(command),
        "floor_s": TRY_EVERY,
        "recipients": RECIPIENTS,
    }
