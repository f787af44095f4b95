"""The pick on Telegram, through python-telegram-bot's own Application: the group gets the
announcement and the `.ics` as a document (sendDocument), and a member with `/remind on`
gets both in the private chat."""

from __future__ import annotations

from tests.support.meetings import Clock
from tests.support.telegram_api import private_chat, user
from tests.support.telegram_bot import ADMIN, ANNA, GROUP, TelegramBot
from tests.test_datepoll import DATES

BEN = user(333, "Ben", username="ben_b")


async def test_the_pick_sends_the_ics_to_the_group_and_privately(tg: TelegramBot) -> None:
    tg.app.services.clock = Clock()
    await tg.say(GROUP, ADMIN, "/link ag2")
    for person in (ANNA, BEN):
        await tg.say(private_chat(person), person, "/join ag2")
    await tg.say(private_chat(BEN), BEN, "/remind on")
    await tg.say(GROUP, ADMIN, "/lead ag2 @anna_b")
    [started, *_] = await tg.say(private_chat(ANNA), ANNA, f'/terminumfrage ag2 "Plenum" {DATES}')
    sid = started.split()[2].rstrip(":").removeprefix("<b>").split("<")[0]
    await tg.say(private_chat(BEN), BEN, f"/termin {sid} 3 ja")
    replies = await tg.say(private_chat(ANNA), ANNA, f"/festlegen {sid} 3")
    assert replies[0].startswith(f"Festgelegt: Termin 3 der Terminumfrage <code>{sid}</code>")
    documents = {
        (call.params["chat_id"], call.files["document"].filename): call.files["document"]
        for call in tg.api.calls_to("sendDocument")
    }
    assert set(documents) == {
        (GROUP["id"], "treffen-m1.ics"),
        (ANNA["id"], "treffen-m1.ics"),
        (BEN["id"], "treffen-m1.ics"),
    }
    assert documents[(BEN["id"], "treffen-m1.ics")].mime == "text/calendar"
    assert (
        b"DTSTART;TZID=Europe/Berlin:20261203T190000"
        in documents[(BEN["id"], "treffen-m1.ics")].data
    )
    private = tg.api.texts(BEN["id"])
    assert private[-1].startswith("Der Termin steht fest:\n📅 Neues Treffen der AG")
