"""Receiving through python-telegram-bot: which messages reach the bot as commands, and
who wrote them (tests/support/telegram_bot.py runs the whole bot against a fake Bot API)."""

from __future__ import annotations

import time

import pytest

from bot.core import ChatRef
from bot.rich import text
from tests.support.telegram_api import (
    ANONYMOUS_ADMIN_BOT,
    Json,
    message,
    private_chat,
    service_message,
    text_mention,
    update,
    user,
)
from tests.support.telegram_bot import (
    ADMIN,
    ALLOWED,
    ANNA,
    GROUP,
    SUPERGROUP,
    TelegramBot,
)

# --- receiving ---------------------------------------------------------------------------


async def test_private_start_through_real_polling(tg: TelegramBot) -> None:
    await tg.poll(update(message(private_chat(ANNA), ANNA, "/start")))

    [sent] = tg.api.delivered()
    assert sent["chat_id"] == 222
    assert sent["parse_mode"] == "HTML"
    assert sent["link_preview_options"] == {"is_disabled": True}
    assert sent["text"].startswith("Hallo Anna Berg! Ich bin der Bündnisbot")
    assert "<code>/join ag2</code>" in sent["text"]
    assert tg.api.calls_to("deleteWebhook"), "polling starts by removing any webhook"
    polls = tg.api.calls_to("getUpdates")
    assert len(polls) >= 2, "the update was fetched, then confirmed by the next offset"
    assert all(call.params["allowed_updates"] == ALLOWED for call in polls)
    assert all(call.params["timeout"] == 10 for call in polls)


async def test_start_link_payload_greets(tg: TelegramBot) -> None:
    """The t.me/<bot>?start=hello link sends `/start hello`: a greeting, no usage error."""
    [reply] = await tg.say(private_chat(ANNA), ANNA, "/start hello")
    assert reply.startswith("Hallo Anna Berg!")


async def test_group_command_addressed_to_this_bot(tg: TelegramBot) -> None:
    replies = await tg.say(GROUP, ANNA, "/join@Buendnis_Test_BOT ag2")
    assert len(replies) == 1
    assert tg.api.delivered()[0]["chat_id"] == GROUP["id"]
    assert "Willkommen in der AG <b>Transparenz und Beteiligung</b>" in replies[0]


async def test_command_for_another_bot_is_ignored(tg: TelegramBot) -> None:
    assert await tg.say(GROUP, ANNA, "/join@OtherBot ag2") == []
    assert await tg.reachable(222) is None, "no account was created"


@pytest.mark.parametrize("spelling", ["ag2", "AG 2", "2", "transparenz"])
async def test_join_spellings(tg: TelegramBot, spelling: str) -> None:
    chat = private_chat(ANNA)
    [joined] = await tg.say(chat, ANNA, f"/join {spelling}")
    assert "Willkommen in der AG <b>Transparenz und Beteiligung</b>" in joined
    [mine] = await tg.say(chat, ANNA, "/my")
    assert "Transparenz und Beteiligung" in mine
    assert "<code>ag2</code>" in mine


async def test_edited_message_is_ignored(tg: TelegramBot) -> None:
    """A corrected command is not run a second time."""
    await tg.feed(update(message(private_chat(ANNA), ANNA, "/join ag2"), "edited_message"))
    assert tg.api.delivered() == []


async def test_message_from_a_bot_is_ignored(tg: TelegramBot) -> None:
    other_bot = user(333, "Helper", username="helper_bot", is_bot=True)
    assert await tg.say(GROUP, other_bot, "/join ag2") == []


async def test_text_mention_names_a_person_without_username(tg: TelegramBot) -> None:
    eve = user(555, "Eve", language_code=None)
    await tg.say(private_chat(eve), eve, "/join ag2")
    words = "/lead ag2 Eve"
    [reply] = await tg.say(GROUP, ADMIN, words, entities=[text_mention(words, "Eve", eve)])
    assert reply.startswith('<a href="tg://user?id=555">Eve</a> leitet jetzt die AG')


async def test_html_in_names_is_escaped(tg: TelegramBot) -> None:
    eve = user(556, "<b>Eve</b>", last_name="& co", username="evil_eve")
    chat = private_chat(eve)
    [greeting] = await tg.say(chat, eve, "/start")
    assert greeting.startswith("Hallo &lt;b&gt;Eve&lt;/b&gt; &amp; co!")
    await tg.say(chat, eve, "/join ag2")
    [listing] = await tg.say(chat, eve, "/members ag2")
    assert "• <b>&lt;b&gt;Eve&lt;/b&gt; &amp; co</b> – Mitglied" in listing
    [named] = await tg.say(GROUP, ADMIN, "/lead ag2 @evil_eve")
    assert named.startswith(
        '<a href="tg://user?id=556">&lt;b&gt;Eve&lt;/b&gt; &amp; co</a> leitet jetzt'
    )
    assert "<b>Eve</b>" not in greeting + listing + named


CHANNEL = {"id": -1009876543210, "type": "channel", "title": "Bündnis-Kanal"}
CHANNEL_BOT = user(136817688, "Channel", username="Channel_Bot", is_bot=True, language_code=None)


@pytest.mark.parametrize(
    ("sender", "sender_chat"),
    [(ANONYMOUS_ADMIN_BOT, GROUP), (CHANNEL_BOT, CHANNEL)],
    ids=["anonymous-admin", "as-channel"],
)
async def test_writing_as_a_chat_gets_a_clear_answer(
    tg: TelegramBot, sender: Json, sender_chat: Json
) -> None:
    """Telegram puts a service bot into `from`; the sender is the chat, not a person."""
    [reply] = await tg.say(GROUP, sender, "/join ag2", sender_chat=sender_chat)
    assert "anonym" in reply
    assert await tg.reachable(sender["id"]) is None
    assert await tg.reachable(sender_chat["id"]) is None


async def test_forwarded_command_is_ignored(tg: TelegramBot) -> None:
    origin = {"type": "user", "date": int(time.time()) - 60, "sender_user": ANNA}
    assert await tg.say(GROUP, ADMIN, "/link ag2", forward_origin=origin) == []


async def test_group_becoming_a_supergroup_keeps_its_ag(tg: TelegramBot) -> None:
    [linked] = await tg.say(GROUP, ADMIN, "/link ag2")
    assert "gehört jetzt zur AG" in linked
    await tg.say(GROUP, ANNA, "/join")  # the chat's AG
    assert await tg.linked(GROUP["id"]) == ["ag2"]

    await tg.feed(update(service_message(GROUP, ADMIN, migrate_to_chat_id=SUPERGROUP["id"])))
    await tg.feed(update(service_message(SUPERGROUP, ADMIN, migrate_from_chat_id=GROUP["id"])))
    assert await tg.linked(GROUP["id"]) == []
    assert await tg.linked(SUPERGROUP["id"]) == ["ag2"]

    # The member list goes to Anna privately; the supergroup is told so.
    [members, notice] = await tg.say(SUPERGROUP, ANNA, "/members")
    assert "Mitglied in Transparenz und Beteiligung" in members
    assert "Anna Berg" in members
    assert tg.api.delivered()[-2]["chat_id"] == ANNA["id"]
    assert notice == "Ich habe es dir privat geschickt."
    assert tg.api.delivered()[-1]["chat_id"] == SUPERGROUP["id"]


async def test_send_follows_a_migrated_chat(tg: TelegramBot) -> None:
    await tg.say(GROUP, ADMIN, "/link ag2")
    tg.api.script(
        "sendMessage",
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": SUPERGROUP["id"]},
        },
    )
    ref = await tg.transport.send(ChatRef("telegram", str(GROUP["id"])), text("Erinnerung"))
    assert ref.chat.id == str(SUPERGROUP["id"])
    assert ref.message_id is not None
    assert tg.api.texts(SUPERGROUP["id"]) == ["Erinnerung"]
    assert await tg.linked(SUPERGROUP["id"]) == ["ag2"]
