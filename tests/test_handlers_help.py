"""Help, greeting, language, and how the bot answers what it does not understand, a
crash or a quick second message."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.commands.dispatch import Dispatcher
from bot.core import IncomingMessage
from storage import membership
from tests.support.fake import BotHarness
from tests.support.state import knows, roles_of

APOLOGY = "Da ist bei mir etwas schiefgegangen. Bitte versuch es gleich noch einmal."

MEMBER_LINES = [
    "• /ags – Alle AGs mit Beschreibung und Mitgliederzahl",
    "• /help [Befehl] – Zeigt, was du hier tun kannst, oder erklärt einen Befehl",
    "• /join [AG] – Einer AG beitreten",
    "• /lang [de|en] – Sprache wählen (de oder en)",
    "• /leave [AG] – Eine AG verlassen",
    "• /members [AG] – Die Mitglieder einer AG (nur für ihre Mitglieder)",
    "• /my – Meine AGs und meine Rolle darin",
    "• /start – Begrüßung und erste Schritte",
    "• /whoami – Zeigt deine Konto-Kennung (z. B. für die Admin-Liste)",
]
ADMIN_LINES = [
    "• /ag archive AG – Eine AG archivieren (Mitglieder und Chats bleiben erhalten)",
    "• /ag edit AG name|beschreibung neuer Text – Name oder Beschreibung einer AG ändern",
    "• /ag new Kürzel Name -- Beschreibung – Eine neue AG anlegen",
    "• /ag restore AG – Eine archivierte AG zurückholen",
    "• /lead AG @Person – Jemanden zur Leitung einer AG machen",
    "• /unlead AG @Person – Jemandem die Leitung einer AG abnehmen (bleibt Mitglied)",
]
LEAD_LINES = [
    "• /link AG – Diesen Chat mit einer AG verbinden",
    "• /unlink [AG] – Die Verbindung dieses Chats zu einer AG lösen",
]


# What /help in a group shows everyone: the everyday commands (the rest privately).
GROUP_LINES = [
    "• /ags – Alle AGs mit Beschreibung und Mitgliederzahl",
    "• /help [Befehl] – Zeigt, was du hier tun kannst, oder erklärt einen Befehl",
    "• /join [AG] – Einer AG beitreten",
    "• /leave [AG] – Eine AG verlassen",
    "• /meetings [AG] – Die nächsten Treffen deiner AGs oder einer AG (Leitung: --verpasst "
    "zeigt verpasste Erinnerungen)",
    "• /my – Meine AGs und meine Rolle darin",
    "• /polls – Laufende und letzte Umfragen deiner AGs",
    "• /results [Umfrage] – Das Ergebnis einer Umfrage über alle Netzwerke, mit Diagramm",
    "• /rsvp Kennung ja|nein|vielleicht – Zu einem Treffen zusagen, absagen oder „vielleicht“ "
    "sagen",
    "• /vote Umfrage und Nummer – Bei einer Umfrage abstimmen (Nummer der Antwort; - zieht zurück)",
]
GROUP_ONLY_LINES = [
    "• /ag topic AG – Ein eigenes Thema für eine AG in dieser Forum-Gruppe anlegen und verbinden",
    "• /link AG – Diesen Chat mit einer AG verbinden",
    "• /unlink [AG] – Die Verbindung dieses Chats zu einer AG lösen",
    "• /welcome [an|aus] – Neue Leute in diesem Chat begrüßen oder nicht (an/aus)",
]
GROUP_HEADER = "Das Wichtigste hier in der Gruppe:"
GROUP_FOOTER = (
    "Alle Befehle zeige ich dir im privaten Chat mit mir: /help. Mehr zu einem Befehl: /help join"
)


async def help_lines(bot: BotHarness, who: str, *, group: str | None = None) -> list[str]:
    chat = bot.group(group) if group else bot.dm(who)
    # An admin's list outgrew one message (4,096 characters) with issue 15: the parts, in order.
    rows = "\n".join(await chat.say(who, "/help")).splitlines()
    if group:
        assert rows[0] == GROUP_HEADER
        assert rows[-1] == GROUP_FOOTER
    else:
        assert rows[0] == "Das kannst du hier tun:"
        assert rows[-1] == "Mehr zu einem Befehl: /help join"
    return rows[1:-1]


# --- /help ---------------------------------------------------------------------------


async def test_help_for_a_member_in_a_private_chat(bot: BotHarness) -> None:
    shown = await help_lines(bot, "alice")

    assert all(line in shown for line in MEMBER_LINES)
    assert not any(line in shown for line in ADMIN_LINES + LEAD_LINES)


async def test_help_for_an_admin_in_a_private_chat_leaves_out_group_commands(
    bot: BotHarness,
) -> None:
    shown = await help_lines(bot, "admin")

    assert all(line in shown for line in MEMBER_LINES + ADMIN_LINES)
    assert not any(line in shown for line in LEAD_LINES)


async def test_help_in_a_group_is_short_and_points_to_the_private_chat(bot: BotHarness) -> None:
    assert await bot.group("ag2-gruppe").say("bob", "/help") == [
        "\n".join([GROUP_HEADER, *GROUP_LINES, GROUP_FOOTER])
    ]


async def test_help_for_an_admin_in_a_group_adds_the_group_only_commands(bot: BotHarness) -> None:
    shown = await help_lines(bot, "admin", group="ag2-gruppe")

    assert shown == sorted(GROUP_LINES + GROUP_ONLY_LINES), "alphabetical"
    assert not any(line in shown for line in ADMIN_LINES)


async def test_help_for_a_lead_in_a_group_shows_link_but_not_admin_commands(
    bot: BotHarness,
) -> None:
    await bot.dm("carl").say("carl", "/join ag2")
    await bot.dm("admin").say("admin", "/lead ag2 @carl")

    shown = await help_lines(bot, "carl", group="ag2-gruppe")

    assert all(line in shown for line in GROUP_LINES + LEAD_LINES)
    assert not any(line in shown for line in ADMIN_LINES)


async def test_help_for_a_member_in_a_group_has_no_lead_commands(bot: BotHarness) -> None:
    await bot.dm("bob").say("bob", "/join ag2")

    shown = await help_lines(bot, "bob", group="ag2-gruppe")

    assert shown == GROUP_LINES
    assert not any(line in shown for line in ADMIN_LINES + LEAD_LINES)


async def test_help_makes_the_writer_known_so_an_admin_can_name_them(bot: BotHarness) -> None:
    # The refusal for unknown people says to write /help first; that must be enough.
    [refusal] = await bot.dm("admin").say("admin", "/lead ag2 @carl")
    assert refusal.endswith("Die Person muss mir zuerst einmal schreiben (z. B. /help).")

    await bot.dm("carl").say("carl", "/help")

    assert await knows(bot, "carl")
    assert await bot.dm("admin").say("admin", "/lead ag2 @carl") == [
        "@carl leitet jetzt die AG Transparenz und Beteiligung (ag2)."
    ]


async def test_help_for_one_command(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/help join") == [
        "/join [AG] – Einer AG beitreten\n"
        "Beispiel: /join ag2\n"
        "Beispiel: /join ag2 ag3\n"
        "Beispiel: /join transparenz\n"
        "Auch: /beitreten, /anmelden"
    ]


@pytest.mark.parametrize("topic", ["/members", "mitglieder", "MEMBERS"])
async def test_help_for_a_command_names_who_may_use_it(bot: BotHarness, topic: str) -> None:
    [reply] = await bot.dm("alice").say("alice", f"/help {topic}")

    assert reply.splitlines() == [
        "/members [AG] – Die Mitglieder einer AG (nur für ihre Mitglieder)",
        "Beispiel: /members ag2",
        "Auch: /mitglieder",
        "Für Mitglieder der AG.",
    ]


async def test_help_for_admin_and_group_only_commands_says_so(bot: BotHarness) -> None:
    [ag_new] = await bot.dm("alice").say("alice", "/help ag new")
    [link] = await bot.dm("alice").say("alice", "/hilfe link")

    assert ag_new.splitlines()[-1] == "Nur für Admins."
    assert link.splitlines()[-2:] == [
        "Für die Leitung der AG und Admins.",
        "Nur in Gruppen und Räumen.",
    ]


async def test_help_for_an_unknown_command(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/help tanzen") == [
        "Den Befehl „tanzen“ gibt es nicht. /help zeigt alle."
    ]


@pytest.mark.parametrize("text", ["/ag", "/help ag"])
async def test_ag_without_a_sub_command_lists_the_sub_commands(bot: BotHarness, text: str) -> None:
    [reply] = await bot.dm("alice").say("alice", text)

    assert reply.splitlines() == [
        "/ag braucht einen Unterbefehl:",
        "• /ag archive AG – Eine AG archivieren (Mitglieder und Chats bleiben erhalten)",
        "• /ag edit AG name|beschreibung neuer Text – Name oder Beschreibung einer AG ändern",
        "• /ag info [AG] – Alles über eine AG: Einstellungen, Mitglieder, Chats und fehlende Rechte",
        "• /ag leave AG [entfernen|behalten] – Ob Austretende auch aus den Chats der AG "
        "entfernt werden",
        "• /ag new Kürzel Name -- Beschreibung – Eine neue AG anlegen",
        "• /ag nudge AG [Dauer|aus|standard] – Wie lange vor einer Frist an Umfragen erinnert wird (oder aus)",
        "• /ag policy AG [offen|anfrage] – Wie man einer AG beitritt: offen oder auf Anfrage",
        "• /ag requests AG [ablehnen|admins] – Beitrittsanfragen von Nicht-Mitgliedern zu den "
        "Chats einer AG: ablehnen oder den Admins überlassen",
        "• /ag restore AG – Eine archivierte AG zurückholen",
        "• /ag room AG – Einen Matrix-Raum für eine AG anlegen, im Space des Bündnisses",
        "• /ag topic AG – Ein eigenes Thema für eine AG in dieser Forum-Gruppe anlegen und verbinden",
    ]


# --- /start, /whoami -------------------------------------------------------------------


async def test_start_greets_by_name_with_first_steps(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/start") == [
        "Hallo Alice! Ich bin der Bündnisbot und helfe bei der Arbeit in den AGs des Bündnisses.\n"
        "So geht's los:\n"
        "• /ags zeigt alle AGs\n"
        "• /join ag2 – einer AG beitreten\n"
        "• /my – deine AGs\n"
        "• /lang en – switch to English\n"
        "• /help – alle Befehle"
    ]


async def test_whoami_shows_the_account_id_and_the_admin_role(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/whoami") == ["Deine Konto-Kennung: fake:alice"]
    assert await bot.dm("admin").say("admin", "/id") == [
        "Deine Konto-Kennung: fake:admin\nDu bist Admin des Bündnisses."
    ]


# --- /lang ---------------------------------------------------------------------------


async def test_lang_en_switches_the_replies_to_english(bot: BotHarness) -> None:
    dm = bot.dm("alice")
    await dm.say("alice", "/join ag2")

    assert await dm.say("alice", "/lang en") == ["From now on I'll write to you in English."]
    assert await dm.say("alice", "/my") == [
        "Your AGs:\n• Transparenz und Beteiligung (ag2) – member"
    ]
    assert await dm.say("alice", "/join ag9") == [
        "I don't know the AG “ag9”. Valid are: ag1, ag2, ag3."
    ]
    # The choice belongs to the person; a group keeps its own language.
    [group_reply] = await bot.group("ag2-gruppe").say("alice", "/help")
    assert group_reply.startswith(GROUP_HEADER)

    assert await dm.say("alice", "/sprache de") == ["Ich schreibe dir ab jetzt auf Deutsch."]
    assert (await dm.say("alice", "/my"))[0].startswith("Deine AGs:")


async def test_lang_without_a_language_names_the_current_one(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/lang") == [
        "Deine Sprache ist Deutsch. Wählbar: de, en, z. B. /lang en."
    ]


async def test_an_unknown_language_is_refused_and_nothing_changes(bot: BotHarness) -> None:
    dm = bot.dm("alice")

    assert await dm.say("alice", "/lang xx") == ["Die Sprache „xx“ gibt es nicht. Wählbar: de, en."]
    assert (await dm.say("alice", "/my"))[0].startswith("Du bist noch in keiner AG.")


# --- what the bot does not understand -----------------------------------------------------


async def test_an_unknown_command_in_a_private_chat_is_answered(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/tanzen") == [
        "Den Befehl kenne ich nicht. /help zeigt, was ich kann."
    ]


@pytest.mark.parametrize("where", ["dm", "group"])
async def test_a_close_typo_gets_a_suggestion(bot: BotHarness, where: str) -> None:
    chat = bot.dm("alice") if where == "dm" else bot.group("ag2-gruppe")

    assert await chat.say("alice", "/jion ag2") == ["Meintest du /join ag2?"]
    assert await roles_of(bot, "alice") == {}


async def test_an_unrelated_unknown_command_in_a_group_is_left_to_other_bots(
    bot: BotHarness,
) -> None:
    assert await bot.group("ag2-gruppe").say("alice", "/tanzen") == []


# --- crashes and order ----------------------------------------------------------------------


async def test_a_crash_gets_an_apology_without_details_and_the_bot_carries_on(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_join(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("connection to 10.0.0.7 reset; token=abc123")

    original_join = membership.join_alone
    monkeypatch.setattr(membership, "join_alone", broken_join)
    dm = bot.dm("alice")

    with caplog.at_level(logging.ERROR, logger="bot.commands.dispatch"):
        replies = await dm.say("alice", "/join ag2")

    assert replies == [APOLOGY]
    assert "Traceback" not in replies[0]
    assert "10.0.0.7" not in replies[0]
    [logged] = [r for r in caplog.records if r.name == "bot.commands.dispatch"]
    assert logged.exc_info is not None
    assert "join ag2" not in logged.getMessage(), "message bodies stay out of the log"

    monkeypatch.setattr(membership, "join_alone", original_join)
    assert (await dm.say("alice", "/join ag2"))[0].startswith("Willkommen")
    assert (await bot.dm("bob").say("bob", "/ags"))[0].startswith("Die AGs des Bündnisses:")


async def test_one_senders_messages_are_handled_in_order(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice's /join is held up; her /my, sent right after, must wait for it."""
    dispatcher: Dispatcher = bot.app.dispatcher
    handle = dispatcher.handle
    gate = asyncio.Event()
    first_started = asyncio.Event()
    started: list[str] = []

    async def observed(message: IncomingMessage) -> None:
        started.append(message.text)
        if message.text == "join ag2":
            first_started.set()
            await gate.wait()
        await handle(message)

    monkeypatch.setattr(dispatcher, "handle", observed)
    dm = bot.dm("alice")
    alice = bot.user("alice")
    first = await dispatcher.message(IncomingMessage(dm.ref, alice, "join ag2", "1"))
    second = await dispatcher.message(IncomingMessage(dm.ref, alice, "my", "2"))

    # Both tasks have taken their first step once the first one reports in.
    await first_started.wait()
    assert started == ["join ag2"], "the second message overtook the first"
    assert not second.done()

    gate.set()
    await asyncio.gather(first, second)
    assert started == ["join ag2", "my"]
    assert [s.text.splitlines()[0] for s in bot.transport.sent] == [
        "Willkommen in der AG Transparenz und Beteiligung (ag2)! Mit /my siehst du deine AGs, "
        "mit /leave ag2 trittst du wieder aus.",
        "Deine AGs:",
    ]
