"""`/ag topic` where the network has no forum topics (a Matrix room, the console, the
fake transport of these tests): a clear answer that points to `/link`, nothing linked."""

from __future__ import annotations

from tests.support.fake import BotHarness
from tests.support.state import linked


async def test_ag_topic_where_there_are_no_topics(bot: BotHarness) -> None:
    group = bot.group("plenum")
    assert await group.say("admin", "/ag topic ag2") == [
        "Themen kann ich nur in einer Telegram-Gruppe mit Themen anlegen (Gruppeninfo → "
        "Bearbeiten → Themen). Diesen Chat verbindest du mit /link ag2."
    ]
    assert await linked(bot, "plenum") == []


async def test_ag_topic_in_english(bot: BotHarness) -> None:
    group = bot.group("plenum")
    await group.say("admin", "/lang en")
    assert await group.say("admin", "/ag topic ag2") == [
        "I can create topics only in a Telegram group with topics (group info → Edit → "
        "Topics). To link this chat, use /link ag2."
    ]
