"""The reminder engine's guarantees, with a controllable clock and no waiting:
exactly once to every target, rebuilt from rows on restart, late after downtime and
missed when too late, retried through outages, resumed with the same keys after a crash.

Scheduler jobs are not waited for: the tests move the clock and run the job's work
(`engine.fire`) or the start-up step (`engine.start`) directly.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.core import ChatRef, SentRef
from bot.rich import Rich
from handlers.reminders.engine import JOB_PREFIX, ReminderEngine, engine
from handlers.reminders.text import compose_reminder
from storage import repo
from storage.meetings.models import DeliveryStatus, ReminderDelivery
from storage.models import Chat as ChatRow
from tests.support.fake import BotHarness
from tests.support.meetings import (
    Ag2,
    KeyedTransport,
    ag2_with_lead,
    deliveries,
    reminders,
    sent_to,
    statuses,
    use_transport,
)

MEETING_UTC = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # Thursday 3.12.2026 18:00 in Berlin
DAY_BEFORE = MEETING_UTC - timedelta(days=1)
HOUR_BEFORE = MEETING_UTC - timedelta(hours=1)


@pytest.fixture
async def ag2(bot: BotHarness) -> Ag2:
    use_transport(bot, KeyedTransport())
    setup = await ag2_with_lead(bot)
    await bot.group("ag2-zweitgruppe").say("anna", "/link ag2")
    await setup.ben.say("ben", "/remind on")
    await setup.anna.say(
        "anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen https://meet.example/ag2"
    )
    await setup.ben.say("ben", "/rsvp m1 ja")
    return setup


def transport(ag2: Ag2) -> KeyedTransport:
    assert isinstance(ag2.bot.transport, KeyedTransport)
    return ag2.bot.transport


def reminder_texts(ag2: Ag2, chat_id: str) -> list[str]:
    return [t for t in sent_to(ag2.bot, chat_id) if t.startswith("⏰")]


async def fire_due(ag2: Ag2, at: datetime) -> None:
    """What the scheduler does at `at`: fire every reminder due by then."""
    ag2.clock.set(at)
    for row in await reminders(ag2.bot):
        if row.due_at <= at:
            await ag2.engine.fire(row.id)


# --- exactly once, to every target -------------------------------------------------


async def test_a_due_reminder_reaches_every_chat_and_opted_in_person_once(ag2: Ag2) -> None:
    await fire_due(ag2, DAY_BEFORE)
    await fire_due(ag2, DAY_BEFORE + timedelta(seconds=5))  # fired again: nothing new

    expected = (
        "⏰ Erinnerung: Online-Treffen – AG Transparenz und Beteiligung\n"
        "Donnerstag, 3. Dezember 2026, 18:00 Uhr (noch 1 Tag)\n"
        "🔗 https://meet.example/ag2\n"
        "✅ Dabei (1): @ben\n"
        "❓ Vielleicht (0) · ❌ Nicht dabei (0)"
    )
    assert reminder_texts(ag2, "ag2-gruppe") == [expected]
    assert reminder_texts(ag2, "ag2-zweitgruppe") == [expected]
    # Privately without buttons, so with the command to answer.
    assert reminder_texts(ag2, "dm-ben") == [
        expected + "\nAntworten mit /rsvp m1 ja|nein|vielleicht"
    ]
    assert reminder_texts(ag2, "dm-anna") == []  # Anna did not ask for private reminders

    in_groups = [(c.id, [b.data for b in bs]) for c, bs in transport(ag2).buttons[-2:]]
    assert in_groups == [
        ("ag2-gruppe", ["rsvp:1:yes", "rsvp:1:no", "rsvp:1:maybe"]),
        ("ag2-zweitgruppe", ["rsvp:1:yes", "rsvp:1:no", "rsvp:1:maybe"]),
    ]
    rows = await deliveries(ag2.bot)
    async with ag2.bot.app.services.db.read() as session:
        ben = await repo.find_account(session, "fake", "ben")
    assert ben is not None
    assert sorted(d.target for d in rows) == ["chat:1", "chat:2", f"person:{ben.person_id}"]
    assert {(d.status, d.attempts) for d in rows} == {("sent", 1)}
    assert [k for k in transport(ag2).keys if k and k.startswith("reminder:")] == [
        "reminder:1:chat:1",
        "reminder:1:chat:2",
        f"reminder:1:person:{ben.person_id}",
    ]
    assert await statuses(ag2.bot) == ["sent", "pending"]

    await fire_due(ag2, HOUR_BEFORE)
    assert reminder_texts(ag2, "ag2-gruppe")[-1].splitlines()[1] == (
        "Donnerstag, 3. Dezember 2026, 18:00 Uhr (noch 1 Stunde)"
    )
    assert await statuses(ag2.bot) == ["sent", "sent"]


async def test_a_chat_reads_the_reminder_in_its_language(ag2: Ag2) -> None:
    async with ag2.bot.app.services.db.write() as session:
        await session.execute(
            update(ChatRow).where(ChatRow.external_id == "ag2-zweitgruppe").values(language="en")
        )
    await fire_due(ag2, DAY_BEFORE)
    [english] = reminder_texts(ag2, "ag2-zweitgruppe")
    assert "Thursday, 3 December 2026, 18:00" in english
    assert "1 day" in english


async def test_a_cancelled_meeting_is_not_reminded(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/cancel m1")
    await fire_due(ag2, DAY_BEFORE)
    assert reminder_texts(ag2, "ag2-gruppe") == []
    assert await statuses(ag2.bot) == ["cancelled", "cancelled"]


async def test_fan_out_runs_in_parallel_but_bounded(ag2: Ag2) -> None:
    for i in range(12):
        await ag2.bot.group(f"extra-{i}").say("anna", "/link ag2")
    services = ag2.bot.app.services
    services.reminders = ReminderEngine(services, compose_reminder, parallel=3)
    running = peak = 0
    original = transport(ag2).send

    async def slow_send(chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return await original(chat, message, key=key)

    transport(ag2).send = slow_send  # type: ignore[method-assign]
    await fire_due(ag2, DAY_BEFORE)
    assert peak == 3
    assert len([d for d in await deliveries(ag2.bot) if d.status == "sent"]) == 15


# --- restart: the scheduler is rebuilt from the rows --------------------------------


async def test_a_new_app_on_the_same_database_rebuilds_the_jobs(ag2: Ag2, sqlite_url: str) -> None:
    ag2.clock.set(DAY_BEFORE - timedelta(hours=3))
    await ag2.anna.say("anna", "/meeting ag2 02.12.2026 20:00 Abendrunde")  # due 18:00 UTC
    await ag2.anna.say("anna", "/meeting ag2 Di 18:00 Plenum --weekly")  # due later
    await ag2.engine.start()
    first = ag2.engine.scheduled()
    await ag2.bot.close()

    again = await BotHarness.create(sqlite_url)
    try:
        again.app.services.clock = ag2.clock
        await engine(again.app.services).start()
        timers = again.app.services.timers
        jobs = {job_id: timers.due(job_id) for job_id in timers.ids(JOB_PREFIX)}
        # The window: due within the next 6 hours (1 day before m1, 1 hour before m2).
        expected = {
            r.id: r.due_at
            for r in await reminders(again)
            if r.due_at <= ag2.clock.now + timedelta(hours=6) and r.status == "pending"
        }
        assert len(expected) == 2
        assert {int(k.removeprefix(JOB_PREFIX)) for k in jobs} == set(expected) == first
        for job_id, due in jobs.items():
            assert due == expected[int(job_id.removeprefix(JOB_PREFIX))]
        assert {"reminders:window", "reminders:horizon"} <= set(timers.ids())
        # Later reminders wait in the table for the window to move on.
        later = [
            r for r in await reminders(again) if r.status == "pending" and r.id not in expected
        ]
        assert len(later) > 10
        # A week on: the window moves with the clock; what fell due meanwhile (its
        # meetings are over) is settled as missed, not sent.
        ag2.clock.set(datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
        rebuilt = engine(again.app.services)
        await rebuilt.load_window()
        await rebuilt.wait_idle()
        [next_due] = [r for r in await reminders(again) if r.id in rebuilt.scheduled()]
        assert next_due.due_at == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # 1 day before 8.12.
        assert {r.status for r in await reminders(again) if r.id in expected} == {"missed"}
    finally:
        await again.close()


# --- downtime: late when the meeting is ahead, missed when it is over ---------------


async def restart(ag2: Ag2, sqlite_url: str, at: datetime) -> BotHarness:
    """Stop the bot; start a new one on the same database with the clock at `at`."""
    await ag2.bot.close()
    again = await BotHarness.create(sqlite_url)
    keyed = KeyedTransport()
    use_transport(again, keyed)
    ag2.clock.set(at)
    again.app.services.clock = ag2.clock
    await engine(again.app.services).start()
    await engine(again.app.services).wait_idle()
    return again


async def test_a_reminder_due_while_the_bot_was_down_is_sent_late(
    ag2: Ag2, sqlite_url: str
) -> None:
    again = await restart(ag2, sqlite_url, DAY_BEFORE + timedelta(hours=2))
    try:
        [late] = [t for t in sent_to(again, "ag2-gruppe") if t.startswith("⏰")]
        assert late.splitlines()[:2] == [
            "⏰ Erinnerung (verspätet): Online-Treffen – AG Transparenz und Beteiligung",
            "Donnerstag, 3. Dezember 2026, 18:00 Uhr",
        ]
        assert await statuses(again) == ["late-sent", "pending"]
    finally:
        await again.close()


async def test_after_a_long_downtime_only_the_latest_reminder_goes_out(
    ag2: Ag2, sqlite_url: str
) -> None:
    again = await restart(ag2, sqlite_url, HOUR_BEFORE + timedelta(minutes=20))
    try:
        assert len([t for t in sent_to(again, "ag2-gruppe") if t.startswith("⏰")]) == 1
        assert await statuses(again) == ["missed", "late-sent"]
    finally:
        await again.close()


async def test_reminders_of_a_meeting_that_is_over_are_missed_and_shown(
    ag2: Ag2, sqlite_url: str
) -> None:
    again = await restart(ag2, sqlite_url, MEETING_UTC + timedelta(hours=2))
    try:
        assert [t for t in sent_to(again, "ag2-gruppe") if t.startswith("⏰")] == []
        assert await statuses(again) == ["missed", "missed"]
        [shown] = await again.dm("anna").say("anna", "/meetings ag2 --missed")
        assert shown.splitlines() == [
            "Verpasste Erinnerungen:",
            "• m1 Online-Treffen (ag2), Do 03.12. 18:00: Erinnerung 1 Stunde vorher nicht "
            "gesendet – der Bot lief zur fälligen Zeit nicht, und danach hatte das Treffen "
            "schon begonnen.",
            "• m1 Online-Treffen (ag2), Do 03.12. 18:00: Erinnerung 1 Tag vorher nicht "
            "gesendet – der Bot lief zur fälligen Zeit nicht, und danach hatte das Treffen "
            "schon begonnen.",
        ]
        assert await again.dm("ben").say("ben", "/meetings ag2 --missed") == [
            "Verpasste Erinnerungen sehen nur die Leitung der AG und Admins."
        ]
    finally:
        await again.close()


# --- outage: retried with backoff until the meeting begins --------------------------


async def test_a_failing_network_delays_but_loses_nothing(ag2: Ag2) -> None:
    ag2.engine.sender.retry_base = 0.001
    transport(ag2).failures = 4
    await fire_due(ag2, DAY_BEFORE)

    assert len(reminder_texts(ag2, "ag2-gruppe")) == 1
    assert len(reminder_texts(ag2, "ag2-zweitgruppe")) == 1
    assert len(reminder_texts(ag2, "dm-ben")) == 1
    rows = await deliveries(ag2.bot)
    assert {d.status for d in rows} == {"sent"}
    assert sum(d.attempts for d in rows) == 3 + 4
    assert any(d.last_error == "ConnectionError: the homeserver is not reachable" for d in rows)
    assert await statuses(ag2.bot) == ["sent", "pending"]


async def test_a_send_failing_until_the_meeting_begins_is_recorded_as_missed(ag2: Ag2) -> None:
    ag2.engine.sender.retry_base = 0.001
    keyed = transport(ag2)
    keyed.failures, keyed.attempts = 10_000, 0

    def time_passes(attempt: int) -> None:
        if attempt == 6:
            ag2.clock.set(MEETING_UTC)

    keyed.on_send = time_passes
    await fire_due(ag2, HOUR_BEFORE)
    assert reminder_texts(ag2, "ag2-gruppe") == []
    rows = [d for d in await deliveries(ag2.bot)]
    assert {d.status for d in rows} == {"missed"}
    assert await statuses(ag2.bot) == ["missed", "missed"]


# --- crash: interrupted fan-out resumes with the same keys --------------------------


async def test_an_interrupted_fan_out_resumes_with_the_same_keys(ag2: Ag2, sqlite_url: str) -> None:
    ag2.clock.set(DAY_BEFORE)
    [first, *_] = await reminders(ag2.bot)
    # What a crash leaves behind: claimed, one delivery sent, one handed to the network
    # (it arrived), one not yet tried.
    sender = ag2.engine.sender
    claim = await sender.claim(first.id, False)
    assert claim is not None
    by_target = {t.key.split(":", 2)[2]: t for t in claim.targets}
    await sender.send(transport(ag2), claim.view, by_target["chat:1"])
    await sender.mark(by_target["chat:1"], DeliveryStatus.SENT)
    await sender.mark(by_target["chat:2"], DeliveryStatus.SENDING, attempt=True)
    await sender.send(transport(ag2), claim.view, by_target["chat:2"])
    keyed = transport(ag2)
    assert await statuses(ag2.bot) == ["sending", "pending"]

    # The restart: the same network (it remembers delivered keys, as Matrix does).
    await ag2.bot.close()
    again = await BotHarness.create(sqlite_url)
    use_transport(again, keyed)
    again.app.services.clock = ag2.clock
    ag2.clock.advance(seconds=30)
    await engine(again.app.services).start()
    await engine(again.app.services).wait_idle()
    try:
        assert len([t for t in sent_to(again, "ag2-gruppe") if t.startswith("⏰")]) == 1
        assert len([t for t in sent_to(again, "ag2-zweitgruppe") if t.startswith("⏰")]) == 1
        assert len([t for t in sent_to(again, "dm-ben") if t.startswith("⏰")]) == 1
        assert keyed.dropped == 1  # the resend of the maybe-sent one, dropped by its key
        assert {d.status for d in await deliveries(again)} == {"sent"}
        assert await statuses(again) == ["sent", "pending"]
    finally:
        await again.close()


# --- people who cannot be reached, networks that are not running -----------------


async def test_an_unreachable_person_is_recorded_and_told_on_remind(ag2: Ag2) -> None:
    transport(ag2).unreachable.add("ben")
    await fire_due(ag2, DAY_BEFORE)
    assert len(reminder_texts(ag2, "ag2-gruppe")) == 1
    person = [d for d in await deliveries(ag2.bot) if d.target.startswith("person:")]
    assert [(d.status, d.last_error) for d in person] == [("unreachable", "no private chat")]
    assert await statuses(ag2.bot) == ["sent", "pending"]
    [status] = await ag2.ben.say("ben", "/remind")
    assert status == (
        "Private Erinnerungen sind an. Abschalten mit /remind off. Die Erinnerung vom "
        "Mittwoch, 2. Dezember 2026, 18:00 Uhr konnte ich dir nicht privat schicken. Öffne "
        "bitte den privaten Chat mit mir und schreib /start."
    )


async def test_a_chat_on_a_network_not_running_waits_and_is_missed_at_the_start(
    ag2: Ag2,
) -> None:
    async with ag2.bot.app.services.db.write() as session:
        chat = await repo.ensure_chat(session, "telegram", "-100123", "TG-Gruppe", False)
        ag = await repo.ag_by_slug(session, "ag2")
        assert ag is not None
        await repo.link(session, ag.id, chat.id)
    await fire_due(ag2, DAY_BEFORE)
    assert len(reminder_texts(ag2, "ag2-gruppe")) == 1
    waiting = [d for d in await deliveries(ag2.bot) if d.target == "chat:3"]
    assert [d.status for d in waiting] == ["pending"]
    assert (await statuses(ag2.bot))[0] == "sending"

    ag2.clock.set(MEETING_UTC)  # the job at the meeting's start settles it
    await ag2.engine.fire((await reminders(ag2.bot))[0].id)
    async with ag2.bot.app.services.db.read() as session:
        status = await session.scalar(
            select(ReminderDelivery.status).where(ReminderDelivery.target == "chat:3")
        )
    assert status == "missed"
    assert (await statuses(ag2.bot))[0] == "sent"
    [shown] = await ag2.anna.say("anna", "/meetings --missed")
    assert "Erinnerung 1 Tag vorher hat 1 von 4 Chats oder Personen nicht erreicht." in shown
