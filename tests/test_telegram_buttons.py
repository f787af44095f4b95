"""Answer buttons on Telegram (inline keyboards and callback queries), through
python-telegram-bot's own Application against the fake Bot API.

The presser's app shows a spinner until the bot answers the query, so every press must be
answered, promptly, whatever its handler does; and PTB, which takes one update after the
other, must never wait for a handler.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from bot.context import Context, UserError
from bot.core import Button, ButtonPress, ChatRef, SentRef, UserRef
from bot.rich import bold, text
from tests.support.telegram_api import BotApi, Json, callback_query, group, message, update, user
from tests.support.telegram_transport import RecordingInbox, Running, running, running_app

ANNA = user(222, "Anna", last_name="Berg", username="anna_b")
GROUP = group(-4001, "AG 2 Transparenz")
CHAT = ChatRef("telegram", str(GROUP["id"]), title="AG 2 Transparenz")
RSVP = (
    Button("Ich komme", "rsvp:m12:yes", emoji="👍"),
    Button("Vielleicht", "rsvp:m12:maybe"),
    Button("Nein", "rsvp:m12:no", emoji="👎"),
)


def too_old() -> Json:
    return {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: query is too old and response timeout expired or query "
        "ID is invalid",
    }


@pytest.fixture
def inbox() -> RecordingInbox:
    return RecordingInbox()


@pytest.fixture
async def tg(inbox: RecordingInbox) -> AsyncIterator[Running]:
    api = BotApi()
    api.remember(GROUP)
    async with running(inbox, api, press_answer_seconds=0.3) as started:
        yield started


async def press(tg: Running, data: str, presser: Json = ANNA) -> Json:
    """Press a button under the bot's last message in the group; returns the query."""
    query = callback_query(tg.api.last_sent(GROUP["id"]), presser, data)
    await tg.feed(update(query, "callback_query"))
    return query


# --- sending -----------------------------------------------------------------------------


async def test_buttons_as_sent(tg: Running) -> None:
    ref = await tg.transport.send_with_buttons(
        CHAT, text("Treffen ") + bold("Donnerstag"), RSVP, key="rsvp:m12"
    )
    [sent] = tg.api.delivered(GROUP["id"])
    assert sent["text"] == "Treffen <b>Donnerstag</b>"
    assert sent["parse_mode"] == "HTML"
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Ich komme", "callback_data": "rsvp:m12:yes"},
                {"text": "Vielleicht", "callback_data": "rsvp:m12:maybe"},
                {"text": "Nein", "callback_data": "rsvp:m12:no"},
            ]
        ]
    }
    assert ref.message_id == str(tg.api.last_sent(GROUP["id"])["message_id"])
    again = await tg.transport.send_with_buttons(CHAT, text("Treffen"), RSVP, key="rsvp:m12")
    assert again == ref
    assert len(tg.api.delivered()) == 1


async def test_many_buttons_wrap_into_rows_of_eight(tg: Running) -> None:
    buttons = tuple(Button(str(n), f"pick:{n}") for n in range(10))
    await tg.transport.send_with_buttons(CHAT, text("Wähle"), buttons)
    rows = tg.api.delivered()[0]["reply_markup"]["inline_keyboard"]
    assert [len(row) for row in rows] == [8, 2]


@pytest.mark.parametrize("data", ["", "rsvp:" + "ä" * 30], ids=["empty", "65-bytes"])
async def test_button_data_telegram_would_refuse(tg: Running, data: str) -> None:
    """Telegram allows 1-64 bytes; "ä" takes two."""
    with pytest.raises(ValueError, match="1-64 bytes"):
        await tg.transport.send_with_buttons(CHAT, text("Frage"), (Button("Ja", data),))
    assert tg.api.delivered() == []


async def test_buttons_for_a_gone_chat_are_skipped(tg: Running) -> None:
    tg.api.script(
        "sendMessage",
        403,
        {
            "ok": False,
            "error_code": 403,
            "description": "Forbidden: bot was kicked from the group chat",
        },
    )
    assert await tg.transport.send_with_buttons(CHAT, text("Frage"), RSVP) == SentRef(CHAT, None)


# --- presses -----------------------------------------------------------------------------


async def test_a_press_reaches_the_inbox_and_is_answered_with_its_toast(
    tg: Running, inbox: RecordingInbox
) -> None:
    await tg.transport.send_with_buttons(CHAT, text("Treffen"), RSVP)
    query = await press(tg, "rsvp:m12:yes")

    [answer] = await tg.api.wait_called("answerCallbackQuery")
    assert answer.params == {"callback_query_id": query["id"], "text": "Danke!"}
    assert inbox.presses == [
        ButtonPress(
            CHAT,
            UserRef("telegram", "222", "Anna Berg", "anna_b", "de"),
            "rsvp:m12:yes",
            press_id=query["id"],
        )
    ]


async def test_a_press_in_a_private_chat(tg: Running, inbox: RecordingInbox) -> None:
    private = ChatRef("telegram", "222", is_direct=True, title="Anna Berg")
    await tg.transport.send_with_buttons(private, text("Erinnerung"), RSVP)
    query = callback_query(tg.api.last_sent(222), ANNA, "rsvp:m12:no")
    await tg.feed(update(query, "callback_query"))
    await tg.api.wait_called("answerCallbackQuery")
    [pressed] = inbox.presses
    assert pressed.chat.is_direct
    assert pressed.chat.id == "222"


async def test_a_failing_handler_still_gets_the_query_answered(
    tg: Running, inbox: RecordingInbox, caplog: pytest.LogCaptureFixture
) -> None:
    inbox.press_error = RuntimeError("boom")
    await tg.transport.send_with_buttons(CHAT, text("Treffen"), RSVP)
    with caplog.at_level(logging.ERROR, "bot.transports"):
        query = await press(tg, "rsvp:m12:yes")
        [answer] = await tg.api.wait_called("answerCallbackQuery")
    assert answer.params == {"callback_query_id": query["id"]}
    assert "button press failed: RuntimeError" in caplog.text


async def test_a_slow_handler_blocks_neither_the_answer_nor_other_updates(
    tg: Running, inbox: RecordingInbox
) -> None:
    inbox.press_gate = asyncio.Event()
    await tg.transport.send_with_buttons(CHAT, text("Treffen"), RSVP)
    began = time.monotonic()
    # PTB is done with the press at once, and goes on with the next update while the
    # handler waits.
    async with asyncio.timeout(2):
        query = await press(tg, "rsvp:m12:yes")
        await tg.feed(update(message(GROUP, ANNA, "/my")))
    assert [m.text for m in inbox.messages] == ["my"]
    assert not tg.api.calls_to("answerCallbackQuery"), "PTB waited for the handler"

    # Answered without a toast once the answer time is up; the spinner stops.
    [answer] = await tg.api.wait_called("answerCallbackQuery")
    assert answer.params == {"callback_query_id": query["id"]}
    assert 0.25 <= time.monotonic() - began < 3
    inbox.press_gate.set()
    await asyncio.sleep(0)


async def test_an_expired_query_is_logged_not_raised(
    tg: Running, caplog: pytest.LogCaptureFixture
) -> None:
    await tg.transport.send_with_buttons(CHAT, text("Treffen"), RSVP)
    tg.api.script("answerCallbackQuery", 400, too_old())
    with caplog.at_level(logging.WARNING, "bot.transports"):
        await press(tg, "rsvp:m12:yes")
        [answer] = await tg.api.wait_called("answerCallbackQuery")
        await asyncio.sleep(0.01)
    assert answer.status == 400
    assert "could not answer a button press" in caplog.text


# --- the whole bot -----------------------------------------------------------------------


async def test_a_press_reaches_the_registered_button_handler(sqlite_url: str) -> None:
    api = BotApi()
    api.remember(GROUP)
    seen: list[tuple[str, str]] = []

    async def on_test(ctx: Context, data: str) -> str | None:
        seen.append((ctx.sender.display_name, data))
        if data.endswith(":no"):
            raise UserError(text("Das geht so nicht."))
        return "Gespeichert."

    async with running_app(sqlite_url, api) as bot:
        bot.app.services.registry.buttons["test"] = on_test
        buttons = (Button("Ja", "test:1:yes"), Button("Nein", "test:1:no"))
        await bot.transport.send_with_buttons(CHAT, text("Test"), buttons)
        sent = api.last_sent(GROUP["id"])
        await bot.served(update(callback_query(sent, ANNA, "test:1:yes"), "callback_query"))
        await api.wait_called("answerCallbackQuery")
        await bot.served(update(callback_query(sent, ANNA, "test:1:no"), "callback_query"))
        answers = await api.wait_called("answerCallbackQuery", 2)

    assert seen == [("Anna Berg", "test:1:yes"), ("Anna Berg", "test:1:no")]
    assert [a.params.get("text") for a in answers] == ["Gespeichert.", "Das geht so nicht."]
    assert "callback_query" in api.calls_to("getUpdates")[0].params["allowed_updates"]
