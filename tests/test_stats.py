"""The leads' overview: numbers per network, new members, poll participation and meeting
attendance, for leads and admins only, and never a name."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core import Capabilities
from tests.support.fake import BotHarness, FakeTransport
from tests.support.meetings import Clock
from tests.support.poll_chat import setup_ag, start_poll

NAMES = ("yvonne", "quirin", "xaver", "olivia")


async def test_stats_for_the_lead_without_names(sqlite_url: str) -> None:
    other = FakeTransport(
        platform="other", command_prefix="!", capabilities=Capabilities(html=True, files=True)
    )
    bot = await BotHarness.create(sqlite_url, more=(other,))
    try:
        clock = Clock()
        bot.app.services.clock = clock
        group = await setup_ag(bot, lead="yvonne", members=("quirin", "xaver"))
        await bot.dm("olivia", "other").say("olivia", "!join ag2")
        poll = await start_poll(group, "yvonne", '/poll "Wann?" "Di" "Mi"')
        await bot.dm("quirin").say("quirin", f"/vote {poll} 1")
        await bot.dm("xaver").say("xaver", f"/vote {poll} 2")
        await bot.dm("yvonne").say("yvonne", "/meeting ag2 03.12.2026 18:00 Plenum")
        await bot.dm("quirin").say("quirin", "/rsvp m1 ja")
        await bot.dm("xaver").say("xaver", "/rsvp m1 vielleicht")
        clock.set(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))

        [reply] = await bot.dm("yvonne").say("yvonne", "/stats ag2")
        assert reply.splitlines()[:5] == [
            "Zahlen zur AG Transparenz und Beteiligung",
            "4 Mitglieder",
            "• fake: 3",
            "• other: 1",
            "4 neue Mitglieder in den letzten 30 Tagen",
        ]
        assert f"• {poll} „Wann?“ (läuft): 2 Stimmen, 50 % der Mitglieder" in reply
        assert "Do 03.12. 18:00 Plenum: 1 ja, 1 vielleicht, 0 nein" in reply
        for name in NAMES:
            assert name not in reply.lower()

        # In the AG's group, for its chat's AG; and for admins.
        await group.say("yvonne", "/stats")
        assert group.last().startswith("Zahlen zur AG Transparenz und Beteiligung")
        [admin] = await bot.dm("admin").say("admin", "/statistik ag2")
        assert admin.startswith("Zahlen zur AG")
    finally:
        await bot.close()


async def test_stats_only_for_leads_and_admins(bot: BotHarness) -> None:
    await setup_ag(bot, lead="yvonne", members=("quirin",))
    assert await bot.dm("quirin").say("quirin", "/stats ag2") == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]


async def test_stats_of_an_empty_ag(bot: BotHarness) -> None:
    [reply] = await bot.dm("admin").say("admin", "/stats ag3")
    assert "0 Mitglieder" in reply
    assert "Noch keine Umfragen." in reply
    assert "Noch keine vergangenen Treffen." in reply
