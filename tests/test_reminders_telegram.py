"""Meetings on Telegram, through python-telegram-bot against the fake Bot API: the
announcement and the reminder as sent (HTML, inline keyboard), and a press on the
reminder's button answered with its toast and counted in the next reminder."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from handlers.reminders.engine import engine
from storage.meetings.models import Reminder
from tests.support.meetings import Clock
from tests.support.telegram_api import BotApi, callback_query, group, message, update, user
from tests.support.telegram_transport import running_app

ADMIN = user(111, "Anna", last_name="Admin", username="anna_a")  # telegram:111 is admin
BEN = user(333, "Ben", last_name="Berg", username="ben_b")
GROUP = group(-4002, "AG 2 Transparenz")
KEYBOARD = {
    "inline_keyboard": [
        [
            {"text": "✅ Ich komme", "callback_data": "rsvp:1:yes"},
            {"text": "❌ Ich kann nicht", "callback_data": "rsvp:1:no"},
            {"text": "❓ Vielleicht", "callback_data": "rsvp:1:maybe"},
        ]
    ]
}


async def test_reminder_and_rsvp_buttons_on_telegram(sqlite_url: str) -> None:
    api = BotApi()
    api.remember(GROUP)
    async with running_app(sqlite_url, api) as bot:
        clock = Clock()
        bot.app.services.clock = clock
        await bot.served(update(message(GROUP, ADMIN, "/link ag2")))
        await bot.served(
            update(
                message(GROUP, ADMIN, "/meeting 03.12.2026 18:00 Plenum https://meet.example/ag2")
            )
        )
        announced = api.delivered(GROUP["id"])[-1]
        assert announced["text"].startswith(
            "📅 Neues Treffen der AG Transparenz und Beteiligung: <b>Plenum</b>\n"
            "Donnerstag, 3. Dezember 2026, 18:00 Uhr\n"
            '🔗 <a href="https://meet.example/ag2">https://meet.example/ag2</a>\n'
            "Kennung: <code>m1</code>"
        )
        assert announced["reply_markup"] == KEYBOARD

        clock.set(datetime(2026, 12, 2, 17, 0, tzinfo=UTC))  # one day before
        async with bot.app.services.db.read() as session:
            first = await session.scalar(select(Reminder.id).order_by(Reminder.due_at))
        assert first is not None
        await engine(bot.app.services).fire(first)
        reminded = api.delivered(GROUP["id"])[-1]
        assert reminded["text"] == (
            "⏰ Erinnerung: <b>Plenum</b> – AG Transparenz und Beteiligung\n"
            "Donnerstag, 3. Dezember 2026, 18:00 Uhr (noch 1 Tag)\n"
            '🔗 <a href="https://meet.example/ag2">https://meet.example/ag2</a>\n'
            "Noch hat niemand zugesagt.\n"
            "❓ Vielleicht (0) · ❌ Nicht dabei (0)"
        )
        assert reminded["parse_mode"] == "HTML"
        assert reminded["reply_markup"] == KEYBOARD

        query = callback_query(api.last_sent(GROUP["id"]), BEN, "rsvp:1:yes")
        await bot.served(update(query, "callback_query"))
        [answer] = await api.wait_called("answerCallbackQuery")
        assert answer.params == {
            "callback_query_id": query["id"],
            "text": "✅ Eingetragen: Du kommst zu „Plenum“ (Do 03.12. 18:00).",
        }

        clock.set(datetime(2026, 12, 3, 16, 0, tzinfo=UTC))  # one hour before
        async with bot.app.services.db.read() as session:
            second = await session.scalar(select(Reminder.id).where(Reminder.status == "pending"))
        assert second is not None
        await engine(bot.app.services).fire(second)
        assert "✅ Dabei (1): <b>Ben Berg</b>" in api.delivered(GROUP["id"])[-1]["text"]
