"""What every member does: /join, /leave, /ags, /my, /members, as a chat with the bot."""

from __future__ import annotations

import pytest

from bot.core import IncomingMessage, UserRef
from storage import repo
from tests.support.fake import BotHarness
from tests.support.state import knows, roles_of

AG2 = "Transparenz und Beteiligung (ag2)"
WELCOME_AG2 = f"Willkommen in der AG {AG2}! Mit /my siehst du deine AGs, mit /leave ag2 trittst du wieder aus."


async def link_group_to_ag2(bot: BotHarness, name: str = "ag2-gruppe") -> None:
    assert await bot.group(name).say("admin", "/link ag2") == [
        f"Dieser Chat gehört jetzt zur AG {AG2}. Hier kann man mit /join beitreten."
    ]


# --- /join ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    ["ag2", "AG2", "AG 2", "ag 2", "2", "#2", "transparenz", "Transparenz und Beteiligung"],
)
async def test_join_understands_every_way_of_naming_an_ag(bot: BotHarness, reference: str) -> None:
    dm = bot.dm("alice")

    assert await dm.say("alice", f"/join {reference}") == [WELCOME_AG2]
    assert await roles_of(bot, "alice") == {"ag2": "member"}


async def test_join_by_the_german_alias(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/beitreten ag3") == [
        "Willkommen in der AG Interne Struktur und Vernetzung (ag3)! "
        "Mit /my siehst du deine AGs, mit /leave ag3 trittst du wieder aus."
    ]
    assert await roles_of(bot, "alice") == {"ag3": "member"}


async def test_joining_twice_says_so_and_stores_one_membership(bot: BotHarness) -> None:
    dm = bot.dm("alice")
    await dm.say("alice", "/join ag2")

    assert await dm.say("alice", "/join AG 2") == [f"Du bist schon in der AG {AG2}."]
    assert await roles_of(bot, "alice") == {"ag2": "member"}


async def test_unknown_ag_lists_the_valid_ids_and_stores_nothing(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/join ag9") == [
        "Die AG „ag9“ kenne ich nicht. Gültig sind: ag1, ag2, ag3."
    ]
    assert await roles_of(bot, "alice") == {}


async def test_a_word_in_two_ag_names_asks_for_the_number(bot: BotHarness) -> None:
    # "und" is in "Transparenz und Beteiligung" and "Interne Struktur und Vernetzung".
    assert await bot.dm("alice").say("alice", "/join und") == [
        "„und“ passt zu mehreren AGs: ag2, ag3. Bitte gib die Nummer an."
    ]
    assert await roles_of(bot, "alice") == {}


async def test_join_without_an_ag_in_a_private_chat_explains_the_usage(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/join") == [
        "Da fehlt noch etwas: AG.\nSo geht's: /join AG\nBeispiel: /join ag2\nGültige AGs: ag1, ag2, ag3"
    ]
    assert await roles_of(bot, "alice") == {}


async def test_join_without_an_ag_in_a_linked_group_joins_that_ag(bot: BotHarness) -> None:
    await link_group_to_ag2(bot)

    assert await bot.group("ag2-gruppe").say("alice", "/join") == [WELCOME_AG2]
    assert await roles_of(bot, "alice") == {"ag2": "member"}


async def test_join_without_an_ag_in_an_unlinked_group_explains_the_usage(
    bot: BotHarness,
) -> None:
    replies = await bot.group("plauderecke").say("alice", "/join")

    assert replies == [
        "Da fehlt noch etwas: AG.\nSo geht's: /join AG\nBeispiel: /join ag2\nGültige AGs: ag1, ag2, ag3"
    ]


async def test_an_anonymous_group_admin_is_told_why_join_cannot_work(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")
    as_the_group = UserRef("fake", "-100200300", "AG 2 Gruppe", anonymous=True)
    message = IncomingMessage(chat=group.ref, sender=as_the_group, text="join ag2", message_id="9")

    await (await bot.app.dispatcher.message(message))

    assert group.last() == (
        "Du schreibst anonym im Namen der Gruppe, darum weiß ich nicht, wer du bist. "
        "Schalte „Anonym bleiben“ in deinen Admin-Rechten aus oder schreib mir privat."
    )
    async with bot.app.services.db.read() as session:
        assert await repo.find_account(session, "fake", "-100200300") is None


# --- /leave --------------------------------------------------------------------------


async def test_leave_an_ag(bot: BotHarness) -> None:
    dm = bot.dm("alice")
    await dm.say("alice", "/join ag2")
    await dm.say("alice", "/join ag3")

    assert await dm.say("alice", "/leave ag2") == [f"Du hast die AG {AG2} verlassen."]
    assert await roles_of(bot, "alice") == {"ag3": "member"}


async def test_leave_an_ag_you_are_not_in(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/leave ag2") == [f"Du bist nicht in der AG {AG2}."]


async def test_the_last_lead_leaving_is_told_the_ag_has_no_lead_now(bot: BotHarness) -> None:
    dm = bot.dm("carl")
    await dm.say("carl", "/join ag2")
    await bot.dm("admin").say("admin", "/lead ag2 @carl")

    assert await dm.say("carl", "/leave ag2") == [
        f"Du hast die AG {AG2} verlassen. "
        "Die AG hat jetzt keine Leitung mehr; ein Admin kann eine bestimmen."
    ]


async def test_a_lead_leaving_while_another_lead_stays_gets_no_warning(bot: BotHarness) -> None:
    for who in ("carl", "dora"):
        await bot.dm(who).say(who, "/join ag2")
        await bot.dm("admin").say("admin", f"/lead ag2 @{who}")

    assert await bot.dm("carl").say("carl", "/leave ag2") == [f"Du hast die AG {AG2} verlassen."]


async def test_leave_without_an_ag_in_a_linked_group(bot: BotHarness) -> None:
    await link_group_to_ag2(bot)
    group = bot.group("ag2-gruppe")
    await group.say("alice", "/join")

    assert await group.say("alice", "/austreten") == [
        f"Du hast die AG {AG2} verlassen. Aus den Chats der AG entferne ich dich nicht; "
        "verlass sie selbst, wenn du magst."
    ]
    assert await roles_of(bot, "alice") == {}


# --- /ags ----------------------------------------------------------------------------


async def test_ags_lists_descriptions_and_member_counts(bot: BotHarness) -> None:
    for who in ("alice", "bob"):
        await bot.dm(who).say(who, "/join ag2")
    await bot.dm("carl").say("carl", "/join ag3")

    [reply] = await bot.dm("alice").say("alice", "/ags")

    assert reply.splitlines() == [
        "Die AGs des Bündnisses:",
        "• ag1 Nachhaltige Dorfentwicklung – 0 Mitglieder",
        "   Strukturwandel durch inhaltliche Arbeit an nachhaltiger Dorfentwicklung – "
        "ökologisch, wirtschaftlich, sozial.",
        "• ag2 Transparenz und Beteiligung – 2 Mitglieder",
        "   Politische Entscheidungen im Strukturwandel beteiligungsorientierter und "
        "transparenter machen; neue Beteiligungsformate ausprobieren.",
        "• ag3 Interne Struktur und Vernetzung – 1 Mitglied",
        "   Interne Koordination des Bündnisses, langfristige Aufstellung, Arbeitsstruktur "
        "und Förderanträge.",
        "Beitreten mit /join <AG>, z. B. /join ag2.",
    ]


async def test_ags_hides_an_archived_ag(bot: BotHarness) -> None:
    await bot.dm("admin").say("admin", "/ag archive ag3")

    [reply] = await bot.dm("alice").say("alice", "/list")

    assert "ag1" in reply
    assert "ag2" in reply
    assert "ag3" not in reply
    assert "Interne Struktur" not in reply


# --- /my -----------------------------------------------------------------------------


async def test_my_for_someone_in_no_ag(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/my") == [
        "Du bist noch in keiner AG. /ags zeigt alle AGs, /join ag2 tritt einer bei."
    ]
    assert await knows(bot, "alice"), "any command makes a person known"


async def test_my_shows_each_ag_with_the_role(bot: BotHarness) -> None:
    dm = bot.dm("alice")
    await dm.say("alice", "/join ag2")
    await dm.say("alice", "/join ag3")
    await bot.dm("admin").say("admin", "/lead ag3 @alice")

    assert await dm.say("alice", "/my") == [
        f"Deine AGs:\n• {AG2} – Mitglied\n• Interne Struktur und Vernetzung (ag3) – Leitung"
    ]


async def test_my_marks_an_archived_ag(bot: BotHarness) -> None:
    dm = bot.dm("alice")
    await dm.say("alice", "/join ag3")
    await bot.dm("admin").say("admin", "/ag archive ag3")

    assert await dm.say("alice", "/meine") == [
        "Deine AGs:\n• Interne Struktur und Vernetzung (ag3) – Mitglied (archiviert)"
    ]


# --- /members ------------------------------------------------------------------------


async def _ag2_with_members(bot: BotHarness) -> None:
    for who in ("bob", "alice", "carl"):
        await bot.dm(who).say(who, "/join ag2")
    await bot.dm("admin").say("admin", "/lead ag2 @carl")


async def test_members_see_the_member_list_with_leads_first(bot: BotHarness) -> None:
    await _ag2_with_members(bot)

    assert await bot.dm("alice").say("alice", "/members ag2") == [
        "3 Mitglieder in Transparenz und Beteiligung:\n"
        "• @carl – Leitung\n"
        "• @alice – Mitglied\n"
        "• @bob – Mitglied"
    ]


async def test_a_stranger_gets_the_polite_refusal_not_the_list(bot: BotHarness) -> None:
    await _ag2_with_members(bot)

    replies = await bot.dm("eve").say("eve", "/members ag2")

    assert replies == [
        "Das sehen nur Mitglieder der AG „Transparenz und Beteiligung“. "
        "Mit /join ag2 kannst du beitreten."
    ]
    assert "@alice" not in replies[0]


async def test_a_member_of_another_ag_is_a_stranger_here(bot: BotHarness) -> None:
    await _ag2_with_members(bot)
    await bot.dm("eve").say("eve", "/join ag1")

    [reply] = await bot.dm("eve").say("eve", "/mitglieder ag2")

    assert reply.startswith("Das sehen nur Mitglieder der AG „Transparenz und Beteiligung“.")


async def test_an_admin_sees_the_members_without_joining(bot: BotHarness) -> None:
    await _ag2_with_members(bot)

    [reply] = await bot.dm("admin").say("admin", "/members ag2")

    assert reply.startswith("3 Mitglieder in Transparenz und Beteiligung:")
    assert await roles_of(bot, "admin") == {}


async def test_members_in_a_linked_group_without_naming_the_ag(bot: BotHarness) -> None:
    await link_group_to_ag2(bot)
    group = bot.group("ag2-gruppe")
    await group.say("alice", "/join")

    assert await group.say("alice", "/members") == [
        "1 Mitglied in Transparenz und Beteiligung:\n• @alice – Mitglied",
        "Ich habe es dir privat geschickt.",
    ]
    # The list went to alice's private chat, not to the group.
    assert bot.dm("alice").last().startswith("1 Mitglied in Transparenz")
    assert group.last() == "Ich habe es dir privat geschickt."


async def test_members_in_a_group_when_the_person_cannot_be_written_to_privately(
    bot: BotHarness,
) -> None:
    await link_group_to_ag2(bot)
    group = bot.group("ag2-gruppe")
    await group.say("alice", "/join")
    bot.transport.unreachable.add("alice")

    assert await group.say("alice", "/members") == [
        "Das schicke ich dir nur privat, aber ich kann dir noch nicht schreiben. "
        "Öffne bitte zuerst den privaten Chat mit mir: https://example.org/start-bot"
    ]


async def test_an_archived_ag_can_still_be_left(bot: BotHarness) -> None:
    dm = bot.dm("alice")
    await dm.say("alice", "/join ag3")
    await bot.dm("admin").say("admin", "/ag archive ag3")

    assert await dm.say("alice", "/leave ag3") == [
        "Du hast die AG Interne Struktur und Vernetzung (ag3) verlassen."
    ]
    assert await roles_of(bot, "alice") == {}
    # ... but nobody can join it while it is archived.
    assert await dm.say("alice", "/join ag3") == [
        "Die AG „ag3“ kenne ich nicht. Gültig sind: ag1, ag2."
    ]
