"""Telegram's flood limits (30 messages a second overall, one a second in a private chat,
20 a minute in a group) kept by the bot when a reminder fans out, checked against a fake
Bot API that enforces them and answers 429 (`RetryAfter`) to whatever breaks them.

The fake's own accounting is asserted, never the wall-clock time: the benchmark
(`benchmarks/fanout.py`) measures how close to the limits' floor the bot gets.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram import Bot
from telegram.error import RetryAfter

from benchmarks.fanout import FIRST_USER_ID, plant_reminder
from bot.app import App
from bot.config import Secret, Settings, TelegramSettings
from bot.core import ChatRef
from bot.rich import text
from bot.transports.telegram import TelegramTransport
from handlers.reminders.engine import engine
from storage.meetings.models import ReminderDelivery
from tests.support.fake import ROOT
from tests.support.telegram_api import BOT_TOKEN, group
from tests.support.telegram_limits import FloodLimits, LimitedBotApi, Window

RECIPIENTS = 90
GROUP = group(-4077, "AG 2 Transparenz")
GROUP_REPLIES = 24  # with the reminder itself, 25 messages to the group
# The group's minute shortened to 2 s, in the fake and in the bot alike, so that the group
# limit is reached within the test.
LIMITS = FloodLimits(group=Window(20, 2.0))


@dataclass
class ManualClock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def send(chat_id: int) -> tuple[str, dict[str, object]]:
    return "sendMessage", {"chat_id": chat_id, "text": "Hallo"}


async def test_the_fake_api_refuses_sends_that_break_a_limit() -> None:
    clock = ManualClock()
    api = LimitedBotApi(LIMITS, clock=clock)
    api.remember(GROUP)
    for i in range(30):
        assert (await api.answer(*send(1000 + i)))[0] == 200
    assert await api.answer(*send(2000)) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    assert (await api.answer("getMe", {}))[0] == 200  # only sends count

    clock.now += 1.0  # the first 30 have left the second
    assert (await api.answer(*send(1000)))[0] == 200
    clock.now += 0.5
    assert (await api.answer(*send(1000)))[0] == 429  # the same private chat within 1 s

    clock.now += 10
    for _ in range(20):
        assert (await api.answer(*send(GROUP["id"])))[0] == 200
    clock.now += 1.5
    status, body = await api.answer(*send(GROUP["id"]))
    assert (status, body["parameters"]) == (429, {"retry_after": 1})  # 0.5 s to go
    clock.now += 0.5
    assert (await api.answer(*send(GROUP["id"])))[0] == 200

    assert [(r.limit, r.chat_id) for r in api.refused] == [
        ("overall", 2000),
        ("private chat", 1000),
        ("group", GROUP["id"]),
    ]
    assert api.peaks() == {"overall": 30, "private chat": 1, "group": 20}
    assert api.within_limits()
    assert len(api.delivered()) == len(api.accepted) == 52


# PTB warns about its own `RetryAfter.retry_after` (int now, timedelta later) when it raises it.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_python_telegram_bot_reads_the_429_as_retry_after() -> None:
    clock = ManualClock()
    api = LimitedBotApi(LIMITS, clock=clock)
    bot = Bot(BOT_TOKEN, request=api.request, get_updates_request=api.updates_request)
    async with bot:
        await bot.send_message(chat_id=1000, text="eins")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(chat_id=1000, text="zwei")
    after = raised.value.retry_after
    assert (after.total_seconds() if isinstance(after, timedelta) else after) == 1
    assert [call.status for call in api.calls_to("sendMessage")] == [200, 429]


async def test_a_reminder_fans_out_within_the_limits_and_reaches_everyone_once(
    tmp_path: Path,
) -> None:
    """90 people get the reminder privately while the group gets it and 24 replies to
    commands: nothing provokes a 429, and each message arrives exactly once."""
    api = LimitedBotApi(LIMITS)
    api.remember(GROUP)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        ags_file=ROOT / "config" / "ags.toml",
        heartbeat_file=tmp_path / "heartbeat",
    )
    transport = TelegramTransport(
        TelegramSettings(token=Secret(BOT_TOKEN)),
        request=api.request,
        get_updates_request=api.updates_request,
        group_minute=LIMITS.group.seconds,
    )
    app = App(settings, [transport])
    await app.start()
    try:
        reminder_id = await plant_reminder(app, RECIPIENTS, group_id=GROUP["id"])
        chat = ChatRef("telegram", str(GROUP["id"]), is_direct=False, title=GROUP["title"])
        replies = (
            transport.send(chat, text(f"Antwort {i}"), key=f"reply:{i}")
            for i in range(GROUP_REPLIES)
        )
        async with asyncio.timeout(30):
            await asyncio.gather(engine(app.services).fire(reminder_id), *replies)
        async with app.services.db.read() as session:
            outcomes = Counter(
                await session.scalars(
                    select(ReminderDelivery.status).where(
                        ReminderDelivery.reminder_id == reminder_id
                    )
                )
            )
    finally:
        await app.stop()

    assert api.refused == []
    assert [c for c in api.calls if c.status == 429] == []
    arrived = Counter(int(params["chat_id"]) for params in api.delivered())
    people = {FIRST_USER_ID + i for i in range(RECIPIENTS)}
    assert {chat_id for chat_id in arrived if chat_id > 0} == people
    assert all(arrived[person] == 1 for person in people)
    assert arrived[GROUP["id"]] == GROUP_REPLIES + 1
    group_texts = api.texts(GROUP["id"])
    assert sorted(t for t in group_texts if t.startswith("Antwort")) == sorted(
        f"Antwort {i}" for i in range(GROUP_REPLIES)
    )
    assert sum(t.startswith("⏰") for t in group_texts) == 1
    assert outcomes == {"sent": RECIPIENTS + 1}
    # The fake's own count of its busiest windows: the limits were reached, not broken.
    peaks = api.peaks()
    assert peaks["overall"] <= LIMITS.overall.count
    assert peaks["private chat"] == 1
    assert peaks["group"] <= LIMITS.group.count
    assert api.within_limits()
    assert len(api.accepted) == RECIPIENTS + GROUP_REPLIES + 1
