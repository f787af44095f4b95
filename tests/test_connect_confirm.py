"""A typed code links nothing until whoever typed it confirms; `/disconnect` gives each
account back what it brought."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.core import ButtonPress
from storage.models import Account, Person
from tests.support.connect import (
    clock,
    get_code,
    link,
    person_of,
    redeem,
    told,
    two_networks,
    victim_and_mallory,
)
from tests.support.fake import BotHarness
from tests.support.poll_chat import setup_ag


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[BotHarness]:
    """The fake network and "other", with a clock the test moves."""
    async with two_networks(database_url) as harness:
        yield harness


# --- a code hands over nothing without the confirmation of whoever types it ---------------


async def test_a_typed_code_shows_whom_it_joins_and_links_nothing(two: BotHarness) -> None:
    """Issue 11.4: the victim types Mallory's code; Mallory gets nothing of hers."""
    code = await victim_and_mallory(two)
    [summary] = await two.dm("vera").say("vera", f"/connect {code}")
    assert summary.startswith("Willst du dieses Konto mit Mallory (@mallory, Other) verbinden?")
    assert (
        "• Mallory (@mallory, Other) bringt mit: AGs: ag1 (Mitglied); Visitenkarte: nein" in summary
    )
    assert "• Dieses Konto bringt mit: AGs: ag2 (Leitung); Visitenkarte: ja" in summary
    assert "Mallory (@mallory, Other) bekommt alle deine AGs und Rollen (auch Leitungen)" in summary
    assert summary.endswith(f"Bestätige innerhalb von 10 Minuten mit /connect {code} JA.")

    mallory = two.dm("mallory", "other")
    assert "ag2" not in (await mallory.say("mallory", "/my"))[0]
    assert "Vera Victim" not in (await mallory.say("mallory", "/card"))[0]
    [refused] = await mallory.say("mallory", '/poll "Frage?" "Ja" "Nein" --ag ag2')
    assert "dürfen nur" in refused
    await mallory.say("mallory", "/forget")
    await mallory.say("mallory", "/forget JA")

    assert await person_of(two, "fake", "vera")
    assert (
        "Transparenz und Beteiligung (ag2) – Leitung"
        in (await two.dm("vera").say("vera", "/my"))[0]
    )
    assert "Vera Victim" in (await two.dm("vera").say("vera", "/card"))[0]
    assert told(two, "other", "mallory")[-1].startswith("Erledigt")  # nothing else told


async def test_confirming_links_and_both_are_told(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    vera = two.dm("vera")
    await vera.say("vera", f"/connect {code}")
    [linked] = await vera.say("vera", f"/connect {code} JA")
    assert linked.startswith("Verbunden mit Mallory (@mallory, Other)! Deine Konten gehören jetzt")
    assert told(two, "other", "mallory")[-1] == (
        "Vera (@vera, Fake) ist jetzt mit dir verbunden: AGs, Rollen, Stimmen und Visitenkarte "
        "gehören jetzt zu einer Person. Warst du das nicht, trenne die Verbindung mit "
        "/disconnect."
    )
    assert await person_of(two, "fake", "vera") == await person_of(two, "other", "mallory")
    assert "(ag2) – Leitung" in (await two.dm("mallory", "other").say("mallory", "/my"))[0]


async def test_the_issuer_is_told_in_its_own_language(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("mallory", "other").say("mallory", "/lang en")
    await redeem(two.dm("vera"), "vera", code)
    assert told(two, "other", "mallory")[-1].startswith("Vera (@vera, Fake) is now linked with you")


async def test_confirming_straight_away_only_shows_the_summary(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    [reply] = await two.dm("vera").say("vera", f"/connect {code} JA")
    assert reply.startswith("Willst du dieses Konto mit Mallory (@mallory, Other) verbinden?")
    assert await person_of(two, "fake", "vera") != await person_of(two, "other", "mallory")


async def test_only_the_account_shown_the_summary_may_confirm(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("vera").say("vera", f"/connect {code}")
    for say in (f"/connect {code}", f"/connect {code} JA"):
        assert await two.dm("eve").say("eve", say) == [
            "Dieser Code wurde schon benutzt. Hol dir auf dem anderen Netzwerk mit /connect "
            "einen neuen."
        ]
    assert await person_of(two, "fake", "eve") != await person_of(two, "other", "mallory")
    # Vera may still confirm.
    assert (await two.dm("vera").say("vera", f"/connect {code} ja"))[0].startswith("Verbunden")


async def test_the_summary_has_a_button_that_confirms(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("vera").say("vera", f"/connect {code}")
    chat, buttons = two.transports["fake"].buttons[-1]
    assert chat == two.dm("vera").ref
    assert [(b.label, b.data) for b in buttons] == [
        ("Ja, verbinden", f"connect:{code.replace('-', '')}")
    ]
    dispatcher = two.app.dispatcher
    # Pressed in a group (or by someone else) it does nothing.
    press = ButtonPress(two.group("g").ref, two.user("vera"), buttons[0].data, "cb-1")
    assert await dispatcher.button_pressed(press) is None
    eve = ButtonPress(two.dm("eve").ref, two.user("eve"), buttons[0].data, "cb-2")
    await dispatcher.button_pressed(eve)
    assert await person_of(two, "fake", "vera") != await person_of(two, "other", "mallory")
    assert await person_of(two, "fake", "eve") != await person_of(two, "other", "mallory")

    before = len(two.transports["fake"].sent)
    press = ButtonPress(two.dm("vera").ref, two.user("vera"), buttons[0].data, "cb-3")
    await dispatcher.button_pressed(press)
    assert (
        two.transports["fake"]
        .sent[before]
        .text.startswith("Verbunden mit Mallory (@mallory, Other)!")
    )
    assert await person_of(two, "fake", "vera") == await person_of(two, "other", "mallory")


async def test_the_confirmation_expires(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    clock(two).advance(minutes=9)
    await two.dm("vera").say("vera", f"/connect {code}")
    clock(two).advance(minutes=5)
    # Showing the summary again does not keep the code alive.
    assert (await two.dm("vera").say("vera", f"/connect {code}"))[0].startswith("Willst du")
    clock(two).advance(minutes=4, seconds=59)  # 10 minutes from the first summary
    await two.dm("vera").say("vera", "/my")
    clock(two).advance(seconds=2)
    assert await two.dm("vera").say("vera", f"/connect {code} JA") == [
        "Dieser Code ist abgelaufen (er gilt 10 Minuten). Hol dir auf dem anderen Netzwerk "
        "mit /connect einen neuen."
    ]
    assert await person_of(two, "fake", "vera") != await person_of(two, "other", "mallory")


async def test_a_confirmation_must_say_yes(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("vera").say("vera", f"/connect {code}")
    assert await two.dm("vera").say("vera", f"/connect {code} vielleicht") == [
        f"Zum Bestätigen schreib /connect {code} JA."
    ]
    assert await person_of(two, "fake", "vera") != await person_of(two, "other", "mallory")


async def test_disconnect_gives_each_account_back_what_it_brought(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("mallory", "other").say("mallory", "/join ag2")  # a member where Vera leads
    await redeem(two.dm("vera"), "vera", code)
    vera, mallory = two.dm("vera"), two.dm("mallory", "other")
    assert "(ag2) – Leitung" in (await mallory.say("mallory", "/my"))[0]

    [reply] = await vera.say("vera", "/disconnect")
    assert reply.startswith("Getrennt. Dieses Konto steht jetzt für sich allein")
    assert told(two, "other", "mallory")[-1] == (
        "Vera (@vera, Fake) ist nicht mehr mit dir verbunden und hat die AGs, Rollen und die "
        "Visitenkarte mitgenommen, die es mitgebracht hatte."
    )
    mine = (await vera.say("vera", "/my"))[0]
    assert "(ag2) – Leitung" in mine and "ag1" not in mine
    assert "Vera Victim" in (await vera.say("vera", "/card"))[0]
    theirs = (await mallory.say("mallory", "/my"))[0]
    assert "(ag2) – Mitglied" in theirs and "(ag1) – Mitglied" in theirs
    assert "Vera Victim" not in (await mallory.say("mallory", "/card"))[0]
    [refused] = await mallory.say("mallory", '/poll "Frage?" "Ja" "Nein" --ag ag2')
    assert "dürfen nur" in refused


async def test_the_issuer_disconnecting_takes_only_its_own(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await redeem(two.dm("vera"), "vera", code)
    mallory = two.dm("mallory", "other")
    await mallory.say("mallory", "/disconnect")
    theirs = (await mallory.say("mallory", "/my"))[0]
    assert "(ag1) – Mitglied" in theirs and "ag2" not in theirs
    assert "Vera Victim" not in (await mallory.say("mallory", "/card"))[0]
    mine = (await two.dm("vera").say("vera", "/my"))[0]
    assert "(ag2) – Leitung" in mine and "ag1" not in mine
    assert "Vera Victim" in (await two.dm("vera").say("vera", "/card"))[0]


async def test_a_role_lost_after_the_link_is_not_given_back(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await redeem(two.dm("vera"), "vera", code)
    await two.dm("admin").say("admin", "/unlead ag2 @vera")
    await two.dm("vera").say("vera", "/disconnect")
    assert "(ag2) – Mitglied" in (await two.dm("vera").say("vera", "/my"))[0]


async def test_forget_after_a_confirmed_link_leaves_no_connect_rows(two: BotHarness) -> None:
    """With Vera's confirmation Mallory's /forget deletes both accounts, as the summary
    said; what the link noted (shares, wrong codes, codes) goes with the accounts."""
    from storage.connect.models import ConnectCode, ConnectMiss, ConnectShare

    code = await victim_and_mallory(two)
    await two.dm("vera").say("vera", "/connect ZZZZ-ZZZZ")  # a wrong code is noted
    await redeem(two.dm("vera"), "vera", code)
    await get_code(two.dm("vera"), "vera")
    async with two.app.services.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(ConnectShare))
        assert await session.scalar(select(func.count()).select_from(ConnectMiss))
    mallory = two.dm("mallory", "other")
    await mallory.say("mallory", "/forget")
    assert (await mallory.say("mallory", "/forget JA"))[0].startswith("Erledigt")
    async with two.app.services.db.read() as session:
        for model in (ConnectShare, ConnectMiss, ConnectCode, Account):
            rows = await session.scalar(select(func.count()).select_from(model))
            assert rows == 0 or model is Account, model
        names = set(await session.scalars(select(Account.external_id)))
    assert not names & {"vera", "mallory"}


# --- /disconnect ---------------------------------------------------------------------------


async def test_disconnect_gives_the_account_a_person_of_its_own(two: BotHarness) -> None:
    await setup_ag(two)
    await two.dm("anna").say("anna", "/language en")
    await link(two)
    other = two.dm("anna", "other")
    replies = await other.say("anna", "/disconnect")
    assert replies[0].startswith("Unlinked. This account now stands on its own"), replies
    assert await person_of(two, "fake", "anna") != await person_of(two, "other", "anna")
    assert "(ag2)" in (await two.dm("anna").say("anna", "/my"))[0]
    assert "(ag2)" not in (await other.say("anna", "/my"))[0]
    async with two.app.services.db.read() as session:
        language = await session.scalar(
            select(Person.language).where(Person.id == await person_of(two, "other", "anna"))
        )
    assert language == "en"


async def test_disconnect_without_a_link(two: BotHarness) -> None:
    assert await two.dm("anna").say("anna", "/disconnect") == [
        "Dein Konto ist mit keinem anderen verbunden."
    ]
