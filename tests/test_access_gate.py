"""The way into an AG's chats and out of them, as a chat with the bot: /join offers the
way in (privately), join requests are answered for members, /leave removes where the AG
wants it, missing rights are told once and shown in /ag info. The network is a recording
fake with doors (tests/support/doors.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.admission import ChatRight, JoinAsked
from tests.support.doors import DoorsTransport
from tests.support.fake import BotHarness

AG2 = "Transparenz und Beteiligung (ag2)"
WELCOME = f"Willkommen in der AG {AG2}! Mit /my siehst du deine AGs, mit /leave ag2 trittst du wieder aus."
WAYS = f"So kommst du in die Chats der AG {AG2}:\n• Ag2-Gruppe: https://t.me/+fake1 – frag dort den Beitritt an, ich nehme dich auf."


@pytest.fixture
async def bot(sqlite_url: str) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.create(sqlite_url, transport=DoorsTransport())
    await harness.group("ag2-gruppe").say("admin", "/link ag2")
    yield harness
    await harness.close()


def doors_of(bot: BotHarness) -> DoorsTransport:
    assert isinstance(bot.transport, DoorsTransport)
    return bot.transport


async def request_join(bot: BotHarness, who: str, chat: str = "ag2-gruppe") -> None:
    dispatcher = bot.app.dispatcher
    await dispatcher.join_requested(JoinAsked(bot.group(chat).ref, bot.user(who)))
    await dispatcher.drain()


async def sent_by(bot: BotHarness, who: str, text: str) -> list[tuple[str, str]]:
    """Everything the bot wrote, anywhere, after `who` wrote `text` privately."""
    before = len(doors_of(bot).sent)
    await bot.dm(who).say(who, text)
    return [(s.chat.id, s.text) for s in doors_of(bot).sent[before:]]


async def make_lead(bot: BotHarness, who: str) -> None:
    await bot.dm(who).say(who, "/join ag1")  # known to the bot, so /lead finds them
    assert await bot.dm("admin").say("admin", f"/lead ag2 @{who}") == [
        f"@{who} leitet jetzt die AG {AG2}."
    ]


async def test_join_in_a_private_chat_answers_with_the_link(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/join ag2") == [WELCOME, WAYS]


async def test_the_link_is_made_once_per_chat_and_reused(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag2")
    assert await bot.dm("ben").say("ben", "/join ag2") == [WELCOME, WAYS]
    assert doors_of(bot).links_made == ["https://t.me/+fake1"]
    assert doors_of(bot).let_in_calls[-1] == ("ag2-gruppe", "ben", "https://t.me/+fake1")


async def test_topics_of_one_group_share_one_link(bot: BotHarness) -> None:
    """Two AGs in two topics of one forum group: one group, so one link, not one per topic."""
    await bot.group("-1001/77").say("admin", "/link ag1")
    await bot.group("-1001/88").say("admin", "/link ag3")
    await bot.dm("alice").say("alice", "/join ag1")
    [ways] = (await bot.dm("ben").say("ben", "/join ag3"))[1:]
    assert doors_of(bot).links_made == ["https://t.me/+fake1"]
    assert ways.endswith(
        "-1001/88: https://t.me/+fake1 – frag dort den Beitritt an, ich nehme dich auf."
    )


async def test_a_chat_the_person_is_in_already_is_not_offered(bot: BotHarness) -> None:
    doors_of(bot).inside.add(("ag2-gruppe", "alice"))
    assert await bot.dm("alice").say("alice", "/join ag2") == [WELCOME]
    assert await bot.dm("alice").say("alice", "/chats ag2") == [
        f"In alle Chats der AG {AG2}, die ich kenne, bist du schon drin."
    ]


async def test_join_in_a_group_sends_the_link_privately(bot: BotHarness) -> None:
    before = len(doors_of(bot).sent)
    await bot.group("andere").say("alice", "/join ag2")
    sent = [(s.chat.id, s.text) for s in doors_of(bot).sent[before:]]
    assert sent == [
        ("andere", WELCOME),
        ("dm-alice", WAYS),
        ("andere", f"Wie du in die Chats der AG {AG2} kommst, habe ich dir privat geschickt."),
    ]


async def test_join_in_a_group_without_a_private_chat_says_how(bot: BotHarness) -> None:
    doors_of(bot).unreachable.add("alice")
    assert await bot.group("andere").say("alice", "/join ag2") == [
        WELCOME,
        f"Wie du in die Chats der AG {AG2} kommst, sage ich dir nur privat. Öffne den privaten "
        "Chat mit mir (https://example.org/start-bot) und schreib dort /chats ag2.",
    ]
    assert "t.me" not in "".join(s.text for s in doors_of(bot).sent)


async def test_chats_lists_the_ways_again(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag2")
    assert await bot.dm("alice").say("alice", "/zugang ag2") == [WAYS]


async def test_an_approved_request_gets_the_way_in_privately(bot: BotHarness) -> None:
    admin = bot.dm("admin")
    await admin.say("admin", "/ag policy ag2 anfrage")
    await bot.dm("ben").say("ben", "/join ag2")
    await admin.say("admin", "/approve ag2 @ben")
    texts = [s.text for s in doors_of(bot).sent if s.chat.id == "dm-ben"]
    assert texts[-1] == WAYS


async def test_missing_invite_right_is_told_once_to_the_leads_and_shown_in_ag_info(
    bot: BotHarness,
) -> None:
    doors_of(bot).lacking.add(("ag2-gruppe", ChatRight.INVITE))
    await make_lead(bot, "lena")
    missing = (
        f"So kommst du in die Chats der AG {AG2}:\n• Ag2-Gruppe: Hier kann ich dich noch nicht "
        "hineinlassen, mir fehlt ein Recht. Die Leitung der AG weiß Bescheid."
    )
    told = f"AG {AG2}: Mir fehlt in Ag2-Gruppe das Recht „Mitglieder einladen“."
    assert await sent_by(bot, "alice", "/join ag2") == [
        ("dm-alice", WELCOME),
        ("dm-lena", told),
        ("dm-alice", missing),
    ]
    before = len(doors_of(bot).sent)
    assert await bot.dm("ben").say("ben", "/join ag2") == [WELCOME, missing]
    assert not [s for s in doors_of(bot).sent[before:] if s.chat.id == "dm-lena"]

    info = await bot.dm("lena").say("lena", "/ag info ag2")
    assert info[0].splitlines()[-2:] == [
        "Chats:",
        "• Ag2-Gruppe (Fake) – mir fehlt: Mitglieder einladen",
    ]

    doors_of(bot).lacking.clear()
    await bot.dm("carl").say("carl", "/join ag2")
    info = await bot.dm("lena").say("lena", "/ag info ag2")
    assert info[0].splitlines()[-1] == "• Ag2-Gruppe (Fake) – Einladungslink: https://t.me/+fake1"


async def test_missing_right_of_an_ag_without_leads_is_told_to_the_admins(
    bot: BotHarness,
) -> None:
    doors_of(bot).lacking.add(("ag2-gruppe", ChatRight.INVITE))
    told = f"AG {AG2}: Mir fehlt in Ag2-Gruppe das Recht „Mitglieder einladen“."
    assert ("dm-admin", told) in await sent_by(bot, "alice", "/join ag2")
    assert not [t for t in await sent_by(bot, "ben", "/join ag2") if t[0] == "dm-admin"]


async def test_ag_info_shows_settings_and_counts(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag2")
    [info] = await bot.dm("admin").say("admin", "/ag info ag2")
    assert info.splitlines()[0] == AG2
    assert info.splitlines()[2:7] == [
        "Beitritt: offen",
        "Beitrittsanfragen von Nicht-Mitgliedern: den Admins überlassen",
        "Beim Austritt aus den Chats entfernen: nein",
        "Private Erinnerung an offene Umfragen: 1 Tag vor der Frist (Standard)",
        "Mitglieder: 1, davon Leitung: 0",
    ]
    [refused] = await bot.dm("alice").say("alice", "/ag info ag2")
    assert "dürfen nur" in refused


# --- join requests -------------------------------------------------------------------


async def test_a_members_join_request_is_approved_and_told_privately(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag2")
    await request_join(bot, "alice")
    assert doors_of(bot).answers == [("ag2-gruppe", "alice", True)]
    assert doors_of(bot).sent[-1].chat.id == "dm-alice"
    assert doors_of(bot).sent[-1].text == (
        f"Ich habe dich in Ag2-Gruppe aufgenommen, den Chat der AG {AG2}."
    )


async def test_a_strangers_request_is_left_to_the_admins_by_default(bot: BotHarness) -> None:
    await request_join(bot, "mallory")
    assert doors_of(bot).answers == []


async def test_a_strangers_request_is_declined_when_the_ag_says_so(bot: BotHarness) -> None:
    assert await bot.dm("admin").say("admin", "/ag requests ag2 ablehnen") == [
        f"Beitrittsanfragen zu den Chats der AG {AG2} von Leuten, die nicht in der AG sind, "
        "lehne ich ab. Mitglieder nehme ich auf."
    ]
    await request_join(bot, "mallory")
    assert doors_of(bot).answers == [("ag2-gruppe", "mallory", False)]


async def test_a_request_to_a_chat_of_no_ag_is_not_touched(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag2")
    await request_join(bot, "alice", chat="fremd")
    assert doors_of(bot).answers == []


async def test_a_request_to_a_topic_group_counts_any_ag_of_its_topics(bot: BotHarness) -> None:
    await bot.group("-1001/77").say("admin", "/link ag3")
    await bot.dm("alice").say("alice", "/join ag3")
    await request_join(bot, "alice", chat="-1001")
    assert doors_of(bot).answers == [("-1001", "alice", True)]


async def test_ag_requests_rejects_an_unknown_word(bot: BotHarness) -> None:
    assert await bot.dm("admin").say("admin", "/ag requests ag2 vielleicht") == [
        "So geht's: /ag requests ag2 ablehnen|admins"
    ]


# --- /leave --------------------------------------------------------------------------


async def test_leave_removes_nobody_by_default(bot: BotHarness) -> None:
    doors_of(bot).inside.add(("ag2-gruppe", "alice"))
    await bot.dm("alice").say("alice", "/join ag2")
    assert await bot.dm("alice").say("alice", "/leave ag2") == [
        f"Du hast die AG {AG2} verlassen. Aus den Chats der AG entferne ich dich nicht; "
        "verlass sie selbst, wenn du magst."
    ]
    assert doors_of(bot).removed == []


async def test_leave_of_an_ag_without_chats_says_nothing_of_chats(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag1")
    assert await bot.dm("alice").say("alice", "/leave ag1") == [
        "Du hast die AG Nachhaltige Dorfentwicklung (ag1) verlassen."
    ]


async def test_leave_removes_from_the_chats_when_the_ag_says_so(bot: BotHarness) -> None:
    assert await bot.dm("admin").say("admin", "/ag leave ag2 entfernen") == [
        f"Wer die AG {AG2} mit /leave ag2 verlässt, den entferne ich aus ihren Chats "
        "(außer aus Chats, in denen eine andere AG der Person verbunden ist)."
    ]
    doors_of(bot).inside.add(("ag2-gruppe", "alice"))
    await bot.dm("alice").say("alice", "/join ag2")
    assert await bot.dm("alice").say("alice", "/leave ag2") == [
        f"Du hast die AG {AG2} verlassen. Aus ihren Chats habe ich dich entfernt: Ag2-Gruppe."
    ]
    assert doors_of(bot).removed == [("ag2-gruppe", "alice")]


async def test_leave_keeps_a_member_of_another_ag_in_the_same_chat(bot: BotHarness) -> None:
    await bot.dm("admin").say("admin", "/ag leave ag2 entfernen")
    await bot.group("ag2-gruppe").say("admin", "/link ag3")
    doors_of(bot).inside.add(("ag2-gruppe", "alice"))
    await bot.dm("alice").say("alice", "/join ag2 ag3")
    assert await bot.dm("alice").say("alice", "/leave ag2") == [
        f"Du hast die AG {AG2} verlassen. In Ag2-Gruppe bleibst du, weil dort auch eine "
        "andere AG von dir ist."
    ]
    assert doors_of(bot).removed == []


async def test_leave_without_the_right_says_so_and_tells_the_leads(bot: BotHarness) -> None:
    await bot.dm("admin").say("admin", "/ag leave ag2 entfernen")
    await make_lead(bot, "lena")
    doors_of(bot).lacking.add(("ag2-gruppe", ChatRight.REMOVE))
    await bot.dm("alice").say("alice", "/join ag2")
    assert await sent_by(bot, "alice", "/leave ag2") == [
        ("dm-lena", f"AG {AG2}: Mir fehlt in Ag2-Gruppe das Recht „Mitglieder entfernen“."),
        (
            "dm-alice",
            f"Du hast die AG {AG2} verlassen. Aus Ag2-Gruppe konnte ich dich nicht entfernen, "
            "mir fehlt dort ein Recht; die Leitung der AG weiß Bescheid.",
        ),
    ]


async def test_ag_leave_shows_and_rejects_words(bot: BotHarness) -> None:
    assert await bot.dm("admin").say("admin", "/ag leave ag2") == [
        f"Wer die AG {AG2} mit /leave ag2 verlässt, bleibt in ihren Chats, bis er oder sie "
        "selbst geht."
    ]
    assert await bot.dm("admin").say("admin", "/ag leave ag2 egal") == [
        "So geht's: /ag leave ag2 entfernen|behalten"
    ]


async def test_chats_of_an_ag_without_any_chat_says_so(bot: BotHarness) -> None:
    """Not "you are in all of them already" when there is none at all."""
    await bot.dm("alice").say("alice", "/join ag3")
    assert await bot.dm("alice").say("alice", "/chats ag3") == [
        "Die AG Interne Struktur und Vernetzung (ag3) hat noch keinen Chat, den ich kenne. "
        "Ihre Leitung verbindet einen mit /link ag3 (in der Gruppe oder im Raum der AG)."
    ]
    await bot.dm("alice").say("alice", "/lang en")
    assert await bot.dm("alice").say("alice", "/chats ag3") == [
        "AG Interne Struktur und Vernetzung (ag3) has no chat I know of yet. Its leads link "
        "one with /link ag3 (in the AG's group or room)."
    ]


async def test_chats_only_on_a_network_without_an_account_of_theirs_point_to_connect(
    sqlite_url: str,
) -> None:
    """The AG's only chat is a Matrix room; Alice is on the other network only. "You are in
    all of them" would be false: she is told to link her Matrix account."""
    from tests.support.fake_spaces import FakeMatrix

    harness = await BotHarness.create(
        sqlite_url,
        admins=("matrix:admin",),
        transport=DoorsTransport(),
        more=(FakeMatrix(),),
    )
    try:
        assert (await harness.group("!ag2room", "matrix").say("admin", "!link ag2"))[0]
        await harness.dm("alice").say("alice", "/join ag2")
        assert await harness.dm("alice").say("alice", "/chats ag2") == [
            f"In die Chats der AG {AG2} auf Matrix bringe ich dich, sobald ich dein Konto dort "
            "kenne. Verbinde es mit diesem hier: /connect"
        ]
    finally:
        await harness.close()
