"""Telegram's half of keeping a message current: buttons in rows (`Button.row`) and
`edit` = editMessageText with the new keyboard, in a forum topic too; an edit that
changes nothing or whose message was deleted is no error; flood waits are waited out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.core import Button, ChatRef, SentRef
from bot.rich import bold, text
from tests.support.telegram_api import BotApi, group
from tests.support.telegram_transport import RecordingInbox, Running, running
from tests.support.telegram_updates import forum

GROUP = group(-4001, "AG 2 Transparenz")
CHAT = ChatRef("telegram", str(GROUP["id"]), title="AG 2 Transparenz")
FORUM = forum(-1009876543210, "Bündnis")
TOPIC = ChatRef("telegram", f"{FORUM['id']}/77", title="Bündnis / AG 2")


def grid(yes: int) -> tuple[Button, ...]:
    return (
        Button(f"1 ✅ {yes}", "dp:k3f7:1:y", row=0),
        Button("❔ 0", "dp:k3f7:1:m", row=0),
        Button("❌ 0", "dp:k3f7:1:n", row=0),
        Button("2 ✅ 0", "dp:k3f7:2:y", row=1),
        Button("❔ 1", "dp:k3f7:2:m", row=1),
        Button("❌ 0", "dp:k3f7:2:n", row=1),
    )


@pytest.fixture
async def tg() -> AsyncIterator[Running]:
    api = BotApi()
    api.remember(GROUP, FORUM)
    async with running(RecordingInbox(), api) as started:
        started.transport.send_retry_delays = (0.01, 0.01)
        yield started


async def test_buttons_stand_in_rows_by_their_row_number(tg: Running) -> None:
    shuffled = (*grid(1)[3:], *grid(1)[:3])  # row 1 given first: rows still rise
    await tg.transport.send_with_buttons(CHAT, text("Termine"), shuffled)
    assert tg.api.delivered()[0]["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "1 ✅ 1", "callback_data": "dp:k3f7:1:y"},
                {"text": "❔ 0", "callback_data": "dp:k3f7:1:m"},
                {"text": "❌ 0", "callback_data": "dp:k3f7:1:n"},
            ],
            [
                {"text": "2 ✅ 0", "callback_data": "dp:k3f7:2:y"},
                {"text": "❔ 1", "callback_data": "dp:k3f7:2:m"},
                {"text": "❌ 0", "callback_data": "dp:k3f7:2:n"},
            ],
        ]
    }


async def test_an_edit_changes_text_and_keyboard(tg: Running) -> None:
    assert tg.transport.capabilities.edits
    sent = await tg.transport.send_with_buttons(CHAT, text("ja 1"), grid(1))
    await tg.transport.edit(sent, text("ja ") + bold("2"), grid(2))
    [call] = tg.api.calls_to("editMessageText")
    assert call.status == 200
    assert call.params["chat_id"] == GROUP["id"]
    assert call.params["message_id"] == int(sent.message_id or 0)
    assert call.params["text"] == "ja <b>2</b>"
    assert call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "1 ✅ 2",
        "callback_data": "dp:k3f7:1:y",
    }
    assert tg.api.last_sent(GROUP["id"])["text"] == "ja 2"
    # Without buttons the keyboard goes (a closed poll).
    await tg.transport.edit(sent, text("vorbei"))
    assert "reply_markup" not in tg.api.calls_to("editMessageText")[1].params
    assert "reply_markup" not in tg.api.last_sent(GROUP["id"])


async def test_an_edit_in_a_forum_topic_names_the_group_and_message(tg: Running) -> None:
    sent = await tg.transport.send_with_buttons(TOPIC, text("ja 0"), grid(0))
    assert tg.api.delivered()[0]["message_thread_id"] == 77
    await tg.transport.edit(sent, text("ja 1"), grid(1))
    [call] = tg.api.calls_to("editMessageText")
    assert call.status == 200
    assert call.params["chat_id"] == FORUM["id"]
    assert "message_thread_id" not in call.params


async def test_unchanged_or_deleted_messages_are_no_error(
    tg: Running, caplog: pytest.LogCaptureFixture
) -> None:
    sent = await tg.transport.send_with_buttons(CHAT, text("ja 1"), grid(1))
    with caplog.at_level(logging.DEBUG, "bot.transports"):
        await tg.transport.edit(sent, text("ja 1"), grid(1))  # the same: Telegram refuses
        await tg.transport.edit(SentRef(CHAT, "999999"), text("ja 1"), grid(1))  # deleted
        await tg.transport.edit(SentRef(CHAT, None), text("ja 1"))  # never arrived: no call
    assert [c.status for c in tg.api.calls_to("editMessageText")] == [400, 400]
    assert "Message is not modified" in caplog.text
    assert "Message to edit not found" in caplog.text


async def test_a_gone_chat_is_logged_and_another_refusal_raised(tg: Running) -> None:
    sent = await tg.transport.send_with_buttons(CHAT, text("ja 1"), grid(1))
    tg.api.script(
        "editMessageText",
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was kicked"},
    )
    await tg.transport.edit(sent, text("ja 2"), grid(2))  # dropped, logged
    tg.api.script(
        "editMessageText",
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: can't parse entities"},
    )
    with pytest.raises(Exception, match="parse entities"):
        await tg.transport.edit(sent, text("ja 2"), grid(2))


async def test_a_flood_wait_is_waited_out(tg: Running) -> None:
    sent = await tg.transport.send_with_buttons(CHAT, text("ja 1"), grid(1))
    tg.api.script(
        "editMessageText",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    await tg.transport.edit(sent, text("ja 2"), grid(2))
    assert [c.status for c in tg.api.calls_to("editMessageText")] == [429, 200]
    assert tg.api.last_sent(GROUP["id"])["text"] == "ja 2"
