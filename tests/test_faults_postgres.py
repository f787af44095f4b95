"""Fault: PostgreSQL stops for 10 s under the running bot (the whole bot: dispatcher,
handlers, scheduler, reminder engine, behind the fake network).

The outage begins in the middle of a write (Anna's `/join ag3` has inserted its row, the
transaction is not committed yet). While the server is down, people send reads and
writes: each gets exactly one short apology in their language that the database is
briefly unavailable, not the generic crash apology and no stack trace; the log gets one
warning per failure. A reminder falls due inside the window. After the server is back
(same port, same data), without any help from the test, the same commands succeed, the
reminder goes out exactly once, and the database holds exactly what the successful
commands imply: nothing of the window's writes, not even the interrupted one.

The module runs its own PostgreSQL server instead of the session's shared one: stopping
the shared server would pull the database away from any other test or fixture holding a
connection to it, and a resume that failed (the port taken meanwhile) would break every
later PostgreSQL test of the run. Its own server costs about half a second. Whatever
happens, the server is resumed before the test's database is dropped and stopped at the
end of the module.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from handlers.reminders.engine import engine
from storage import repo
from storage.db import DatabaseUnavailable
from storage.meetings.models import Reminder, ReminderDelivery
from storage.models import Account, Ag, Membership
from tests.support.fake import BotHarness
from tests.support.meetings import (
    KeyedTransport,
    ag2_with_lead,
    deliveries,
    occurrences,
    remind_in,
    reminders,
    sent_to,
    use_transport,
)
from tests.support.postgres import PostgresServer
from tests.support.postgres_fixtures import own_postgres_server, unique_database_name

OUTAGE = 10.0  # seconds the server is down
REMINDER_AFTER = 3.0  # the reminder falls due this long after the outage began (about)
RECOVERY_LIMIT = 40.0  # bound on waiting for the reminder after the outage (never hangs)

SORRY_DE = (
    "Meine Datenbank ist gerade kurz nicht erreichbar. "
    "Bitte versuch es in einem Moment noch einmal."
)
SORRY_EN = "My database is briefly unavailable. Please try again in a moment."

# (who, chat, command): reads and writes, in private chats and in the AG's group.
WINDOW_COMMANDS = (
    ("anna", "dm", "/ags"),
    ("anna", "dm", "/meine"),
    ("anna", "group", "/my"),
    ("ben", "dm", "/join ag3"),
    ("ben", "dm", "/my"),
    ("carl", "dm", "/join ag1"),
    ("carl", "dm", "/ags"),
)
# Ben chose English before the outage; Carl never wrote before: German, the default.
LANGUAGE = {"anna": "de", "ben": "en", "carl": "de"}
# The same commands once the server is back, and how their replies begin.
AFTER = {
    ("anna", "dm", "/ags"): "Die AGs des Bündnisses",
    ("anna", "dm", "/meine"): "Deine AGs:",
    ("anna", "group", "/my"): "Deine AGs:",
    ("ben", "dm", "/join ag3"): "Welcome to the AG",
    ("ben", "dm", "/my"): "Your AGs:",
    ("carl", "dm", "/join ag1"): "Willkommen in der AG",
    ("carl", "dm", "/ags"): "Die AGs des Bündnisses",
}

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    with own_postgres_server("buendnisbot-pg-faults-") as server:
        yield server


@pytest.fixture
def outage_url(own_postgres: PostgresServer) -> Iterator[str]:
    """A fresh database on the module's server; the server is running again afterwards,
    even when the test failed in the middle of the outage."""
    name = unique_database_name("faults")
    url = own_postgres.create_database(name)
    try:
        yield url
    finally:
        if own_postgres.paused:
            own_postgres.resume()
        own_postgres.drop_database(name)


@pytest.fixture
async def running_bot(outage_url: str) -> AsyncIterator[BotHarness]:
    """The bot as `App.start` runs it: scheduler running, reminder engine started."""
    bot = await BotHarness.create(outage_url)
    await bot.app.start()
    try:
        yield bot
    finally:
        await bot.app.stop()


async def say(bot: BotHarness, who: str, where: str, command: str) -> list[str]:
    chat = bot.dm(who) if where == "dm" else bot.group("ag2-gruppe")
    return await chat.say(who, command)


async def memberships(bot: BotHarness) -> set[tuple[str, str, str]]:
    """(account, AG, role) for every membership; the whole table, by name."""
    async with bot.app.services.db.read() as session:
        rows = await session.execute(
            select(Account.external_id, Ag.slug, Membership.role)
            .join(Membership, Membership.person_id == Account.person_id)
            .join(Ag, Ag.id == Membership.ag_id)
        )
        return {(who, ag, role) for who, ag, role in rows.all()}


async def accounts(bot: BotHarness) -> set[str]:
    async with bot.app.services.db.read() as session:
        return set(await session.scalars(select(Account.external_id)))


async def test_postgres_stopped_for_10_s(
    running_bot: BotHarness,
    own_postgres: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot, server = running_bot, own_postgres
    services = bot.app.services
    timers = services.timers
    assert timers.running

    # Before: an AG with a lead, a linked group and a meeting; Ben writes in English.
    group = bot.group("ag2-gruppe")
    await group.say("admin", "/link ag2")
    anna, ben = bot.dm("anna"), bot.dm("ben")
    await anna.say("anna", "/join ag2")
    await bot.dm("admin").say("admin", "/lead ag2 @anna", mentions=("anna",))
    await ben.say("ben", "/lang en")
    assert (await ben.say("ben", "/join ag1"))[0].startswith("Welcome to the AG")
    assert "Kennung" in (await anna.say("anna", "/meeting ag2 in 3 Stunden Krisensitzung"))[0]
    before_members = await memberships(bot)
    before_accounts = await accounts(bot)
    assert before_members == {
        ("anna", "ag2", "lead"),
        ("ben", "ag1", "member"),
    }
    assert "carl" not in before_accounts

    # The outage begins inside Anna's `/join ag3`: row inserted, not yet committed (a
    # known member's join is one statement: the server stops right after it ran).
    paused_at: list[float] = []
    sql_engine = services.db.engine.sync_engine

    def insert_then_outage(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if paused_at or not statement.startswith("INSERT INTO membership"):
            return
        in_transaction = conn.exec_driver_sql(
            "SELECT count(*) FROM membership m JOIN ag ON ag.id = m.ag_id WHERE ag.slug = 'ag3'"
        ).scalar()
        assert in_transaction == 1  # written, visible inside the transaction
        server.pause()
        paused_at.append(time.monotonic())

    event.listen(sql_engine, "after_cursor_execute", insert_then_outage)
    occurrence = (await occurrences(bot))[0]
    await remind_in(bot.app, occurrence.id, REMINDER_AFTER)
    caplog.clear()
    caplog.set_level(logging.WARNING)

    try:
        # --- the window -----------------------------------------------------------
        interrupted = await anna.say("anna", "/join ag3")
        assert server.paused and paused_at
        event.remove(sql_engine, "after_cursor_execute", insert_then_outage)
        assert interrupted == [SORRY_DE]

        window: dict[tuple[str, str, str], list[str]] = {}
        for who, where, command in WINDOW_COMMANDS:
            window[(who, where, command)] = await say(bot, who, where, command)
        # The reminder falls due while the server is still down.
        await asyncio.sleep(max(0.0, paused_at[0] + OUTAGE - time.monotonic()))
        assert server.paused
        reminders_meanwhile = [t for t in sent_to(bot, "ag2-gruppe") if t.startswith("⏰")]
        # The leader lock's connection broke with the server: the process stepped down
        # (no scheduler, no reminder engine) instead of running on blind (bot/leader.py).
        stepped_down = not services.leading and not timers.running
        await asyncio.to_thread(server.resume)
    finally:
        if server.paused:
            server.resume()

    for (who, _where, command), replies in window.items():
        expected = SORRY_EN if LANGUAGE[who] == "en" else SORRY_DE
        assert replies == [expected], (who, command, replies)
    assert stepped_down, "a leader cut off from the database went on with its duties"
    assert reminders_meanwhile == []
    # Leading again without any help, it catches up at once: the reminder of the window
    # (marked late: it fell due before this lead began).
    for _ in range(int(RECOVERY_LIMIT * 10)):
        if any(t.startswith("⏰") for t in sent_to(bot, "ag2-gruppe")):
            break
        await asyncio.sleep(0.1)
    await asyncio.wait_for(engine(services).wait_idle(), RECOVERY_LIMIT)
    assert services.leading

    # --- after: nothing of the window was written, not even the interrupted join ------
    assert await memberships(bot) == before_members
    assert await accounts(bot) == before_accounts

    # The same commands succeed without any help (the pool replaced its dead connections).
    assert (await anna.say("anna", "/join ag3"))[0].startswith("Willkommen in der AG")
    for (who, where, command), beginning in AFTER.items():
        replies = await say(bot, who, where, command)
        assert len(replies) == 1 and replies[0].startswith(beginning), (who, command, replies)
    assert await memberships(bot) == before_members | {
        ("anna", "ag3", "member"),
        ("ben", "ag3", "member"),
        ("carl", "ag1", "member"),
    }
    assert await accounts(bot) == before_accounts | {"carl"}

    # The reminder due in the window goes out after it, exactly once.
    reminder_engine = engine(services)
    await asyncio.wait_for(reminder_engine.wait_idle(), RECOVERY_LIMIT)
    async with services.db.read() as session:
        due = list(
            await session.execute(
                select(Reminder.id, Reminder.status).where(Reminder.status != "cancelled")
            )
        )
        deliveries = list(
            await session.execute(select(ReminderDelivery.target, ReminderDelivery.status))
        )
    assert [status for _id, status in due] in (["sent"], ["late-sent"]), due
    assert deliveries == [("chat:1", "sent")]
    reminder_texts = [t for t in sent_to(bot, "ag2-gruppe") if t.startswith("⏰")]
    assert len(reminder_texts) == 1
    assert "Krisensitzung" in reminder_texts[0]

    # --- the log: one warning per failure, no stack traces, no errors ------------------
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r for r in records if r.exc_info or "Traceback" in r.getMessage()] == []
    assert [r for r in records if r.levelno >= logging.ERROR] == []
    unavailable = [r for r in records if r.name == "bot.commands.dispatch"]
    assert len(unavailable) == 1 + len(WINDOW_COMMANDS)
    assert all("database is unavailable" in r.getMessage() for r in unavailable)
    retries = [r for r in records if r.name == "handlers.reminders.engine"]
    assert all(
        f"reminder {due[0][0]}: the database is unavailable" in r.getMessage() for r in retries
    )
    assert any(r.name == "bot.leader" and "lost" in r.getMessage() for r in records)
    expected_loggers = {"bot.commands.dispatch", "handlers.reminders.engine", "bot.leader"}
    assert {r.name for r in records} <= expected_loggers
    for record in records:  # no SQL, no parameters, no message text in the log
        assert "SELECT" not in record.getMessage() and "ag3" not in record.getMessage()


@pytest.mark.parametrize("begins", ["after the claim", "after the first send"])
async def test_an_outage_in_the_middle_of_a_fan_out_sends_each_reminder_once(
    bot: BotHarness, begins: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The database goes away in the middle of a reminder's fan-out (simulated: the next
    database calls fail; no waiting). After the claim: the firing is tried again and the
    claim resumes the deliveries left open. After the first message went out: its `sent`
    is recorded once the database is back instead of leaving it `sending`, which the next
    firing would send again. Either way every target gets the reminder exactly once."""
    keyed = KeyedTransport()
    use_transport(bot, keyed)
    setup = await ag2_with_lead(bot)
    await setup.ben.say("ben", "/remind on")
    await setup.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen")
    reminder_engine = setup.engine
    reminder_engine.db_retry_base = reminder_engine.sender.retry_base = 0.001
    db = bot.app.services.db
    real_run = db.run
    calls = 0
    failures_left = 0
    first_send = keyed.attempts + 1

    async def run_in_outage(work: Any, **kwargs: Any) -> Any:
        nonlocal calls, failures_left
        calls += 1
        if begins == "after the claim" and calls == 2:
            failures_left = 3
        if failures_left > 0:
            failures_left -= 1
            raise DatabaseUnavailable("ConnectionRefusedError: [Errno 111] (simulated)")
        return await real_run(work, **kwargs)

    def outage_on_send(attempt: int) -> None:
        nonlocal failures_left
        if begins == "after the first send" and attempt == first_send:
            failures_left = 4

    monkeypatch.setattr(db, "run", run_in_outage)
    keyed.on_send = outage_on_send
    first = (await reminders(bot))[0]
    setup.clock.set(first.due_at)
    caplog.set_level(logging.WARNING)

    reminder_engine.spawn(first.id)
    await asyncio.wait_for(reminder_engine.wait_idle(), RECOVERY_LIMIT)

    assert failures_left == 0
    # One send per target, none a second time (with the same key this fake network drops
    # a resend; Telegram, without keys, would show it as a duplicate).
    assert keyed.attempts == first_send + 1 and keyed.dropped == 0
    async with bot.app.services.db.read() as session:
        ben = await repo.find_account(session, "fake", "ben")
    assert ben is not None
    assert sorted(k for k in keyed.keys if k and k.startswith("reminder:")) == [
        f"reminder:{first.id}:chat:1",
        f"reminder:{first.id}:person:{ben.person_id}",
    ]
    assert {(d.status, d.attempts) for d in await deliveries(bot)} == {("sent", 1)}
    assert (await reminders(bot))[0].status == "sent"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    expected = (
        f"reminder {first.id}: the database is unavailable"
        if begins == "after the claim"
        else "sent, but the database is unavailable"
    )
    assert any(expected in w for w in warnings), warnings
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
