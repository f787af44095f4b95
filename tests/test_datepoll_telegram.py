"""A Terminumfrage on Telegram, through python-telegram-bot against the fake Bot API: the
summary's inline keyboard (a row per date), a press answered with the presser's own
answers as toast, and the summary edited (editMessageText with the new counts) at once,
then at most once per interval."""

from __future__ import annotations

import asyncio

from handlers.datepoll.live import EDIT_EVERY
from tests.support.meetings import Clock
from tests.support.telegram_api import (
    ApiCall,
    BotApi,
    callback_query,
    group,
    message,
    private_chat,
    update,
    user,
)
from tests.support.telegram_transport import WholeBot, running_app

ADMIN = user(111, "Anna", last_name="Admin", username="anna_a")  # telegram:111 is admin
BEN = user(333, "Ben", last_name="Berg", username="ben_b")
CARL = user(444, "Carl", username="carl_c")
GROUP = group(-4003, "AG 2 Transparenz")
DATES = "Di 1.12. 19 Uhr; Mi 2.12. 18:30"  # the clock: Sat 28.11.2026


def row(number: int, sid: str, yes: int, maybe: int, no: int) -> list[dict[str, str]]:
    return [
        {"text": f"{number} ✅ {yes}", "callback_data": f"dp:{sid}:{number}:y"},
        {"text": f"❔ {maybe}", "callback_data": f"dp:{sid}:{number}:m"},
        {"text": f"❌ {no}", "callback_data": f"dp:{sid}:{number}:n"},
    ]


async def press(
    bot: WholeBot, summary: dict[str, object], who: dict[str, object], data: str
) -> ApiCall:
    before = len(bot.api.calls_to("answerCallbackQuery"))
    await bot.served(update(callback_query(summary, who, data), "callback_query"))
    return (await bot.api.wait_called("answerCallbackQuery", before + 1))[-1]


async def test_answering_by_keyboard_and_the_summary_kept_current(sqlite_url: str) -> None:
    api = BotApi()
    api.remember(GROUP)
    async with running_app(sqlite_url, api) as bot:
        clock = Clock()
        bot.app.services.clock = clock
        await bot.served(update(message(GROUP, ADMIN, "/link ag2")))
        for person in (ADMIN, BEN):
            await bot.served(update(message(private_chat(person), person, "/join ag2")))
        await bot.served(update(message(GROUP, ADMIN, f'/terminumfrage ag2 "Plenum" {DATES}')))
        [posted, hint] = api.delivered(GROUP["id"])[-2:]
        sid = posted["text"].split()[2].rstrip(":")
        assert hint["text"].startswith("Festlegen, wenn die Antworten da sind:")
        assert posted["text"].endswith(
            "\nOder tippe unten je Termin: ✅ ja · ❔ wenn nötig · ❌ nein."
        )
        assert posted["reply_markup"] == {
            "inline_keyboard": [row(1, sid, 0, 0, 0), row(2, sid, 0, 0, 0)]
        }
        [summary] = [
            m
            for (chat_id, _), m in api.messages.items()
            if chat_id == GROUP["id"] and "reply_markup" in m
        ]

        answer = await press(bot, summary, BEN, f"dp:{sid}:2:m")
        assert answer.params["text"] == "Gespeichert: 1 – · 2 wenn nötig"
        [edit] = await api.wait_called("editMessageText")  # at once, beside the toast
        assert edit.params["chat_id"] == GROUP["id"]
        assert edit.params["message_id"] == summary["message_id"]
        assert edit.params["text"].split("\n")[1] == (
            "2. <b>Mi 02.12. 18:30–19:30</b> – ja 0 · wenn nötig 1 · nein 0 · offen 1"
        )
        assert edit.params["reply_markup"] == {
            "inline_keyboard": [row(1, sid, 0, 0, 0), row(2, sid, 0, 1, 0)]
        }

        # Within the interval: no edit yet, but the answers are taken.
        answer = await press(bot, summary, ADMIN, f"dp:{sid}:1:y")
        assert answer.params["text"] == "Gespeichert: 1 ja · 2 –"
        answer = await press(bot, summary, CARL, f"dp:{sid}:1:y")  # no member
        assert answer.params["text"].startswith("Antworten dürfen nur Mitglieder der AG")
        await asyncio.sleep(0.2)
        assert len(api.calls_to("editMessageText")) == 1

        clock.advance(EDIT_EVERY.total_seconds())  # the interval ends: one edit with it all
        edits = await api.wait_called("editMessageText", 2)
        assert edits[1].params["reply_markup"] == {
            "inline_keyboard": [row(1, sid, 1, 0, 0), row(2, sid, 0, 1, 0)]
        }
        assert api.messages[(GROUP["id"], summary["message_id"])]["text"].split("\n")[1] == (
            "1. Di 01.12. 19:00–20:00 – ja 1 · wenn nötig 0 · nein 0 · offen 1"
        )
