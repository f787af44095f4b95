"""`/festlegen` (`/pick`): the lead picks a date of a Terminumfrage; it becomes a meeting of
the AG with the AG's reminder offsets, ja / wenn nötig become RSVPs, the chats are told;
a date nobody wanted is asked back first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.datepoll import polls
from storage.datepoll.models import Answer
from storage.meetings.models import Rsvp
from tests.support.fake import BotHarness
from tests.support.meetings import START, Ag2, ag2_with_lead, occurrences, reminders
from tests.test_datepoll import start

AG = "Transparenz und Beteiligung"


async def rsvps(bot: BotHarness) -> dict[tuple[int, str], str]:
    """(occurrence, who) -> the stored RSVP."""
    async with bot.app.services.db.read() as session:
        rows = (
            await session.execute(select(Rsvp.occurrence_id, Rsvp.person_id, Rsvp.answer))
        ).all()
    names: dict[int, str] = {}
    async with bot.app.services.db.read() as session:
        for who in ("anna", "ben"):
            account = await repo.find_account(session, "fake", who)
            assert account is not None
            names[account.person_id] = who
    return {(occ, names[person]): answer for occ, person, answer in rows}


async def test_the_pick_becomes_a_meeting_with_rsvps_and_reminders(bot: BotHarness) -> None:
    ag2: Ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await ag2.ben.say("ben", f"/termin {sid} 1 nein 2 wenn nötig 3 ja")
    await ag2.anna.say("anna", f"/termin {sid} 2 ja 3 ja")
    announced = (
        f"📅 Neues Treffen der AG {AG}: Plenum im Januar\n"
        "Donnerstag, 3. Dezember 2026, 19:00–21:00 Uhr\n"
        "Kennung: m1"
    )
    assert await ag2.anna.say("anna", f"/festlegen {sid} 3") == [
        f"Festgelegt: Termin 3 der Terminumfrage {sid}, "
        "Donnerstag, 3. Dezember 2026, 19:00–21:00 Uhr.\n"
        "Eingetragen: 2 als „Dabei“, 0 als „Vielleicht“.\n"
        + announced
        + "\nErinnerungen: 1 Tag und 1 Stunde vorher.",
        announced,  # the AG's group
    ]
    assert ag2.in_group()[-1] == announced
    assert await rsvps(bot) == {(1, "anna"): "yes", (1, "ben"): "yes"}
    # The AG's reminder offsets apply: a day and an hour before.
    due = sorted(r.due_at for r in await reminders(bot))
    assert due == [
        datetime(2026, 12, 2, 18, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 17, 0, tzinfo=UTC),
    ]
    # Decided: no more answers, no second pick; the summary marks the date.
    decided = f"Die Terminumfrage {sid} ist schon entschieden: m1."
    assert await ag2.ben.say("ben", f"/termin {sid} 3 nein") == [decided]
    assert await ag2.anna.say("anna", f"/pick {sid} 2") == [decided]
    [shown] = await ag2.ben.say("ben", f"/termin {sid}")
    assert shown.split("\n")[1] == (
        "✅ 3. Do 03.12. 19:00–21:00 – ja 2 · wenn nötig 0 · nein 0 · offen 0"
    )
    assert "Antworten:" not in shown


async def test_maybe_becomes_vielleicht(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await ag2.ben.say("ben", f"/termin {sid} 2 vielleicht")
    await ag2.anna.say("anna", f"/termin {sid} 2 ja")
    replies = await ag2.anna.say("anna", f"/pick {sid} 2")
    assert replies[0].split("\n")[1] == "Eingetragen: 1 als „Dabei“, 1 als „Vielleicht“."
    assert await rsvps(bot) == {(1, "anna"): "yes", (1, "ben"): "maybe"}


async def test_a_date_nobody_wanted_is_asked_back_first(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await ag2.ben.say("ben", f"/termin {sid} 1 nein")
    assert await ag2.anna.say("anna", f"/festlegen {sid} 1") == [
        "Zu Termin 1 hat niemand ja oder wenn nötig gesagt. Trotzdem festlegen?\n"
        f"Dann schreib /festlegen {sid} 1 ja."
    ]
    assert await reminders(bot) == []  # nothing planned yet
    replies = await ag2.anna.say("anna", f"/festlegen {sid} 1 ja")
    assert replies[0].startswith(f"Festgelegt: Termin 1 der Terminumfrage {sid}, ")
    assert await rsvps(bot) == {}


async def test_only_a_lead_picks_and_only_an_existing_future_date(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    assert await ag2.ben.say("ben", f"/festlegen {sid} 1") == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]
    assert await ag2.anna.say("anna", f"/festlegen {sid} 4") == [
        f"Welcher Termin? Eine Nummer von 1 bis 3, z. B. /festlegen {sid} 1."
    ]
    ag2.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))  # 19:30 on date 1
    assert await ag2.anna.say("anna", f"/festlegen {sid} 1 ja") == [
        "Termin 1 hat schon begonnen oder ist vorbei."
    ]


async def test_two_leads_picking_at_once_plan_one_meeting(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await ag2.ben.say("ben", f"/termin {sid} 1 ja 2 ja")
    await bot.dm("admin").say("admin", "/lead ag2 @ben", mentions=("ben",))
    first, second = await asyncio.gather(
        ag2.anna.say("anna", f"/festlegen {sid} 1"), ag2.ben.say("ben", f"/festlegen {sid} 2")
    )
    assert len(await occurrences(bot)) == 1
    replies = set(first + second)  # each call sees what both caused
    assert sum(r.startswith("Festgelegt:") for r in replies) == 1
    assert replies & {
        f"Die Terminumfrage {sid} ist gerade entschieden worden.",
        f"Die Terminumfrage {sid} ist schon entschieden: m1.",
    }


async def test_an_answer_given_while_the_lead_picks_is_put_down(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben presses ja after `/festlegen` read the answers and before it closed the poll:
    he is put down as "Dabei" (the answers are read again once the poll is closed)."""
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await ag2.anna.say("anna", f"/termin {sid} 1 ja")
    real = polls.claim

    async def ben_answers_first(session: AsyncSession, poll_id: int, position: int) -> bool:
        async with bot.app.services.db.read() as read:
            ben = await repo.find_account(read, "fake", "ben")
        assert ben is not None
        answer = {0: Answer.YES}
        await polls.set_answers(session, poll_id, ben.person_id, "fake", answer, START)
        return await real(session, poll_id, position)

    monkeypatch.setattr(polls, "claim", ben_answers_first)
    [picked, *_] = await ag2.anna.say("anna", f"/festlegen {sid} 1")
    assert picked.split("\n")[1] == "Eingetragen: 2 als „Dabei“, 0 als „Vielleicht“."
    assert await rsvps(bot) == {(1, "anna"): "yes", (1, "ben"): "yes"}
