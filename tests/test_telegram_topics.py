"""Forum topics on Telegram: a topic is a chat of its own ("<chat id>/<thread id>"), so
two AGs can live in one forum group, each in its topic. Updates shaped as the Bot API
sends them go through python-telegram-bot; every send into a topic must carry the
topic's `message_thread_id` (Telegram puts a message without it into General), sends to
General and to ordinary chats never do."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import ChatRef
from bot.rich import text
from handlers.reminders.engine import engine
from storage import repo
from storage.meetings.models import Reminder
from tests.support.meetings import Clock
from tests.support.telegram_api import Json, message, service_message, update
from tests.support.telegram_bot import ADMIN, ANNA, TelegramBot
from tests.support.telegram_updates import callback_query, forum, topic_message

FORUM = forum(-1009876543210, "Bündnis Revier")
FORUM_ID = FORUM["id"]
AG2_TOPIC, AG3_TOPIC = 77, 88


def sends(tg: TelegramBot, method: str = "sendMessage") -> list[Json]:
    return [call.params for call in tg.api.calls_to(method) if call.status == 200]


def where(params: Json) -> tuple[int, int | None]:
    return params["chat_id"], params.get("message_thread_id")


async def in_topic(tg: TelegramBot, thread: int, words: str, name: str | None = "AG") -> Json:
    """Say `words` in a topic as Ada (an admin); the one reply's parameters."""
    before = len(sends(tg))
    await tg.feed(update(topic_message(FORUM, ADMIN, words, thread, name)))
    [reply] = sends(tg)[before:]
    return reply


async def test_a_command_in_a_topic_is_answered_in_that_topic(tg: TelegramBot) -> None:
    tg.api.remember(FORUM)
    reply = await in_topic(tg, AG2_TOPIC, "/link ag2", name="AG 2")

    assert where(reply) == (FORUM_ID, AG2_TOPIC)
    assert reply["text"] == (
        "Dieser Chat gehört jetzt zur AG <b>Transparenz und Beteiligung</b> (<code>ag2</code>). "
        "Hier kann man mit <code>/join</code> beitreten."
    )
    assert await tg.linked(f"{FORUM_ID}/{AG2_TOPIC}") == ["ag2"]
    assert await tg.linked(FORUM_ID) == []
    async with tg.app.services.db.read() as session:
        row = await repo.find_chat(session, "telegram", f"{FORUM_ID}/{AG2_TOPIC}")
    assert row is not None and row.title == "Bündnis Revier / AG 2"


async def test_general_and_reply_threads_are_the_group_itself(tg: TelegramBot) -> None:
    """General: no thread id at all, or thread 1; an ordinary supergroup's reply thread
    has a thread id but is no topic (`is_topic_message` missing)."""
    tg.api.remember(FORUM)
    general = [
        message(FORUM, ADMIN, "/link ag2"),
        message(FORUM, ADMIN, "/link ag2", message_thread_id=1, is_topic_message=True),
    ]
    plain = {"id": -1005550001, "type": "supergroup", "title": "Plenum"}
    tg.api.remember(plain)
    earlier = message(plain, ANNA, "Wer kommt?")
    replying = message(plain, ADMIN, "/link ag3", message_thread_id=earlier["message_id"])
    replying["reply_to_message"] = earlier
    for payload in (*general, replying):
        await tg.feed(update(payload))

    replies = sends(tg)
    assert [where(p) for p in replies] == [(FORUM_ID, None), (FORUM_ID, None), (plain["id"], None)]
    assert all("message_thread_id" not in p for p in replies)
    assert replies[1]["text"].startswith("Dieser Chat gehört schon zur AG")
    assert await tg.linked(FORUM_ID) == ["ag2"]
    assert await tg.linked(plain["id"]) == ["ag3"]


async def test_a_topic_message_replying_to_another_keeps_the_topic(tg: TelegramBot) -> None:
    """Without the topic's name (a reply to some message in it) the topic is still the
    chat; the title it was stored with stays."""
    tg.api.remember(FORUM)
    await in_topic(tg, AG2_TOPIC, "/link ag2", name="AG 2")
    reply = await in_topic(tg, AG2_TOPIC, "/unlink ag2", name=None)
    assert where(reply) == (FORUM_ID, AG2_TOPIC)
    assert reply["text"] == (
        "Dieser Chat gehört nicht mehr zur AG <b>Transparenz und Beteiligung</b> (<code>ag2</code>)."
    )


async def test_two_ags_in_two_topics_each_get_their_own_poll(tg: TelegramBot) -> None:
    tg.api.remember(FORUM)
    await in_topic(tg, AG2_TOPIC, "/link ag2", name="AG 2")
    await in_topic(tg, AG3_TOPIC, "/link ag3", name="AG 3")

    await tg.feed(update(topic_message(FORUM, ADMIN, "/poll Wann? Di, Mi", AG2_TOPIC, "AG 2")))
    await tg.feed(
        update(topic_message(FORUM, ADMIN, "/poll Wo? Halle, Leipzig", AG3_TOPIC, "AG 3"))
    )

    polls = sends(tg, "sendPoll")
    assert [(where(p), p["question"]) for p in polls] == [
        ((FORUM_ID, AG2_TOPIC), "Wann?"),
        ((FORUM_ID, AG3_TOPIC), "Wo?"),
    ]

    # Closing stops the poll by chat and message id (stopPoll takes no thread id); the
    # result goes into the poll's topic.
    ids = [p["text"] for p in sends(tg) if "/close" in p["text"]]
    assert ids, "the poll's announcement names its /close command"
    short = ids[0].split("<code>/close ")[1].split("</code>")[0]
    before = len(sends(tg))
    await tg.feed(update(topic_message(FORUM, ADMIN, f"/close {short}", AG2_TOPIC, "AG 2")))
    [stop] = sends(tg, "stopPoll")
    assert stop == {"chat_id": FORUM_ID, "message_id": stop["message_id"]}
    assert {where(p) for p in sends(tg)[before:]} == {(FORUM_ID, AG2_TOPIC)}


async def test_two_ags_in_two_topics_each_get_their_own_reminder(tg: TelegramBot) -> None:
    tg.api.remember(FORUM)
    clock = tg.app.services.clock = Clock()
    await in_topic(tg, AG2_TOPIC, "/link ag2", name="AG 2")
    await in_topic(tg, AG3_TOPIC, "/link ag3", name="AG 3")
    announced = [
        await in_topic(tg, AG2_TOPIC, "/meeting 03.12.2026 18:00 Plenum", name="AG 2"),
        await in_topic(tg, AG3_TOPIC, "/meeting 03.12.2026 19:00 Stammtisch", name="AG 3"),
    ]
    assert [where(p) for p in announced] == [(FORUM_ID, AG2_TOPIC), (FORUM_ID, AG3_TOPIC)]

    async with tg.app.services.db.read() as session:
        # Each meeting's reminder a day before: Plenum's first, then Stammtisch's.
        due = list(await session.execute(select(Reminder.id, Reminder.due_at).order_by("due_at")))
    before = len(sends(tg))
    for reminder, at in due[:2]:
        clock.set(at)
        await engine(tg.app.services).fire(reminder)
    reminded = sends(tg)[before:]
    assert [(where(p), p["text"].split("\n")[0]) for p in reminded] == [
        ((FORUM_ID, AG2_TOPIC), "⏰ Erinnerung: <b>Plenum</b> – AG Transparenz und Beteiligung"),
        (
            (FORUM_ID, AG3_TOPIC),
            "⏰ Erinnerung: <b>Stammtisch</b> – AG Interne Struktur und Vernetzung",
        ),
    ]


async def test_unlink_in_one_topic_keeps_the_other(tg: TelegramBot) -> None:
    tg.api.remember(FORUM)
    await in_topic(tg, AG2_TOPIC, "/link ag2", name="AG 2")
    await in_topic(tg, AG3_TOPIC, "/link ag3", name="AG 3")
    await in_topic(tg, AG2_TOPIC, "/unlink", name="AG 2")  # the topic's own AG
    assert await tg.linked(f"{FORUM_ID}/{AG2_TOPIC}") == []
    assert await tg.linked(f"{FORUM_ID}/{AG3_TOPIC}") == ["ag3"]


async def test_files_and_buttons_go_into_the_topic(tg: TelegramBot) -> None:
    tg.api.remember(FORUM)
    await in_topic(tg, AG2_TOPIC, "/link ag2", name="AG 2")
    await tg.transport.send_file(
        ChatRef("telegram", f"{FORUM_ID}/{AG2_TOPIC}"),
        "ag2.ics",
        b"BEGIN:VCALENDAR",
        "text/calendar",
    )
    [document] = sends(tg, "sendDocument")
    assert where(document) == (FORUM_ID, AG2_TOPIC)

    # A meeting's announcement has buttons; a press on them counts in the topic's chat.
    tg.app.services.clock = Clock()
    await in_topic(tg, AG2_TOPIC, "/meeting 03.12.2026 18:00 Plenum", name="AG 2")
    announced = tg.api.last_sent(FORUM_ID)
    assert announced["message_thread_id"] == AG2_TOPIC and "reply_markup" in announced
    await tg.feed(update(callback_query(announced, ANNA, "rsvp:1:yes"), "callback_query"))
    [answer] = await tg.api.wait_called("answerCallbackQuery")
    assert answer.params["text"].startswith("✅ Eingetragen: Du kommst zu „Plenum“")


async def test_a_migrated_group_takes_its_topics_along(tg: TelegramBot) -> None:
    """Forums are supergroups, which do not migrate; but a chat id with its topics must
    move as one wherever Telegram reports a new id, also on a send into a topic."""
    old = forum(-4003, "Bündnis")
    tg.api.remember(old)
    await tg.feed(update(topic_message(old, ADMIN, "/link ag2", AG2_TOPIC, "AG 2")))
    await tg.feed(update(topic_message(old, ADMIN, "/link ag3", AG3_TOPIC, "AG 3")))
    await tg.feed(update(service_message(old, ADMIN, migrate_to_chat_id=FORUM_ID)))
    assert await tg.linked(f"{FORUM_ID}/{AG2_TOPIC}") == ["ag2"]
    assert await tg.linked(f"{FORUM_ID}/{AG3_TOPIC}") == ["ag3"]
    assert await tg.linked(f"-4003/{AG2_TOPIC}") == []

    tg.api.script(
        "sendMessage",
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": -1004440001},
        },
    )
    ref = await tg.transport.send(ChatRef("telegram", f"{FORUM_ID}/{AG3_TOPIC}"), text("Hallo"))
    assert ref.chat.id == f"-1004440001/{AG3_TOPIC}"
    assert where(sends(tg)[-1]) == (-1004440001, AG3_TOPIC)
    assert await tg.linked(f"-1004440001/{AG3_TOPIC}") == ["ag3"]
    assert await tg.linked(f"-1004440001/{AG2_TOPIC}") == ["ag2"]


async def test_a_deleted_topic_is_a_gone_chat(tg: TelegramBot) -> None:
    tg.api.script(
        "sendMessage",
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message thread not found"},
    )
    ref = await tg.transport.send(ChatRef("telegram", f"{FORUM_ID}/{AG2_TOPIC}"), text("Hallo"))
    assert ref.message_id is None


async def test_a_private_answer_is_announced_in_the_topic(tg: TelegramBot) -> None:
    """/members goes to the person privately (no thread id there); the note that it did
    goes into the topic."""
    tg.api.remember(FORUM)
    await in_topic(tg, AG2_TOPIC, "/link ag2", name="AG 2")
    before = len(sends(tg))
    await tg.feed(update(topic_message(FORUM, ANNA, "/join", AG2_TOPIC, "AG 2")))
    await tg.feed(update(topic_message(FORUM, ANNA, "/members", AG2_TOPIC, "AG 2")))
    joined, members, notice = sends(tg)[before:]
    assert where(joined) == (FORUM_ID, AG2_TOPIC)
    assert where(members) == (ANNA["id"], None)
    assert where(notice) == (FORUM_ID, AG2_TOPIC)
    assert notice["text"] == "Ich habe es dir privat geschickt."
