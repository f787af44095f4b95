"""Members only means members only: a stranger's /rsvp and /vote <id> show nothing of the
AG's meetings and polls and leave no trace in them; an AG "on request" lets people in only
after a lead approved them."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import ButtonPress, IncomingMessage, UserRef
from storage import repo
from storage.connect.merge import merge
from storage.models import JoinRequest
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


# --- AGs on request ----------------------------------------------------------------------

ASKED = (
    "Die AG Transparenz und Beteiligung (ag2) nimmt Mitglieder auf Anfrage auf. Ich habe die "
    "Leitung gefragt und sage dir privat Bescheid, sobald sie entschieden hat. Bis dahin "
    "siehst du nichts, was nur für Mitglieder ist. Zurückziehen: /leave ag2"
)


async def on_request(bot: BotHarness) -> None:
    """AG 2 with Anna as lead, Ben and Carl as members, taking new members on request."""
    await setup_ag(bot)
    [reply] = await bot.dm("anna").say("anna", "/ag policy ag2 anfrage")
    assert reply.startswith("Die AG Transparenz und Beteiligung (ag2) nimmt Mitglieder auf Anfrage")


async def test_an_ag_is_open_by_default(bot: BotHarness) -> None:
    await setup_ag(bot)
    [reply] = await bot.dm("ben").say("ben", "/ag policy ag2")
    assert reply == "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    [reply] = await bot.dm("anna").say("anna", "/ag policy ag2")
    assert reply.startswith("Die AG Transparenz und Beteiligung (ag2) ist offen")
    [reply] = await bot.dm("eve").say("eve", "/join ag2")
    assert reply.startswith("Willkommen in der AG")


async def test_join_asks_and_shows_nothing_until_a_lead_approves(bot: BotHarness) -> None:
    await on_request(bot)
    eve = bot.dm("eve")

    # (the harness records every send: Eve's answer, then the notice to Anna)
    assert (await eve.say("eve", "/join ag2"))[0] == ASKED
    assert "Neue Beitrittsanfrage für die AG Transparenz und Beteiligung (ag2): @eve." in (
        bot.dm("anna").last()
    )
    assert "/approve ag2 @eve" in bot.dm("anna").last()
    assert await eve.say("eve", "/join ag2") == [
        "Deine Anfrage für die AG Transparenz und Beteiligung (ag2) wartet schon auf die Leitung."
    ]
    for view in ("/members ag2", "/cards ag2", "/ics ag2"):
        assert await eve.say("eve", view) == [MEMBERS_ONLY], view
    [reply] = await eve.say("eve", "/my")
    assert reply.startswith("Du bist noch in keiner AG.")

    # Eve is told privately first, then Anna gets the answer.
    *_, reply = await bot.dm("anna").say("anna", "/approve ag2 @eve")
    assert reply == "@eve ist jetzt Mitglied der AG Transparenz und Beteiligung (ag2)."
    assert eve.last().startswith(
        "Die Leitung der AG Transparenz und Beteiligung (ag2) hat deine Anfrage angenommen."
    )
    [members] = await eve.say("eve", "/members ag2")
    assert "@eve – Mitglied" in members and "@ben" in members


async def test_decline_by_button_and_the_requester_is_told(bot: BotHarness) -> None:
    await on_request(bot)
    await bot.dm("dora").say("dora", "/join ag2")

    replies = await bot.dm("anna").say("anna", "/requests")
    assert replies == ["Anfrage für die AG Transparenz und Beteiligung (ag2): @dora"]
    chat, buttons = bot.transport.buttons[-1]
    assert chat.id == "dm-anna"
    no = next(b.data for b in buttons if b.data.endswith(":no"))

    # A plain member cannot answer, not even with the lead's button.
    press = ButtonPress(bot.dm("ben").ref, bot.user("ben"), no, "cb-1")
    toast = await bot.app.dispatcher.button_pressed(press)
    assert toast == "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    assert await bot.dm("ben").say("ben", "/decline ag2 @dora") == [toast]

    press = ButtonPress(bot.dm("anna").ref, bot.user("anna"), no, "cb-2")
    toast = await bot.app.dispatcher.button_pressed(press)
    assert (
        toast == "Die Anfrage von Dora für die AG Transparenz und Beteiligung (ag2) ist abgelehnt."
    )
    assert bot.dm("dora").last() == (
        "Die Leitung der AG Transparenz und Beteiligung (ag2) hat deine Anfrage abgelehnt."
    )
    assert await bot.dm("dora").say("dora", "/members ag2") == [MEMBERS_ONLY]
    assert await bot.dm("anna").say("anna", "/requests") == ["Keine offenen Beitrittsanfragen."]
    # The same button again: already answered.
    toast = await bot.app.dispatcher.button_pressed(press)
    assert toast == "Diese Anfrage ist schon beantwortet."


async def test_leave_takes_a_request_back(bot: BotHarness) -> None:
    await on_request(bot)
    await bot.dm("eve").say("eve", "/join ag2")
    assert await bot.dm("eve").say("eve", "/leave ag2") == [
        "Deine Anfrage für die AG Transparenz und Beteiligung (ag2) ist zurückgezogen."
    ]
    assert await bot.dm("anna").say("anna", "/approve ag2 eve") == [
        "Eine offene Anfrage von „eve“ für die AG Transparenz und Beteiligung (ag2) finde ich "
        "nicht. /requests zeigt sie."
    ]


async def test_requests_in_a_group_go_to_the_lead_privately(bot: BotHarness) -> None:
    await on_request(bot)
    await bot.dm("eve").say("eve", "/join ag2")
    group = bot.group("ag2-gruppe")
    replies = await group.say("anna", "/requests")
    assert replies[-1] == "Ich habe es dir privat geschickt."
    assert bot.dm("anna").last() == (
        "Offene Beitrittsanfragen:\n"
        "• Transparenz und Beteiligung (ag2): @eve – /approve ag2 @eve · /decline ag2 @eve"
    )
    assert await bot.dm("ben").say("ben", "/requests") == [
        "Das dürfen nur die Leitungen der AGs und Admins."
    ]


# --- a request is the person's data ----------------------------------------------------------


async def requests_in_db(bot: BotHarness) -> list[tuple[int, int]]:
    async with bot.app.services.db.read() as session:
        rows = await session.execute(select(JoinRequest.person_id, JoinRequest.ag_id))
        return [(p, a) for p, a in rows.all()]


async def test_privacy_says_what_joining_an_open_ag_shows(bot: BotHarness) -> None:
    [reply] = await bot.dm("eve").say("eve", "/privacy")
    assert "Einer offenen AG kann jede Person mit einem Befehl beitreten." in reply
    assert "Visitenkarten ihrer Mitglieder mit den Kontaktangaben" in reply
    assert "Deine Beitrittsanfragen" in reply


async def test_a_request_is_in_mydata_and_gone_after_forget(bot: BotHarness) -> None:
    await on_request(bot)
    await bot.dm("eve").say("eve", "/join ag2")
    await bot.dm("eve").say("eve", "/mydata")
    data = json.loads(bot.transport.files[-1].data)
    assert [r["ag"] for r in data["join_requests"]] == ["ag2"]

    await bot.dm("eve").say("eve", "/forget")
    await bot.dm("eve").say("eve", "/forget JA")
    assert await requests_in_db(bot) == []
    assert await bot.dm("anna").say("anna", "/requests") == ["Keine offenen Beitrittsanfragen."]


async def test_linking_two_people_moves_a_request_along(bot: BotHarness) -> None:
    await on_request(bot)
    await bot.dm("eve").say("eve", "/join ag2")

    async def ids(session: AsyncSession) -> tuple[int, int, int]:
        eve = await repo.find_account(session, "fake", "eve")
        ben = await repo.find_account(session, "fake", "ben")
        ag2 = await repo.ag_by_slug(session, "ag2")
        assert eve and ben and ag2
        return eve.person_id, ben.person_id, ag2.id

    eve, ben, ag2 = await bot.app.services.db.run(ids)
    # Into a person that has no request of its own: the request moves along.
    zoe = await bot.app.services.db.run(
        lambda s: repo.ensure_account(s, "fake", "zoe", "Zoe", "zoe")
    )
    await bot.app.services.db.run(lambda s: merge(s, zoe.person_id, eve))
    assert await requests_in_db(bot) == [(zoe.person_id, ag2)]
    # Into a member of that AG: the request is dropped, the membership stays.
    await bot.app.services.db.run(lambda s: merge(s, ben, zoe.person_id))
    assert await requests_in_db(bot) == []


async def test_a_malformed_or_stale_request_button_is_ignored_for_anyone(bot: BotHarness) -> None:
    """Only a button of a request for an existing AG needs a lead: anything else is
    ignored (no toast), also for someone who leads nothing."""
    await on_request(bot)
    for data in ("join:x", "join:2:1:maybe", "join:999:1:yes"):
        press = ButtonPress(bot.dm("ben").ref, bot.user("ben"), data, "cb-1")
        assert await bot.app.dispatcher.button_pressed(press) is None
