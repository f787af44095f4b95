"""A reminder counts who comes, who may come and who does not; only those who come are
named (a group should not read who stays away)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.fake import BotHarness
from tests.support.meetings import (
    Ag2,
    KeyedTransport,
    ag2_with_lead,
    reminders,
    sent_to,
    use_transport,
)

MEETING_UTC = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # Thursday 3.12.2026 18:00 in Berlin


@pytest.fixture
async def ag2(bot: BotHarness) -> Ag2:
    use_transport(bot, KeyedTransport())
    setup = await ag2_with_lead(bot)
    await setup.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Plenum")
    for who, answer in (("ben", "ja"), ("carla", "vielleicht"), ("dora", "vielleicht")):
        await bot.dm(who).say(who, "/join ag2")
        await bot.dm(who).say(who, f"/rsvp m1 {answer}")
    await bot.dm("emil").say("emil", "/join ag2")
    await bot.dm("emil").say("emil", "/rsvp m1 nein")
    return setup


async def fire_day_before(ag2: Ag2) -> None:
    at = MEETING_UTC - timedelta(days=1)
    ag2.clock.set(at)
    [first, _] = await reminders(ag2.bot)
    await ag2.engine.fire(first.id)


async def test_the_reminder_counts_maybe_and_no_without_names(ag2: Ag2) -> None:
    await fire_day_before(ag2)
    [reminder] = [t for t in sent_to(ag2.bot, "ag2-gruppe") if t.startswith("⏰")]
    assert reminder == (
        "⏰ Erinnerung: Plenum – AG Transparenz und Beteiligung\n"
        "Donnerstag, 3. Dezember 2026, 18:00 Uhr (noch 1 Tag)\n"
        "✅ Dabei (1): @ben\n"
        "❓ Vielleicht (2) · ❌ Nicht dabei (1)"
    )


async def test_in_english_the_counts_are_english(ag2: Ag2) -> None:
    await ag2.group.say("anna", "/lang en")
    await ag2.bot.dm("ben").say("ben", "/rsvp m1 nein")
    await fire_day_before(ag2)
    [reminder] = [t for t in sent_to(ag2.bot, "ag2-gruppe") if t.startswith("⏰")]
    assert reminder == (
        "⏰ Reminder: Plenum – AG Transparenz und Beteiligung\n"
        "Thursday, 3 December 2026, 18:00 (1 day from now)\n"
        "Nobody has said they're coming yet.\n"
        "❓ Maybe (2) · ❌ Not coming (2)"
    )
