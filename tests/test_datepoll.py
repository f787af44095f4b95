"""Terminumfragen (issue 15): a lead proposes dates, members answer ja / wenn nötig / nein
by text, the summary puts the best date first; it survives a restart with its answers.
The pick into a meeting: tests/test_datepoll_pick.py; bad input: tests/test_datepoll_input.py."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead

AG = "Transparenz und Beteiligung"
DATES = "Di 1.12. 19 Uhr; Mi 2.12. 18:30; Do 3.12. 19-21 Uhr"  # the clock: Sat 28.11.2026


async def start(ag2: Ag2, extra: str = "") -> str:
    """Anna starts the Terminumfrage; its id."""
    replies = await ag2.anna.say("anna", f'/terminumfrage ag2 "Plenum im Januar" {DATES}{extra}')
    head = replies[0].split("\n")[0]
    assert head.startswith("📅 Terminumfrage "), replies
    return head.split()[2].rstrip(":")


def summary(sid: str, rows: list[str], last: str, *, place: bool = False) -> str:
    return "\n".join(
        [
            f"📅 Terminumfrage {sid}: Plenum im Januar (AG {AG})",
            *(["Ort: Haus der Vereine"] if place else []),
            *rows,
            last,
            f"Antworten: /termin {sid} 1 ja 2 nein 3 wenn nötig",
        ]
    )


EMPTY = [
    "1. Di 01.12. 19:00–20:00 – ja 0 · wenn nötig 0 · nein 0 · offen 2",
    "2. Mi 02.12. 18:30–19:30 – ja 0 · wenn nötig 0 · nein 0 · offen 2",
    "3. Do 03.12. 19:00–21:00 – ja 0 · wenn nötig 0 · nein 0 · offen 2",
]


async def test_a_lead_starts_one_and_the_ags_chats_get_the_summary(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    replies = await ag2.anna.say(
        "anna", f'/terminumfrage ag2 "Plenum im Januar" {DATES} --ort Haus der Vereine'
    )
    sid = replies[0].split()[2].rstrip(":")
    posted = summary(sid, EMPTY, "Noch keine Antwort: @anna, @ben", place=True)
    in_group = posted + "\nOder tippe unten je Termin: ✅ ja · ❔ wenn nötig · ❌ nein."
    assert replies == [
        posted + f"\nFestlegen, wenn die Antworten da sind: /festlegen {sid} <Nummer>",
        in_group,  # the AG's group, with answer buttons (tests/test_datepoll_live.py)
    ]
    assert ag2.in_group()[-1] == in_group
    # The English alias, in English.
    await ag2.anna.say("anna", "/lang en")
    [english, _] = await ag2.anna.say("anna", f'/datepoll ag2 "Plenum" {DATES}')
    other = english.split()[3].rstrip(":")
    assert english.split("\n")[0] == f"📅 Date poll {other}: Plenum (AG {AG})"
    assert english.split("\n")[1] == (
        "1. Tue 1 Dec 19:00–20:00 – yes 0 · if need be 0 · no 0 · open 2"
    )


async def test_answers_by_text_best_date_first_and_changeable(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    assert await ag2.ben.say("ben", f"/termin {sid} 1 ja 2 wenn nötig 3 nein") == [
        "Gespeichert. Deine Antworten zu Plenum im Januar:\n"
        "1. Di 01.12. 19:00–20:00: ja\n"
        "2. Mi 02.12. 18:30–19:30: wenn nötig\n"
        "3. Do 03.12. 19:00–21:00: nein\n"
        f"Ändern geht, bis der Termin festgelegt ist, z. B. /termin {sid} 1 nein"
    ]
    await ag2.anna.say("anna", f"/termin {sid} 3 vielleicht 1,2 nein")
    # Ben changes his mind about date 2; the group sees the summary on request.
    await ag2.ben.say("ben", f"/termin {sid} 2 ja")
    assert await ag2.group.say("ben", f"/termin {sid}") == [
        summary(
            sid,
            [
                "1. Di 01.12. 19:00–20:00 – ja 1 · wenn nötig 0 · nein 1 · offen 0",
                "2. Mi 02.12. 18:30–19:30 – ja 1 · wenn nötig 0 · nein 1 · offen 0",
                "3. Do 03.12. 19:00–21:00 – ja 0 · wenn nötig 1 · nein 1 · offen 0",
            ],
            "Alle Mitglieder haben geantwortet.",
        )
    ]
    # Most "ja + wenn nötig" breaks a tie of "ja": date 2 moves ahead of date 1.
    await ag2.anna.say("anna", f"/termin {sid} 2 ?")
    [shown] = await ag2.ben.say("ben", f"/termin {sid}")
    assert shown.split("\n")[1:4] == [
        "2. Mi 02.12. 18:30–19:30 – ja 1 · wenn nötig 1 · nein 0 · offen 0",
        "1. Di 01.12. 19:00–20:00 – ja 1 · wenn nötig 0 · nein 1 · offen 0",
        "3. Do 03.12. 19:00–21:00 – ja 0 · wenn nötig 1 · nein 1 · offen 0",
    ]


async def test_english_words_and_an_english_reply(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await ag2.ben.say("ben", "/lang en")
    assert await ag2.ben.say("ben", f"/termin {sid} all no 2 maybe 3 yes") == [
        "Saved. Your answers for Plenum im Januar:\n"
        "1. Tue 1 Dec 19:00–20:00: no\n"
        "2. Wed 2 Dec 18:30–19:30: if need be\n"
        "3. Thu 3 Dec 19:00–21:00: yes\n"
        f"You can change them until the date is picked, e.g. /termin {sid} 1 no"
    ]


async def test_no_answers_after_the_deadline(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2, " --bis Montag 12 Uhr")
    [first] = await ag2.ben.say("ben", f"/termin {sid}")
    assert first.endswith("\nAntworten bis Mo 30.11. 12:00.")
    assert (await ag2.ben.say("ben", f"/termin {sid} 1 ja"))[0].startswith("Gespeichert.")
    ag2.clock.set(datetime(2026, 11, 30, 11, 0, tzinfo=UTC))  # 12:00 in Berlin
    assert await ag2.ben.say("ben", f"/termin {sid} 1 nein") == [
        f"Die Terminumfrage {sid} nimmt keine Antworten mehr an."
    ]


async def test_it_survives_a_restart_with_its_answers(bot: BotHarness, sqlite_url: str) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await ag2.ben.say("ben", f"/termin {sid} 1 ja 2 nein 3 wenn nötig")
    await bot.close()
    again = await BotHarness.create(sqlite_url)
    try:
        again.app.services.clock = ag2.clock
        assert await again.dm("anna").say("anna", f"/termin {sid}") == [
            summary(
                sid,
                [
                    "1. Di 01.12. 19:00–20:00 – ja 1 · wenn nötig 0 · nein 0 · offen 1",
                    "3. Do 03.12. 19:00–21:00 – ja 0 · wenn nötig 1 · nein 0 · offen 1",
                    "2. Mi 02.12. 18:30–19:30 – ja 0 · wenn nötig 0 · nein 1 · offen 1",
                ],
                "Noch keine Antwort: @anna",
            )
        ]
    finally:
        await again.close()


async def test_someone_who_left_the_ag_does_not_count(bot: BotHarness) -> None:
    """Ben said ja and left the AG: his ja no longer counts, and the pick does not put him
    down for the AG's meeting; back in the AG, his answers count again."""
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await ag2.ben.say("ben", f"/termin {sid} 1 ja 2 ja 3 nein")
    await ag2.ben.say("ben", "/leave ag2")
    [shown] = await ag2.anna.say("anna", f"/termin {sid}")
    assert shown.split("\n")[1] == (
        "1. Di 01.12. 19:00–20:00 – ja 0 · wenn nötig 0 · nein 0 · offen 1"
    )
    await ag2.ben.say("ben", "/join ag2")
    [shown] = await ag2.anna.say("anna", f"/termin {sid}")
    assert shown.split("\n")[1] == (
        "1. Di 01.12. 19:00–20:00 – ja 1 · wenn nötig 0 · nein 0 · offen 1"
    )
    await ag2.ben.say("ben", "/leave ag2")
    [picked, *_] = await ag2.anna.say("anna", f"/festlegen {sid} 1 ja")
    assert picked.split("\n")[1] == "Eingetragen: 0 als „Dabei“, 0 als „Vielleicht“."
