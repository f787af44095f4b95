"""The whole bot behind python-telegram-bot, against a Bot API answered from memory.

Each test starts the real App (SQLite, migrations, dispatcher, handlers) with a real
TelegramTransport: PTB's Application, rate limiter and Updater run unchanged; only the
HTTP layer is the recording `BotApi`. Updates are fed to `Application.process_update`
or served to the running `start_polling()` through getUpdates.
"""

from __future__ import annotations

import logging
import socket
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from telegram import Update

from bot.app import App
from bot.config import ConfigError, Secret, Settings, TelegramSettings
from bot.core import ChatRef, DirectMessageUnavailable
from bot.rich import AccountRef, text
from bot.transports.telegram import TelegramTransport
from storage import repo
from tests.support.fake import ROOT
from tests.support.telegram_api import (
    ANONYMOUS_ADMIN_BOT,
    BOT_TOKEN,
    BOT_USERNAME,
    BotApi,
    Json,
    group,
    message,
    private_chat,
    service_message,
    supergroup,
    text_mention,
    update,
    user,
)

ADMIN = user(111, "Ada", username="ada_admin")
ANNA = user(222, "Anna", last_name="Berg", username="anna_b")
GROUP = group(-4001, "AG 2 Transparenz")
SUPERGROUP = supergroup(-1001234567890, "AG 2 Transparenz")
# Messages, votes in polls, poll totals and button presses; nothing else is sent.
ALLOWED = ["message", "poll_answer", "poll", "callback_query"]


@dataclass
class TelegramBot:
    app: App
    transport: TelegramTransport
    api: BotApi

    async def feed(self, payload: Json) -> None:
        """Hand one update to PTB as its update loop would, then wait for the handlers."""
        ptb = self.transport.application
        await ptb.process_update(Update.de_json(payload, ptb.bot))
        await self.app.dispatcher.drain()

    async def poll(self, payload: Json) -> None:
        """Serve one update through getUpdates to the running Updater."""
        await self.api.push(payload)
        await self.api.wait_fetched(payload["update_id"])
        await self.transport.application.update_queue.join()
        await self.app.dispatcher.drain()

    async def say(self, chat: Json, sender: Json | None, words: str, **fields: object) -> list[str]:
        """Send a message; return the HTML of every reply it caused."""
        before = len(self.api.delivered())
        await self.feed(update(message(chat, sender, words, **fields)))
        return [params["text"] for params in self.api.delivered()[before:]]

    async def linked(self, chat_id: int) -> list[str]:
        async with self.app.services.db.read() as session:
            return [ag.slug for ag in await repo.linked_ags(session, "telegram", str(chat_id))]

    async def reachable(self, user_id: int) -> bool | None:
        async with self.app.services.db.read() as session:
            account = await repo.find_account(session, "telegram", str(user_id))
        return None if account is None else account.direct_reachable


StartBot = Callable[..., Awaitable[TelegramBot]]


def bot_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admins=frozenset({"telegram:111"}),
        ags_file=ROOT / "config" / "ags.toml",
    )


def transport_for(api: BotApi, telegram: TelegramSettings | None = None) -> TelegramTransport:
    return TelegramTransport(
        telegram or TelegramSettings(token=Secret(BOT_TOKEN)),
        request=api.request,
        get_updates_request=api.updates_request,
    )


@pytest.fixture
async def start_bot(sqlite_url: str) -> AsyncIterator[StartBot]:
    started: list[App] = []

    async def start(
        api: BotApi | None = None, telegram: TelegramSettings | None = None
    ) -> TelegramBot:
        api = api or BotApi()
        api.remember(GROUP, SUPERGROUP)
        transport = transport_for(api, telegram)
        app = App(bot_settings(sqlite_url), [transport])
        await app.start()
        started.append(app)
        return TelegramBot(app, transport, api)

    yield start
    for app in started:
        await app.stop()


@pytest.fixture
async def tg(start_bot: StartBot) -> TelegramBot:
    return await start_bot()


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


# --- sending -----------------------------------------------------------------------------


async def test_blocked_user_cannot_get_direct_messages(tg: TelegramBot) -> None:
    chat = private_chat(ANNA)
    await tg.say(chat, ANNA, "/join ag2")
    assert await tg.reachable(222) is True
    tg.api.script(
        "sendMessage",
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    account = AccountRef("telegram", "222", "Anna Berg", "anna_b")
    with pytest.raises(DirectMessageUnavailable) as raised:
        await tg.transport.send_direct(account, text("Erinnerung"))
    assert raised.value.hint_url == f"https://t.me/{BOT_USERNAME}?start=hello"
    assert await tg.reachable(222) is False

    # Following the hint link sends `/start hello`; after that, direct messages work again.
    await tg.say(chat, ANNA, "/start hello")
    await tg.say(chat, ANNA, "/my")
    assert await tg.reachable(222) is True


# PTB's own RetryAfter.__init__ reads its deprecated int-valued `retry_after`.
@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
async def test_retry_after_is_waited_out(tg: TelegramBot) -> None:
    tg.api.script(
        "sendMessage",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    began = time.monotonic()
    await tg.say(private_chat(ANNA), ANNA, "/start")
    assert time.monotonic() - began >= 1
    assert [call.status for call in tg.api.calls_to("sendMessage")] == [429, 200]
    assert len(tg.api.delivered(222)) == 1


async def test_chat_the_bot_was_removed_from(
    tg: TelegramBot, caplog: pytest.LogCaptureFixture
) -> None:
    tg.api.script(
        "sendMessage",
        403,
        {
            "ok": False,
            "error_code": 403,
            "description": "Forbidden: bot was kicked from the group chat",
        },
    )
    with caplog.at_level(logging.WARNING, "bot.transports.telegram"):
        ref = await tg.transport.send(ChatRef("telegram", "-4009"), text("Geheimer Text"))
    assert ref.message_id is None
    assert "kicked" in caplog.text
    assert "Geheimer Text" not in caplog.text


async def test_a_key_is_sent_once(tg: TelegramBot) -> None:
    chat = ChatRef("telegram", str(GROUP["id"]))
    first = await tg.transport.send(chat, text("Einmal"), key="reminder:7")
    again = await tg.transport.send(chat, text("Einmal"), key="reminder:7")
    assert first == again
    assert tg.api.texts(GROUP["id"]) == ["Einmal"]


# --- start-up ----------------------------------------------------------------------------


async def test_command_menus_per_scope_and_language(tg: TelegramBot) -> None:
    menus: dict[tuple[str, str | None], list[dict[str, str]]] = {}
    for call in tg.api.calls_to("setMyCommands"):
        key = (call.params["scope"]["type"], call.params.get("language_code"))
        menus[key] = call.params["commands"]
    scopes = ("all_private_chats", "all_group_chats", "all_chat_administrators")
    assert set(menus) == {(s, lang) for s in scopes for lang in (None, "de", "en")}
    for scope in scopes:
        assert menus[(scope, None)] == menus[(scope, "de")]
    private = {c["command"]: c["description"] for c in menus[("all_private_chats", "en")]}
    assert private["join"] == "Join an AG"
    german = {c["command"]: c["description"] for c in menus[("all_private_chats", "de")]}
    assert german["join"] == "Einer AG beitreten"
    assert "start" not in german


async def test_start_up_explains_bot_settings(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start_bot(BotApi(can_join_groups=False, can_read_all_group_messages=False))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("BotFather" in w and "Allow Groups" in w for w in warnings)
    assert "privacy mode is on" in caplog.text
    assert BOT_TOKEN.split(":")[1] not in caplog.text


async def test_rejected_token_is_not_shown(sqlite_url: str) -> None:
    """PTB's InvalidToken quotes the token; the bot stops with a ConfigError that does not."""
    api = BotApi()
    api.script("getMe", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    app = App(bot_settings(sqlite_url), [transport_for(api)])
    try:
        with pytest.raises(ConfigError) as raised:
            await app.start()
    finally:
        await app.stop()
    shown = "".join(traceback.format_exception(raised.value))
    assert "rejected the bot token" in shown
    assert BOT_TOKEN.split(":")[1] not in shown


async def test_webhook_mode(start_bot: StartBot) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "s3cret-Token_123"
    tg = await start_bot(
        telegram=TelegramSettings(
            token=Secret(BOT_TOKEN),
            mode="webhook",
            webhook_url="https://bot.example.org/telegram/hook",
            webhook_listen="127.0.0.1",
            webhook_port=port,
            webhook_secret=Secret(secret),
        )
    )
    [hook] = tg.api.calls_to("setWebhook")
    assert hook.params["url"] == "https://bot.example.org/telegram/hook"
    assert hook.params["secret_token"] == secret
    assert hook.params["allowed_updates"] == ALLOWED
    assert not tg.api.calls_to("getUpdates")

    url = f"http://127.0.0.1:{port}/telegram/hook"
    payload = update(message(private_chat(ANNA), ANNA, "/start"))
    # An update forged in an admin's name, with no secret or a guessed one.
    admin_forged = update(message(private_chat(ADMIN), ADMIN, "/start"))
    async with httpx.AsyncClient(trust_env=False) as client:
        unsigned = await client.post(url, json=admin_forged)
        forged = await client.post(
            url, json=admin_forged, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        )
        real = await client.post(
            url, json=payload, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
        )
    assert unsigned.status_code == 403
    assert forged.status_code == 403
    assert real.status_code == 200
    await tg.transport.application.update_queue.join()
    await tg.app.dispatcher.drain()
    assert [t[:11] for t in tg.api.texts(222)] == ["Hallo Anna "]
    assert tg.api.texts(111) == [], "the forged updates were not obeyed"


async def test_webhook_mode_refuses_to_start_without_a_secret(sqlite_url: str) -> None:
    """Without a secret anyone who finds the URL could post updates in an admin's name:
    the transport does not start (load_settings refuses such a file already)."""
    api = BotApi()
    hook = TelegramSettings(
        token=Secret(BOT_TOKEN), mode="webhook", webhook_url="https://bot.example.org/hook"
    )
    app = App(bot_settings(sqlite_url), [transport_for(api, hook)])
    try:
        with pytest.raises(ConfigError, match="webhook mode needs a secret"):
            await app.start()
    finally:
        await app.stop()
    assert not api.calls_to("setWebhook")


def test_the_webhook_listens_on_localhost_unless_configured() -> None:
    hook = TelegramSettings(
        token=Secret(BOT_TOKEN),
        mode="webhook",
        webhook_url="https://bot.example.org/hook",
        webhook_secret=Secret("s3cret"),
    )

    assert transport_for(BotApi(), hook)._webhook_options()["listen"] == "127.0.0.1"
