"""One person on two networks: `/connect` gives a code, `/connect CODE` on the other
network links; codes expire, work once, only on the other network and not for guessing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from tests.support.connect import (
    CODE,
    clock,
    get_code,
    link,
    person_of,
    redeem,
    two_networks,
)
from tests.support.fake import BotHarness


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[BotHarness]:
    """The fake network and "other", with a clock the test moves."""
    async with two_networks(database_url) as harness:
        yield harness


# --- codes ---------------------------------------------------------------------------------


async def test_a_code_links_two_accounts(two: BotHarness) -> None:
    replies = await link(two)
    assert replies[-1].startswith(
        "Verbunden mit Anna (@anna, Fake)! Deine Konten gehören jetzt zu einer Person"
    )
    assert await person_of(two, "fake", "anna") == await person_of(two, "other", "anna")


async def test_the_code_is_shown_with_the_other_networks_command(two: BotHarness) -> None:
    replies = await two.dm("anna").say("anna", "/connect")
    code = CODE.search(replies[0])
    assert code and re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code.group(1))
    assert f"/connect {code.group(1)}" in replies[0]
    assert "10 Minuten" in replies[0]


async def test_only_a_hash_of_the_code_is_stored(two: BotHarness) -> None:
    from storage.connect.models import ConnectCode

    code = await get_code(two.dm("anna"), "anna")
    async with two.app.services.db.read() as session:
        rows = list(await session.scalars(select(ConnectCode)))
    assert len(rows) == 1
    assert code.replace("-", "") not in rows[0].code_hash
    assert len(rows[0].code_hash) == 64


async def test_a_code_expires_after_ten_minutes(two: BotHarness) -> None:
    code = await get_code(two.dm("anna"), "anna")
    clock(two).advance(minutes=10, seconds=1)
    replies = await two.dm("anna", "other").say("anna", f"/connect {code}")
    assert replies == [
        "Dieser Code ist abgelaufen (er gilt 10 Minuten). Hol dir auf dem anderen Netzwerk "
        "mit /connect einen neuen."
    ]
    assert await person_of(two, "fake", "anna") != await person_of(two, "other", "anna")


async def test_a_code_is_valid_just_before_ten_minutes(two: BotHarness) -> None:
    code = await get_code(two.dm("anna"), "anna")
    clock(two).advance(minutes=9, seconds=59)
    replies = await redeem(two.dm("anna", "other"), "anna", code.lower())
    assert replies[0].startswith("Verbunden mit")


async def test_a_code_works_once(two: BotHarness) -> None:
    code = await get_code(two.dm("anna"), "anna")
    assert (await redeem(two.dm("anna", "other"), "anna", code))[0].startswith("Verbunden mit")
    assert await two.dm("mallory", "other").say("mallory", f"/connect {code}") == [
        "Dieser Code wurde schon benutzt. Hol dir auf dem anderen Netzwerk mit /connect "
        "einen neuen."
    ]
    assert await person_of(two, "other", "mallory") != await person_of(two, "fake", "anna")


async def test_a_new_code_replaces_the_earlier_one(two: BotHarness) -> None:
    first = await get_code(two.dm("anna"), "anna")
    await get_code(two.dm("anna"), "anna")
    replies = await two.dm("anna", "other").say("anna", f"/connect {first}")
    assert replies[0].startswith("Diesen Code kenne ich nicht.")


async def test_a_code_must_be_used_on_the_other_network(two: BotHarness) -> None:
    code = await get_code(two.dm("anna"), "anna")
    assert await two.dm("ben").say("ben", f"/connect {code}") == [
        "Diesen Code musst du auf dem anderen Netzwerk eingeben, nicht hier."
    ]
    assert await two.dm("anna").say("anna", f"/connect {code}") == [
        "Diesen Code musst du auf dem anderen Netzwerk eingeben, nicht hier."
    ]
    # Not used up by the attempt: it still works on the other network.
    replies = await redeem(two.dm("anna", "other"), "anna", code)
    assert replies[0].startswith("Verbunden mit")


async def test_linking_to_oneself(two: BotHarness) -> None:
    await link(two)
    code = await get_code(two.dm("anna", "other"), "anna")
    assert await two.dm("anna").say("anna", f"/connect {code}") == [
        "Diese beiden Konten sind schon miteinander verbunden."
    ]


async def test_one_account_per_network(two: BotHarness) -> None:
    await link(two, "anna")
    code = await get_code(two.dm("ben"), "ben")
    assert await two.dm("anna", "other").say("anna", f"/connect {code}") == [
        "Eines der Konten ist schon mit einem Konto auf demselben Netzwerk verbunden. "
        "Trenne es zuerst mit /disconnect."
    ]


async def test_a_wrong_code(two: BotHarness) -> None:
    assert await two.dm("anna", "other").say("anna", "/connect ABCD-EFGH") == [
        "Diesen Code kenne ich nicht. Hol dir auf dem anderen Netzwerk mit /connect einen neuen."
    ]


async def test_guessing_stops_after_five_wrong_codes(two: BotHarness) -> None:
    eve = two.dm("eve", "other")
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"):
        [reply] = await eve.say("eve", f"/connect {guess}")
        assert reply.startswith("Diesen Code kenne ich nicht.")
    code = await get_code(two.dm("anna"), "anna")
    too_many = ["Zu viele falsche Codes. Versuch es in einer Stunde wieder, mit einem neuen Code."]
    assert await eve.say("eve", f"/connect {code}") == too_many
    assert await eve.say("eve", f"/connect {code} JA") == too_many
    assert await person_of(two, "other", "eve") != await person_of(two, "fake", "anna")
    # Someone else is not held up, and after an hour eve may try again.
    assert (await two.dm("ben", "other").say("ben", "/connect FFFF-FFFF"))[0].startswith(
        "Diesen Code kenne ich nicht."
    )
    clock(two).advance(hours=1)
    code = await get_code(two.dm("anna"), "anna")
    assert (await eve.say("eve", f"/connect {code}"))[0].startswith("Willst du dieses Konto")


async def test_connect_and_disconnect_only_in_a_private_chat(two: BotHarness) -> None:
    group = two.group("ag2-gruppe")
    assert await group.say("anna", "/connect") == [
        "/connect funktioniert nur im privaten Chat mit mir."
    ]
    assert await group.say("anna", "/disconnect") == [
        "/disconnect funktioniert nur im privaten Chat mit mir."
    ]
    code = await get_code(two.dm("anna"), "anna")
    assert await two.group("raum", "other").say("anna", f"/connect {code}") == [
        "/connect funktioniert nur im privaten Chat mit mir."
    ]
