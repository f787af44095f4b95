"""Welcome: someone entering a chat linked to an AG is greeted once, pointed to /join,
/card and /survey run; `/welcome an|aus` per chat (leads of a linked AG and admins);
without it, small chats are greeted in and big ones (or of unknown size) are not.

Handler level with the fake transport, then Telegram (a `new_chat_members` service
message through PTB's Application) and Matrix (a real Synapse).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.core import MemberJoined
from handlers.welcome.service import BIG_CHAT, welcome_by_default
from storage.welcome import WelcomeSeen
from tests.support.fake import BotHarness, Chat
from tests.support.matrix_bot import (
    ask,
    bot_settings,
    notices_from,
    register_bot,
    room_with_bot,
    running_bot,
    wait_joined,
)
from tests.support.poll_chat import setup_ag
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name
from tests.support.telegram_api import BOT_ID, BotApi, service_message, update, user
from tests.support.telegram_bot import ADMIN, ANNA, GROUP, TelegramBot, transport_for
from tests.support.telegram_bot import bot_settings as telegram_settings

GREETING = (
    "Willkommen, @neo! Das hier ist der Chat der AG Transparenz und Beteiligung (ag2). "
    "Mit /join ag2 wirst du Mitglied, mit /card legst du deine Visitenkarte an, und "
    "/survey run startet die kurze Umfrage zur Zusammenarbeit im Bündnis."
)
LEADS_ONLY = "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."


async def enters(bot: BotHarness, chat: Chat, who: str, members: int | None = 5) -> list[str]:
    """`who` enters the chat; the texts the bot sent because of it."""
    before = len(bot.transport.sent)
    await bot.app.dispatcher.member_joined(MemberJoined(chat.ref, bot.user(who), members))
    await bot.app.dispatcher.drain()
    return [s.text for s in bot.transport.sent[before:]]


async def greeted_rows(bot: BotHarness) -> list[str]:
    async with bot.app.services.db.read() as session:
        return list(await session.scalars(select(WelcomeSeen.who)))


# --- handler level -----------------------------------------------------------------------


async def test_someone_new_is_greeted_once_in_a_linked_chat(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    assert await enters(bot, group, "neo") == [GREETING]
    assert bot.transport.sent[-1].chat == group.ref
    assert await enters(bot, group, "neo") == []  # left and came back: not again
    assert len(await enters(bot, group, "olga")) == 1
    # Stored as keyed hashes, nothing that names anyone.
    rows = await greeted_rows(bot)
    assert len(rows) == 2 and all(len(r) == 64 and "neo" not in r for r in rows)


async def test_no_greeting_outside_linked_chats(bot: BotHarness) -> None:
    await setup_ag(bot)
    assert await enters(bot, bot.group("plauderecke"), "neo") == []
    assert await enters(bot, bot.dm("neo"), "neo") == []
    # An archived AG's chat stays quiet too.
    group = bot.group("ag3-gruppe")
    await group.say("admin", "/link ag3")
    await bot.dm("admin").say("admin", "/ag archive ag3")
    assert await enters(bot, group, "neo") == []
    assert await greeted_rows(bot) == []


async def test_big_chats_stay_quiet_unless_switched_on(bot: BotHarness) -> None:
    assert welcome_by_default(BIG_CHAT) and not welcome_by_default(BIG_CHAT + 1)
    assert not welcome_by_default(None)
    group = await setup_ag(bot)
    assert await enters(bot, group, "neo", members=BIG_CHAT + 1) == []
    assert await enters(bot, group, "neo", members=None) == []
    [shown] = await group.say("anna", "/welcome")
    assert shown.startswith(f"Neue Leute begrüße ich hier, solange der Chat höchstens {BIG_CHAT}")
    assert await group.say("anna", "/welcome an") == ["Gut, ich begrüße neue Leute in diesem Chat."]
    assert await enters(bot, group, "neo", members=500) == [GREETING]


async def test_welcome_off_stops_the_greeting(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    assert await group.say("anna", "/welcome aus") == ["Gut, ich begrüße hier niemanden mehr."]
    assert await enters(bot, group, "neo", members=3) == []
    assert (await group.say("ben", "/welcome"))[0].startswith("Neue Leute begrüße ich hier nicht.")
    await group.say("admin", "/welcome on")
    assert await enters(bot, group, "neo", members=3) == [GREETING]


async def test_who_may_switch_the_welcome(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    assert await group.say("ben", "/welcome aus") == [LEADS_ONLY]  # a member
    assert await group.say("zoe", "/welcome aus") == [LEADS_ONLY]  # a stranger
    assert await enters(bot, group, "neo") == [GREETING]
    assert await group.say("admin", "/welcome aus") == ["Gut, ich begrüße hier niemanden mehr."]
    assert await group.say("anna", "/welcome vielleicht") == [
        "So geht's: /welcome an | /welcome aus"
    ]
    # Only in a linked group.
    [unlinked] = await bot.group("plauderecke").say("anna", "/welcome an")
    assert unlinked.startswith("Dieser Chat ist mit keiner AG verbunden.")
    [private] = await bot.dm("anna").say("anna", "/welcome an")
    assert "funktioniert nur in einer Gruppe" in private


async def test_forget_removes_the_record_of_the_greeting(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    await enters(bot, group, "neo")
    await enters(bot, group, "olga")
    await bot.dm("neo").say("neo", "/join ag2")
    await bot.dm("neo").say("neo", "/forget")
    await bot.dm("neo").say("neo", "/forget JA")
    assert len(await greeted_rows(bot)) == 1  # olga's
    # Forgotten means unknown: entering again is a first time.
    assert await enters(bot, group, "neo") == [GREETING]


# --- Telegram ----------------------------------------------------------------------------


@pytest.fixture
async def tg(sqlite_url: str) -> AsyncIterator[TelegramBot]:
    api = BotApi()
    api.remember(GROUP)
    transport = transport_for(api)
    app = App(telegram_settings(sqlite_url), [transport])
    await app.start()
    try:
        yield TelegramBot(app, transport, api)
    finally:
        await app.stop()


async def test_telegram_new_chat_members_are_greeted_in_the_group(tg: TelegramBot) -> None:
    await tg.say(GROUP, ADMIN, "/link ag2")
    neo = user(333, "Neo", username="neo_x")
    helper = user(444, "HelferBot", username="helfer_bot", is_bot=True)
    me = user(BOT_ID, "Bündnisbot", username="buendnis_test_bot", is_bot=True)
    before = len(tg.api.delivered())

    tg.api.script("getChatMemberCount", 200, {"ok": True, "result": 7})
    await tg.feed(update(service_message(GROUP, ANNA, new_chat_members=[neo, helper, me])))
    [greeting] = tg.api.delivered()[before:]
    assert greeting["chat_id"] == GROUP["id"]
    assert greeting["text"].startswith('Willkommen, <a href="tg://user?id=333">Neo</a>!')
    for command in ("/join ag2", "/card", "/survey run"):
        assert f"<code>{command}</code>" in greeting["text"]
    [count] = tg.api.calls_to("getChatMemberCount")
    assert count.params["chat_id"] == GROUP["id"]

    # Added again: no second greeting. A group too big to greet in by default: none.
    tg.api.script("getChatMemberCount", 200, {"ok": True, "result": 7})
    await tg.feed(update(service_message(GROUP, ANNA, new_chat_members=[neo])))
    tg.api.script("getChatMemberCount", 200, {"ok": True, "result": 400})
    await tg.feed(update(service_message(GROUP, ANNA, new_chat_members=[user(555, "Ola")])))
    assert tg.api.delivered()[before + 1 :] == []


# --- Matrix ------------------------------------------------------------------------------


@pytest.mark.synapse
async def test_matrix_someone_joining_a_linked_room_is_greeted(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    account = register_bot(synapse)
    anna = await MatrixHuman.login(synapse, unique_name("anna"))
    ben = await MatrixHuman.login(synapse, unique_name("ben"))
    neo = await MatrixHuman.login(synapse, unique_name("neo"))
    settings = bot_settings(tmp_path, synapse, account, admins=(f"matrix:{anna.user_id}",))
    try:
        await anna.start_sync()
        await neo.start_sync()
        async with running_bot(settings) as bot:
            room_id = await room_with_bot(anna, bot.user_id, invite=(ben.user_id, neo.user_id))
            # A third member first: with two, the room would count as a private chat.
            await ben.join(room_id)
            await wait_joined(anna, room_id, ben.user_id)
            await ask(anna, room_id, bot.user_id, "!link ag2", contains="gehört jetzt")

            mark = anna.mark()
            await neo.join(room_id)
            await wait_joined(anna, room_id, neo.user_id)
            greeting = await anna.wait_for_notice(
                room_id, bot.user_id, contains="Willkommen", since=mark
            )
            assert neo.user_id in greeting.content["formatted_body"]  # a pill to Neo
            for command in ("!join ag2", "!card", "!survey run"):
                assert command in greeting.body

            # A new display name is a member event (join after join) too, but no one new:
            # Ben, in the room since before it was linked and never greeted, stays so.
            mark = anna.mark()
            await ben.client.set_displayname("Ben Neu")
            await anna.wait_for(
                lambda seen: (
                    seen.type == "m.room.member"
                    and seen.source.get("state_key") == ben.user_id
                    and seen.content.get("displayname") == "Ben Neu"
                ),
                10.0,
            )
            # The next answer to a command comes after anything the rename could cause.
            await ask(anna, room_id, bot.user_id, "!welcome", contains="begrüße")
            notices = notices_from(anna, room_id, bot.user_id, since=mark)
            assert [n for n in notices if "Willkommen" in n.body] == []

            async with bot.app.services.db.read() as session:
                assert await session.scalar(select(func.count()).select_from(WelcomeSeen)) == 1
    finally:
        for human in (anna, ben, neo):
            await human.close()
