"""/ags: one block per AG with its lead(s), its next meeting and where its chats are
(per network), in the reader's language."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.fake import BotHarness, FakeTransport
from tests.support.meetings import Clock

AG1 = (
    "• ag1 Nachhaltige Dorfentwicklung – 0 Mitglieder\n"
    "   Strukturwandel durch inhaltliche Arbeit an nachhaltiger Dorfentwicklung – ökologisch,"
    " wirtschaftlich, sozial."
)
AG2_HEAD = (
    "• ag2 Transparenz und Beteiligung – {n}\n"
    "   Politische Entscheidungen im Strukturwandel beteiligungsorientierter und transparenter"
    " machen; neue Beteiligungsformate ausprobieren."
)
AG3 = (
    "• ag3 Interne Struktur und Vernetzung – 0 Mitglieder\n"
    "   Interne Koordination des Bündnisses, langfristige Aufstellung, Arbeitsstruktur und"
    " Förderanträge."
)


@pytest.fixture
async def two(sqlite_url: str) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.create(
        sqlite_url,
        admins=("fake:admin", "matrix:admin"),
        more=(FakeTransport(platform="matrix", command_prefix="!"),),
    )
    harness.app.services.clock = Clock()  # Saturday 28.11.2026
    yield harness
    await harness.close()


async def test_each_ag_shows_leads_next_meeting_and_chats(two: BotHarness) -> None:
    admin = two.dm("admin")
    await two.group("ag2-gruppe").say("admin", "/link ag2")
    await two.group("ag2-orga").say("admin", "/link ag2")
    await two.group("!raum", platform="matrix").say("admin", "!link ag2")
    for who in ("anna", "ben", "carl"):
        await two.dm(who).say(who, "/join ag2")
    await admin.say("admin", "/lead ag2 @anna", mentions=("anna",))
    await admin.say("admin", "/lead ag2 @ben", mentions=("ben",))
    await two.dm("anna").say("anna", "/meeting ag2 15.12.2026 19:00 Plenum")
    await two.dm("anna").say("anna", "/meeting ag2 08.12.2026 18:30 Orga-Treffen")
    await two.dm("anna").say("anna", "/meeting ag2 01.12.2026 18:00 Abgesagt")
    await two.dm("anna").say("anna", "/cancel m3")

    assert await two.dm("dora").say("dora", "/ags") == [
        "Die AGs des Bündnisses:\n" + AG1 + "\n" + AG2_HEAD.format(n="3 Mitglieder") + "\n"
        "   Leitungen: @anna, @ben\n"
        "   Nächstes Treffen: Di 08.12. 18:30 Orga-Treffen (m2)\n"
        "   Chats: Fake „Ag2-Gruppe“, „Ag2-Orga“ · Matrix „!Raum“\n" + AG3 + "\n"
        "Beitreten mit /join <AG>, z. B. /join ag2."
    ]


async def test_an_ag_without_lead_meeting_or_chat_stays_short(two: BotHarness) -> None:
    await two.dm("anna").say("anna", "/join ag2")
    [listing] = await two.dm("anna").say("anna", "/ags")
    assert listing.splitlines()[3:5] == AG2_HEAD.format(n="1 Mitglied").splitlines()
    assert listing.splitlines()[5].startswith("• ag3")


async def test_in_english(two: BotHarness) -> None:
    await two.group("ag2-gruppe").say("admin", "/link ag2")
    await two.dm("anna").say("anna", "/join ag2")
    await two.dm("admin").say("admin", "/lead ag2 @anna", mentions=("anna",))
    await two.dm("anna").say("anna", "/meeting ag2 08.12.2026 18:30 Plenum")
    dm = two.dm("dora")
    await dm.say("dora", "/lang en")
    [listing] = await dm.say("dora", "/ags")
    assert listing.splitlines()[5:8] == [
        "   Lead: @anna",
        "   Next meeting: Tue 8 Dec 18:30 Plenum (m1)",
        "   Chats: Fake “Ag2-Gruppe”",
    ]
