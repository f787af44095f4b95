"""A Terminumfrage across networks: answers are a person's, so when two accounts become
one person (`/connect`), one answer per date remains, the newer one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.connect import clock, link, two_networks
from tests.support.fake import BotHarness
from tests.support.poll_chat import setup_ag

DATES = "Di 1.12. 19 Uhr; Mi 2.12. 18:30; Do 3.12. 19-21 Uhr"  # the clock: Mon 30.11.2026


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[BotHarness]:
    async with two_networks(database_url) as harness:
        yield harness


async def test_answers_merge_when_two_accounts_become_one_person(two: BotHarness) -> None:
    await setup_ag(two)  # anna leads AG 2 on the fake network; ben and carl are members
    other = two.dm("anna", "other")
    await other.say("anna", "/join ag2")
    [started, *_] = await two.dm("anna").say("anna", f'/terminumfrage ag2 "Plenum" {DATES}')
    sid = started.split()[2].rstrip(":")
    await two.dm("anna").say("anna", f"/termin {sid} 1 ja 2 nein")
    await two.dm("ben").say("ben", f"/termin {sid} 1 ja")
    clock(two).advance(minutes=1)
    await other.say("anna", f"/termin {sid} 2 ja 3 nein")  # newer than the fake network's
    [before] = await other.say("anna", f"/termin {sid}")
    assert before.split("\n")[1:4] == [
        "1. Di 01.12. 19:00–20:00 – ja 2 · wenn nötig 0 · nein 0 · offen 2",
        "2. Mi 02.12. 18:30–19:30 – ja 1 · wenn nötig 0 · nein 1 · offen 2",
        "3. Do 03.12. 19:00–21:00 – ja 0 · wenn nötig 0 · nein 1 · offen 3",
    ]

    assert (await link(two))[0].startswith("Verbunden mit")

    [after] = await other.say("anna", f"/termin {sid}")
    assert after.split("\n")[1:5] == [
        "1. Di 01.12. 19:00–20:00 – ja 2 · wenn nötig 0 · nein 0 · offen 1",
        "2. Mi 02.12. 18:30–19:30 – ja 1 · wenn nötig 0 · nein 0 · offen 2",
        "3. Do 03.12. 19:00–21:00 – ja 0 · wenn nötig 0 · nein 1 · offen 2",
        "Noch keine Antwort: @carl",
    ]
    # One person, one answer per date, from either network.
    await two.dm("anna").say("anna", f"/termin {sid} 2 nein")
    [last] = await other.say("anna", f"/termin {sid}")
    assert "2. Mi 02.12. 18:30–19:30 – ja 0 · wenn nötig 0 · nein 1 · offen 2" in last
