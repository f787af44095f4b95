"""Names and titles without control and format characters (storage/text.py `visible`),
wherever the bot stores or shows them: display names, chat titles, AG names, poll
questions and answers, meeting titles, card fields. A right-to-left override makes a name
read backwards, zero-width characters make two equal-looking names differ. Umlauts and
emoji stay, and so does the zero-width joiner inside an emoji (👩‍💻).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core import ChatRef, IncomingMessage, UserRef
from storage import repo
from storage.cards import Card
from storage.meetings.models import Meeting
from storage.models import Account, Ag, Chat
from storage.polls.models import Poll, PollOption
from storage.text import visible
from tests.support.fake import BotHarness
from tests.support.meetings import ag2_with_lead
from tests.support.poll_chat import Clock, setup_ag

RLO, ZWSP, LRI, PDI, FSI, RLI = "\u202e", "\u200b", "\u2066", "\u2069", "\u2068", "\u2067"
HOSTILE = f"{RLO}Ev{ZWSP}e{LRI}{FSI}{RLI} Mül\u200cler{PDI}\u00ad"
CODER = "👩\u200d💻"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (HOSTILE, "Eve Müller"),
        (f"Anna{RLO}gnp.exe", "Annagnp.exe"),
        ("A\u200dnna\ufeff \u200e\u200fB", "Anna B"),
        ("Jürgen 🌻 Groß", "Jürgen 🌻 Groß"),
        (f"{CODER} Olga 🏳️\u200d🌈 👩🏽\u200d💻", f"{CODER} Olga 🏳️\u200d🌈 👩🏽\u200d💻"),
        (f"\u200d{CODER}\u200d", CODER),
        ("a\x00b\x1b\tc\u00a0d", "ab c d"),
    ],
)
def test_visible(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_multiline_keeps_line_breaks_only() -> None:
    assert visible(f"Zeile{RLO} 1\n\n\n\nZeile\u200b 2\r", multiline=True) == "Zeile 1\n\nZeile 2"


async def say_as(bot: BotHarness, chat: ChatRef, who: str, name: str, text: str) -> list[str]:
    before = len(bot.transport.sent)
    message = IncomingMessage(chat, UserRef("fake", who, name), text, "1")
    await (await bot.app.dispatcher.message(message))
    return [s.text for s in bot.transport.sent[before:]]


async def test_display_names_are_clean_in_replies_and_in_the_database(bot: BotHarness) -> None:
    dm = ChatRef("fake", "dm-eve", is_direct=True)
    await say_as(bot, dm, "eve", HOSTILE, "join ag2")
    [reply] = await say_as(bot, dm, "eve", HOSTILE, "start")
    assert reply.startswith("Hallo Eve Müller!")
    members = await bot.dm("admin").say("admin", "/members ag2")
    assert "Eve Müller" in members[0]
    for text in (reply, *members):
        assert not any(ch in text for ch in (RLO, ZWSP, LRI, PDI, FSI, RLI, "\u00ad"))
    async with bot.app.services.db.read() as session:
        account = await repo.find_account(session, "fake", "eve")
    assert account is not None and account.display_name == "Eve Müller"


async def test_names_from_elsewhere_are_cleaned_when_stored(bot: BotHarness) -> None:
    """The storage cleans too: a name that did not come through a UserRef."""

    async def store(session: object) -> tuple[Account, Chat]:
        account = await repo.ensure_account(session, "fake", "x1", HOSTILE)  # type: ignore[arg-type]
        chat = await repo.ensure_chat(session, "fake", "c1", f"Grup{ZWSP}pe{RLO}", False)  # type: ignore[arg-type]
        return account, chat

    account, chat = await bot.app.services.db.run(store)
    assert (account.display_name, chat.title) == ("Eve Müller", "Gruppe")


async def test_chat_titles_are_clean(bot: BotHarness) -> None:
    group = ChatRef("fake", "g-rlo", title=f"AG{RLO} 2{ZWSP}")
    await say_as(bot, group, "admin", "Admin", "link ag2")
    async with bot.app.services.db.read() as session:
        titles = set(await session.scalars(select(Chat.title)))
    assert "AG 2" in titles
    assert not any(t and (RLO in t or ZWSP in t) for t in titles)


async def test_ag_names_and_descriptions(bot: BotHarness) -> None:
    admin = bot.dm("admin")
    [reply] = await admin.say(
        "admin", f"/ag new ag4 Ener{ZWSP}gie{RLO} -- Bürger{LRI}energie {CODER}"
    )
    assert "Energie" in reply and RLO not in reply and ZWSP not in reply
    async with bot.app.services.db.read() as session:
        ag = await session.scalar(select(Ag).where(Ag.slug == "ag4"))
    assert ag is not None and (ag.name, ag.description) == ("Energie", f"Bürgerenergie {CODER}")


async def test_poll_question_and_answers(bot: BotHarness) -> None:
    bot.app.services.clock = Clock()
    group = await setup_ag(bot)
    replies = await group.say("anna", f'/poll "Wer{RLO} kommt?{ZWSP}" "{CODER} ich" "nicht{LRI}"')
    assert replies and replies[0].startswith("Umfrage")
    async with bot.app.services.db.read() as session:
        poll = await session.scalar(select(Poll).order_by(Poll.id.desc()))
        assert poll is not None
        options = list(
            await session.scalars(
                select(PollOption.text)
                .where(PollOption.poll_id == poll.id)
                .order_by(PollOption.position)
            )
        )
    assert (poll.question, options) == ("Wer kommt?", [f"{CODER} ich", "nicht"])


async def test_meeting_titles_and_places(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    day = (ag2.clock.now + timedelta(days=3)).strftime("%d.%m.%Y")
    replies = await ag2.anna.say(
        "anna",
        f"/meeting ag2 {day} 18:00 Plenum{RLO} {CODER}{ZWSP} --ort Haus\u00a0der{PDI} Vereine",
    )
    assert replies and RLO not in replies[0]
    async with bot.app.services.db.read() as session:
        meeting = await session.scalar(select(Meeting))
    assert meeting is not None
    assert (meeting.title, meeting.place) == (f"Plenum {CODER}", "Haus der Vereine")


async def test_card_fields(bot: BotHarness) -> None:
    dm = bot.dm("olga")
    await dm.say("olga", f"/card name Ol{ZWSP}ga{RLO} Bei{LRI}spiel")
    await dm.say("olga", f"/card about Zeile{ZWSP} 1\nZeile{RLO} 2 {CODER}")
    async with bot.app.services.db.read() as session:
        card = await session.scalar(select(Card))
    assert card is not None
    assert (card.name, card.about) == ("Olga Beispiel", f"Zeile 1\nZeile 2 {CODER}")
    [shown] = await dm.say("olga", "/card")
    assert "Olga Beispiel" in shown and ZWSP not in shown
