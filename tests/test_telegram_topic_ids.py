"""Which chat the transport reports for updates from forum topics (a RecordingInbox
behind the real TelegramTransport): the topic as "<chat id>/<thread id>" for commands,
newcomers and button presses there; the chat itself for General and private chats."""

from __future__ import annotations

from bot.context import Context
from bot.core import ChatRef
from bot.rich import text
from bot.transports.telegram.flood import SlidingWindowLimiter
from tests.support.telegram_api import BotApi, message, service_message, update, user
from tests.support.telegram_transport import RecordingInbox, running, running_app
from tests.support.telegram_updates import callback_query, forum, topic_message

FORUM = forum(-1009876543210, "Bündnis Revier")
ADA = user(111, "Ada")
BEN = user(333, "Ben")


async def test_newcomers_in_a_topic_and_in_general() -> None:
    inbox = RecordingInbox()
    async with running(inbox) as bot:
        await bot.feed(
            update(
                service_message(
                    FORUM, ADA, new_chat_members=[BEN], message_thread_id=77, is_topic_message=True
                )
            ),
            update(service_message(FORUM, ADA, new_chat_members=[BEN])),
        )
    assert [join.chat.id for join in inbox.joins] == [f"{FORUM['id']}/77", str(FORUM["id"])]


async def test_a_button_press_in_a_topic_names_the_topic() -> None:
    inbox = RecordingInbox()
    async with running(inbox) as bot:
        shown = topic_message(FORUM, None, "Abstimmen", 77, "AG 2")
        await bot.feed(update(callback_query(shown, BEN, "rsvp:1:yes"), "callback_query"))
        await bot.api.wait_called("answerCallbackQuery")
    [press] = inbox.presses
    assert press.chat == ChatRef("telegram", f"{FORUM['id']}/77", title="Bündnis Revier / AG 2")


async def test_a_private_chat_with_topics_stays_the_persons_chat() -> None:
    """Bot API 9.3 lets private chats have topics; the bot still writes to the person."""
    inbox = RecordingInbox()
    private = {"id": 333, "type": "private", "first_name": "Ben"}
    async with running(inbox) as bot:
        await bot.feed(
            update(message(private, BEN, "/my", message_thread_id=5, is_topic_message=True))
        )
    [incoming] = inbox.messages
    assert incoming.chat.id == "333" and incoming.chat.is_direct


async def test_retries_and_flood_waits_keep_the_thread_and_count_per_group() -> None:
    """A send into a topic that meets a 502 and a RetryAfter is repeated with its thread
    id each time; the flood limit's window is the group's, shared by all its topics."""
    inbox = RecordingInbox()
    async with running(inbox) as bot:
        bot.transport.send_retry_delays = (0.01,)
        api = bot.api
        api.script(
            "sendMessage", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        )
        api.script(
            "sendMessage",
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
        )
        sent = await bot.transport.send(ChatRef("telegram", f"{FORUM['id']}/77"), text("Hallo"))
        await bot.transport.send(ChatRef("telegram", f"{FORUM['id']}/88"), text("Hallo"))
        limiter = bot.transport.application.bot.rate_limiter
    assert sent.message_id is not None
    calls = api.calls_to("sendMessage")
    assert [(c.status, c.params["chat_id"], c.params["message_thread_id"]) for c in calls] == [
        (502, FORUM["id"], 77),
        (429, FORUM["id"], 77),
        (200, FORUM["id"], 77),
        (200, FORUM["id"], 88),
    ]
    assert isinstance(limiter, SlidingWindowLimiter)
    assert list(limiter._chats) == [FORUM["id"]]


async def test_a_long_answer_in_a_topic_comes_in_parts_all_in_the_topic(sqlite_url: str) -> None:
    """Replies longer than Telegram's 4096 characters are split; every part keeps the
    topic's thread (here the answer to a button pressed in the topic)."""
    api = BotApi()
    api.remember(FORUM)

    async def on_long(ctx: Context, data: str) -> str | None:
        await ctx.reply(text("\n".join(f"Zeile {n:04d} " + "x" * 40 for n in range(200))))
        return None

    async with running_app(sqlite_url, api) as bot:
        bot.app.services.registry.buttons["long"] = on_long
        shown = topic_message(FORUM, None, "Lang", 77, "AG 2")
        await bot.served(update(callback_query(shown, BEN, "long:1"), "callback_query"))
        await api.wait_called("answerCallbackQuery")
    parts = api.delivered(FORUM["id"])
    assert len(parts) > 1
    assert all(p["message_thread_id"] == 77 for p in parts)
    assert "".join(p["text"] for p in parts).count("Zeile") == 200
