"""Telegram answering 5xx, time-outs and 429 at random: no message is lost.

The real Telegram transport (python-telegram-bot's Application with the bot's rate
limiter) against a fake Bot API that fails about a quarter of all send attempts
(tests/support/telegram_faults.py): 500 or 502, a time-out before the message was sent,
a time-out after it was sent, and a few 429 (`RetryAfter`, 1 s, waited out in full by
the rate limiter, which pauses all sends meanwhile: so the fake keeps 429 rare). Each
message meets at most a few faults in a row. Two paths, 1,300 messages: a reminder fanned
out to 1,000 private chats through the reminder engine, and 300 replies to commands.

What the bot promises:
- Every message arrives: the transport tries a send that failed transiently up to five
  times (bot/transports/telegram/send.py), and a reminder's delivery is retried beyond that until the
  meeting begins; the reminder's delivery rows end `sent`.
- A message arrives once where the bot can know: 5xx, 429 and a time-out before sending
  leave nothing in the chat (so the fake plays them), and the one attempt that succeeds
  is the one copy; a key that succeeded is never sent again.
- A time-out after Telegram stored the message is ambiguous: the bot cannot tell it from
  the other time-out, and the Bot API takes no idempotency key. The bot sends again, so
  delivery is at least once and such a message shows up once more per such time-out.
  The tests assert exactly that: a message's copies are 1 + its time-outs after sending.

Flood windows are shortened (the limits themselves are test_fanout_limits.py's subject).
No wall-clock timing is asserted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram.error import BadRequest, NetworkError

from benchmarks.fanout import FIRST_USER_ID, plant_reminder
from bot.app import App
from bot.config import Secret, Settings, TelegramSettings
from bot.core import ChatRef
from bot.rich import text
from bot.transports.telegram.flood import SlidingWindowLimiter
from bot.transports.telegram.transport import RATE_LIMIT_RETRIES, TelegramTransport
from handlers.reminders.engine import engine
from storage.meetings.models import Reminder, ReminderDelivery
from tests.support.fake import ROOT
from tests.support.telegram_api import BOT_TOKEN, BotApi, group, message, private_chat, update, user
from tests.support.telegram_faults import FaultPlan, FaultyBotApi
from tests.support.telegram_transport import RecordingInbox

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

SEED = 20240611
RECIPIENTS = 1000
ASKING_PRIVATELY = 250
GROUP = group(-4080, "AG 2 Transparenz")
ASKING_IN_THE_GROUP = 50
FIRST_ASKER = 70_000_000


def fast_limiter() -> SlidingWindowLimiter:
    """The bot's limiter with windows short enough for 1,000 messages in a test."""
    return SlidingWindowLimiter(
        overall=(1000, 1.0),
        private_chat=(1, 0.02),
        group=(20, 0.5),
        max_retries=RATE_LIMIT_RETRIES,
    )


def settings_in(folder: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'bot.db'}",
        ags_file=ROOT / "config" / "ags.toml",
        heartbeat_file=folder / "heartbeat",
    )


def transport_for(api: BotApi) -> TelegramTransport:
    return TelegramTransport(
        TelegramSettings(token=Secret(BOT_TOKEN)),
        request=api.request,
        get_updates_request=api.updates_request,
        rate_limiter=fast_limiter(),
    )


def assert_faults_were_many(api: FaultyBotApi, *, each: int, retry_after: int) -> None:
    """The test is only worth something if every kind of fault happened, often."""
    counts = api.fault_counts()
    attempts = sum(api.attempts.values())
    assert 0.15 < len(api.faults) / attempts < 0.35, (counts, attempts)
    for kind in ("500", "502", "timed out before", "timed out after"):
        assert counts[kind] >= each, counts
    assert counts["429"] >= retry_after, counts


Message = tuple[int | str, str]  # chat id, text as sent


def assert_each_arrived_once_or_once_per_ambiguous_time_out(
    api: FaultyBotApi, expected: set[Message]
) -> None:
    copies = api.copies()
    ambiguous = api.ambiguous()
    assert set(copies) == expected, "a message is missing (or one was not expected)"
    wrong = {m: (copies[m], ambiguous[m]) for m in expected if copies[m] != 1 + ambiguous[m]}
    assert wrong == {}, "message: (copies, time-outs after sending)"
    # The ambiguous case did happen, and gave duplicates.
    assert sum(copies.values()) - len(expected) == sum(ambiguous.values()) > 0


async def test_a_reminder_reaches_1000_people_through_random_faults(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api = FaultyBotApi(SEED, FaultPlan(max_in_a_row=4))
    transport = transport_for(api)
    # Two attempts per send in the transport: a message meeting more faults in a row is
    # retried by the reminder sender (a new attempt of its delivery row), as after an
    # outage longer than the transport's retries.
    transport.send_retry_delays = (0.01,)
    app = App(settings_in(tmp_path), [transport])
    await app.start()
    try:
        reminder_id = await plant_reminder(app, RECIPIENTS)
        reminders = engine(app.services)
        reminders.sender.retry_base = 0.01
        with caplog.at_level(logging.WARNING):
            async with asyncio.timeout(50):
                await reminders.fire(reminder_id)
        async with app.services.db.read() as session:
            status = await session.scalar(select(Reminder.status).where(Reminder.id == reminder_id))
            rows = (
                await session.execute(
                    select(ReminderDelivery.status, ReminderDelivery.attempts).where(
                        ReminderDelivery.reminder_id == reminder_id
                    )
                )
            ).all()
    finally:
        await app.stop()

    # The reminder's text holds the meeting's time, so the draws differ from run to run:
    # about 65 of each kind and 13 of 429 are expected; these floors lie far below.
    assert_faults_were_many(api, each=25, retry_after=3)
    people = {FIRST_USER_ID + i for i in range(RECIPIENTS)}
    [reminder_text] = {text for _, text in api.copies()}
    assert reminder_text.startswith("⏰ Erinnerung: <b>Plenum</b>")
    expected = {(person, reminder_text) for person in people}
    assert_each_arrived_once_or_once_per_ambiguous_time_out(api, expected)
    assert Counter(status for status, _ in rows) == {"sent": RECIPIENTS}
    assert status == "sent"
    assert sum(attempts > 1 for _, attempts in rows) >= 10  # the sender's own retries
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_every_command_gets_its_reply_through_random_faults(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """300 people ask `/whoami`, 250 in their private chat and 50 in a group."""
    api = FaultyBotApi(SEED, FaultPlan(retry_after=0.02))
    api.remember(GROUP)
    askers = [user(FIRST_ASKER + i, f"Person {i}") for i in range(ASKING_PRIVATELY)]
    in_group = [
        user(FIRST_ASKER + ASKING_PRIVATELY + i, f"Mitglied {i}")
        for i in range(ASKING_IN_THE_GROUP)
    ]
    updates = [update(message(private_chat(p), p, "/whoami")) for p in askers] + [
        update(message(GROUP, p, "/whoami")) for p in in_group
    ]
    transport = transport_for(api)
    app = App(settings_in(tmp_path), [transport])
    await app.start()
    try:
        with caplog.at_level(logging.WARNING):
            async with asyncio.timeout(40):
                for payload in updates:
                    await api.push(payload)
                await api.wait_fetched(updates[-1]["update_id"])
                await transport.application.update_queue.join()
                await app.dispatcher.drain()
    finally:
        await app.stop()

    assert_faults_were_many(api, each=5, retry_after=2)
    expected: set[Message] = {
        (p["id"], f"Deine Konto-Kennung: <code>telegram:{p['id']}</code>") for p in askers
    } | {(GROUP["id"], f"Deine Konto-Kennung: <code>telegram:{p['id']}</code>") for p in in_group}
    assert_each_arrived_once_or_once_per_ambiguous_time_out(api, expected)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_the_transport_gives_up_after_five_attempts_and_never_retries_a_refusal() -> None:
    """The retries end: a chat that keeps failing costs five attempts, then the error
    reaches the caller (a command's apology, a reminder's own backoff); what Telegram
    refuses for good (400, 403) is not tried again."""
    api = BotApi()
    bad_gateway = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    transport = transport_for(api)
    transport.send_retry_delays = (0.01, 0.01, 0.01, 0.01)
    await transport.start(RecordingInbox())
    try:
        chat = ChatRef("telegram", "4242", is_direct=True)
        for _ in range(6):
            api.script("sendMessage", 502, bad_gateway)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await transport.send(chat, text("eins"))
        sent = await transport.send(chat, text("zwei"))  # the sixth 502, then through
        assert sent.message_id is not None
        refusal = {"ok": False, "error_code": 400, "description": "Bad Request: bad entities"}
        api.script("sendMessage", 400, refusal)
        with pytest.raises(BadRequest):
            await transport.send(chat, text("drei"))
    finally:
        await transport.stop()
    assert [c.status for c in api.calls_to("sendMessage")] == [502] * 6 + [200, 400]
