"""`/ag topic ag2` on Telegram: the bot creates the AG's forum topic (`createForumTopic`),
links it to the AG and opens it with a first message; without the right "Manage Topics"
it says which right is missing, where and how to give it, and notes it for `/ag info`;
outside a forum group it says that topics need one."""

from __future__ import annotations

from storage import repo
from storage.access.problems import missing_rights
from storage.chat_language import chat_language
from tests.support.telegram_api import Json, supergroup, update
from tests.support.telegram_bot import ADMIN, ANNA, TelegramBot
from tests.support.telegram_updates import forum, topic_message

FORUM = forum(-1009876543210, "Bündnis Revier")
FORUM_ID = FORUM["id"]
AG2 = "<b>Transparenz und Beteiligung</b> (<code>ag2</code>)"
NO_RIGHT = {
    "ok": False,
    "error_code": 400,
    "description": "Bad Request: not enough rights to create a topic",
}
MISSING = (
    "Mir fehlt in <b>Bündnis Revier</b> das Recht „Themen verwalten“. In Telegram: "
    "Gruppeninfo → Bearbeiten → Administratoren → den Bot wählen → „Themen verwalten“ "
    "einschalten. Danach noch einmal: <code>/ag topic ag2</code>"
)


def sent(tg: TelegramBot, method: str) -> list[Json]:
    return [call.params for call in tg.api.calls_to(method) if call.status == 200]


async def problems(tg: TelegramBot, external_id: str) -> list[str]:
    async with tg.app.services.db.read() as session:
        chat = await repo.find_chat(session, "telegram", external_id)
        if chat is None:
            return []
        return (await missing_rights(session, [chat.id])).get(chat.id, [])


async def test_ag_topic_creates_links_and_opens_the_topic(tg: TelegramBot) -> None:
    tg.api.remember(FORUM)
    assert await tg.say(FORUM, ADMIN, "/ag topic ag2") == [
        f"Hier ist der Ort der AG {AG2}. Beitreten mit <code>/join</code>.",
        "Das Thema <b>Bündnis Revier / Transparenz und Beteiligung</b> gehört jetzt zur AG "
        f"{AG2}: Umfragen, Termine und Erinnerungen der AG kommen dort an.",
    ]
    [create] = sent(tg, "createForumTopic")
    assert create == {"chat_id": FORUM_ID, "name": "Transparenz und Beteiligung"}
    first, answer = sent(tg, "sendMessage")
    topic = first["message_thread_id"]
    assert first["chat_id"] == FORUM_ID and isinstance(topic, int)
    assert answer["chat_id"] == FORUM_ID and "message_thread_id" not in answer  # General
    assert await tg.linked(f"{FORUM_ID}/{topic}") == ["ag2"]
    assert await tg.linked(FORUM_ID) == []

    # The AG's things now go into its topic: a poll typed in General for ag2 as well.
    await tg.say(FORUM, ADMIN, "/poll Wann? Di, Mi --ag ag2")
    [poll] = sent(tg, "sendPoll")
    assert (poll["chat_id"], poll["message_thread_id"]) == (FORUM_ID, topic)


async def test_ag_topic_typed_in_another_topic(tg: TelegramBot) -> None:
    """The topic is made in the group (no thread id for createForumTopic); the answer
    goes to the topic the command came from."""
    tg.api.remember(FORUM)
    await tg.feed(update(topic_message(FORUM, ADMIN, "/ag topic ag3", 77, "Allgemeines")))
    [create] = sent(tg, "createForumTopic")
    assert create == {"chat_id": FORUM_ID, "name": "Interne Struktur und Vernetzung"}
    first, answer = sent(tg, "sendMessage")
    assert answer["message_thread_id"] == 77
    assert answer["text"].startswith(
        "Das Thema <b>Bündnis Revier / Interne Struktur und Vernetzung</b> gehört jetzt zur AG"
    )
    assert await tg.linked(f"{FORUM_ID}/{first['message_thread_id']}") == ["ag3"]


async def test_ag_topic_without_the_right_says_so_and_notes_it(tg: TelegramBot) -> None:
    tg.api.remember(FORUM)
    tg.api.script("createForumTopic", 400, NO_RIGHT)
    assert await tg.say(FORUM, ADMIN, "/ag topic ag2") == [MISSING]
    assert await problems(tg, str(FORUM_ID)) == ["manage_topics"]
    assert await tg.linked(FORUM_ID) == []

    # Given the right, it works, and the note is gone.
    replies = await tg.say(FORUM, ADMIN, "/ag topic ag2")
    assert replies[-1].startswith("Das Thema <b>Bündnis Revier / Transparenz und Beteiligung</b>")
    assert await problems(tg, str(FORUM_ID)) == []


async def test_ag_topic_outside_a_forum_group(tg: TelegramBot) -> None:
    plain = supergroup(-1005550002, "Plenum")
    tg.api.remember(plain)
    tg.api.script(
        "createForumTopic",
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: the chat is not a forum"},
    )
    assert await tg.say(plain, ADMIN, "/ag topic ag2") == [
        "Themen kann ich nur in einer Telegram-Gruppe mit Themen anlegen (Gruppeninfo → "
        "Bearbeiten → Themen). Diesen Chat verbindest du mit <code>/link ag2</code>."
    ]
    assert await tg.linked(plain["id"]) == []


async def test_ag_topic_needs_a_lead_and_a_group(tg: TelegramBot) -> None:
    tg.api.remember(FORUM)
    assert await tg.say(FORUM, ANNA, "/ag topic ag2") == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]
    private = {"id": ADMIN["id"], "type": "private", "first_name": ADMIN["first_name"]}
    [place] = await tg.say(private, ADMIN, "/ag topic ag2")
    assert "funktioniert nur" in place
    assert tg.api.calls_to("createForumTopic") == []


async def test_a_new_topic_speaks_the_language_of_the_group(tg: TelegramBot) -> None:
    tg.api.remember(FORUM)
    await tg.say(FORUM, ADMIN, "/lang en")
    assert await tg.say(FORUM, ADMIN, "/ag topic ag2") == [
        "This is the place of the AG <b>Transparenz und Beteiligung</b> (<code>ag2</code>). "
        "Join with <code>/join</code>.",
        "The topic <b>Bündnis Revier / Transparenz und Beteiligung</b> now belongs to the AG "
        "<b>Transparenz und Beteiligung</b> (<code>ag2</code>): the AG's polls, meetings and "
        "reminders go there.",
    ]
    [first, _answer] = [p for p in sent(tg, "sendMessage") if p["text"].startswith("Th")]
    async with tg.app.services.db.read() as session:
        language = await chat_language(
            session, "telegram", f"{FORUM_ID}/{first['message_thread_id']}"
        )
    assert language == "en"
