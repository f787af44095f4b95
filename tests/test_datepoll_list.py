"""`/terminumfrage` (`/datepoll`) without arguments: the open Terminumfragen of the
sender's AGs, newest first, at most 10, with whether the sender has answered."""

from __future__ import annotations

from tests.support.fake import BotHarness
from tests.support.meetings import ag2_with_lead
from tests.test_datepoll import DATES, start

AG = "Transparenz und Beteiligung"
NEW = 'Neue Terminumfrage (Leitung der AG): /datepoll ag2 "Plenum im Januar" 12.1. 19 Uhr; 13.1. 18:30'


async def test_the_list_shows_the_open_ones_and_whether_i_answered(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    assert await ag2.ben.say("ben", "/terminumfrage") == [
        "In deinen AGs läuft gerade keine Terminumfrage.\n" + NEW
    ]
    first = await start(ag2)
    ag2.clock.advance(minutes=1)
    [reply, _] = await ag2.anna.say(
        "anna", f'/terminumfrage ag2 "Stammtisch" {DATES} --bis 30.11. 18 Uhr'
    )
    second = reply.split()[2].rstrip(":")
    await ag2.ben.say("ben", f"/termin {first} 1 ja")
    assert await ag2.ben.say("ben", "/terminumfrage") == [
        "Offene Terminumfragen in deinen AGs:\n"
        f"• {second}: Stammtisch (AG {AG}), bis Mo 30.11. 18:00 – ❔ noch nicht beantwortet\n"
        f"• {first}: Plenum im Januar (AG {AG}) – ✅ beantwortet\n"
        "Ansehen und antworten: /termin <id>\n" + NEW
    ]
    # Past its deadline or decided: no longer listed.
    await ag2.anna.say("anna", f"/festlegen {first} 1")
    ag2.clock.advance(days=3)
    assert await ag2.ben.say("ben", "/datepoll") == [
        "In deinen AGs läuft gerade keine Terminumfrage.\n" + NEW
    ]


async def test_someone_in_no_ag_and_the_english_list(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    assert await bot.dm("zoe").say("zoe", "/terminumfrage") == [
        "In deinen AGs läuft gerade keine Terminumfrage.\n" + NEW
    ]
    await ag2.ben.say("ben", "/lang en")
    [english] = await ag2.ben.say("ben", "/datepoll")
    assert english.split("\n")[:2] == [
        "Open date polls in your AGs:",
        f"• {sid}: Plenum im Januar (AG {AG}) – ❔ not answered yet",
    ]


async def test_at_most_ten_newest_first(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    ids = []
    for _ in range(12):
        ids.append(await start(ag2))
        ag2.clock.advance(minutes=1)
    [listed] = await ag2.ben.say("ben", "/terminumfrage")
    rows = listed.split("\n")
    assert [row.split()[1].rstrip(":") for row in rows[1:11]] == ids[::-1][:10]
    assert rows[11] == "…"


async def test_starting_one_still_needs_a_lead_and_explains_itself(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    assert await ag2.ben.say("ben", f'/terminumfrage ag2 "X" {DATES}') == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]
    [reply] = await ag2.anna.say("anna", "/terminumfrage ag2 12.1. 19 Uhr")
    assert reply.startswith("Schreib den Titel in Anführungszeichen vor die Termine")


async def test_in_a_group_only_the_groups_ags(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await bot.dm("admin").say("admin", '/datepoll ag1 "Geheim" ' + DATES)  # ag1: not linked
    other = bot.group("andere-gruppe")
    assert await other.say("ben", "/terminumfrage") == [
        "Hier läuft gerade keine Terminumfrage.\n" + NEW
    ]
    await bot.dm("ben").say("ben", "/join ag1")
    [listed] = await ag2.group.say("ben", "/terminumfrage")
    assert listed.split("\n")[:2] == [
        "Offene Terminumfragen hier:",
        f"• {sid}: Plenum im Januar (AG {AG}) – ❔ noch nicht beantwortet",
    ]
    [mine] = await ag2.ben.say("ben", "/terminumfrage")
    assert "Geheim" in mine and "Plenum im Januar" in mine
