"""Members only means members only: a stranger's /rsvp and /vote <id> show nothing of the
AG's meetings and polls and leave no trace in them; an AG "on request" lets people in only
after a lead approved them."""

from __future__ import annotations

from bot.core import ButtonPress, IncomingMessage, UserRef
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead, reminders
from tests.support.poll_chat import setup_ag, start_poll

EVIL = "Treffen verlegt, neuer Link: https://evil.example/join"
MEMBERS_ONLY = (
    "Das sehen nur Mitglieder der AG „Transparenz und Beteiligung“. "
    "Mit /join ag2 kannst du beitreten."
)


async def say_as(bot: BotHarness, chat_id: str, user: UserRef, text: str) -> list[str]:
    """A command from someone whose display name the test chooses."""
    chat = bot.dm(user.id).ref if chat_id == "dm" else bot.group(chat_id).ref
    before = len(bot.transport.sent)
    message = IncomingMessage(chat=chat, sender=user, text=text[1:], message_id=str(before))
    await (await bot.app.dispatcher.message(message))
    return [s.text for s in bot.transport.sent[before:]]


async def fire_all(ag2: Ag2) -> list[str]:
    """Fire every reminder of the meeting now; the texts the group got."""
    for row in await reminders(ag2.bot):
        ag2.clock.set(row.due_at)
        await ag2.engine.fire(row.id)
    return [t for t in ag2.in_group() if t.startswith("⏰")]


async def test_a_strangers_rsvp_is_refused_and_never_reaches_the_reminders(
    bot: BotHarness,
) -> None:
    ag2 = await ag2_with_lead(bot)
    await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Geheimes Treffen")
    eve = UserRef("fake", "eve", EVIL, username="eve")

    for where in ("dm", "fremde-gruppe"):
        assert await say_as(bot, where, eve, "/rsvp m1 ja") == [MEMBERS_ONLY]
    toast = await bot.app.dispatcher.button_pressed(
        ButtonPress(bot.dm("eve").ref, eve, "rsvp:1:yes", "cb-1")
    )
    assert toast == MEMBERS_ONLY

    [attendance] = await ag2.anna.say("anna", "/attendance m1")
    assert "evil" not in attendance
    texts = await fire_all(ag2)
    assert texts, "no reminder was sent"
    assert not [t for t in texts if "evil" in t]


async def test_someone_in_a_linked_group_may_answer_there(bot: BotHarness) -> None:
    """The AG's leads linked the group: whoever is in it reads the meetings there anyway."""
    ag2 = await ag2_with_lead(bot)
    await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Treffen")
    [reply] = await ag2.group.say("gast", "/rsvp m1 ja")
    assert reply.startswith("✅ Schön, dass du kommst: Treffen")
    [attendance] = await ag2.anna.say("anna", "/attendance m1")
    assert "✅ Dabei (1): @gast" in attendance


async def test_vote_with_only_an_id_shows_a_stranger_nothing(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    short_id = await start_poll(group, "anna", '/poll "Geheime Frage?" "Rot" "Blau"')

    replies = await bot.dm("eve").say("eve", f"/vote {short_id}")
    assert replies == [MEMBERS_ONLY]
    # A member sees the question and its options; so does a guest in the AG's group.
    [shown] = await bot.dm("ben").say("ben", f"/vote {short_id}")
    assert "Geheime Frage?" in shown and "2. Blau" in shown
    [shown] = await group.say("gast", f"/vote {short_id}")
    assert "Geheime Frage?" in shown

