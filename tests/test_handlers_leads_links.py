"""Running the alliance: /lead, /unlead, /link, /unlink (AGs themselves:
test_handlers_admin.py).

The admin of these tests is `fake:admin` (see BotHarness.create).
"""

from __future__ import annotations

from bot.core import IncomingMessage, UserRef
from tests.support.fake import BotHarness, FakeTransport
from tests.support.state import linked, roles_of

AG2 = "Transparenz und Beteiligung (ag2)"
ADMINS_ONLY = "Das dürfen nur Admins des Bündnisses."
LEADS_ONLY = "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."


async def admin_says(bot: BotHarness, text: str) -> list[str]:
    return await bot.dm("admin").say("admin", text)


# --- /lead, /unlead ------------------------------------------------------------------


async def test_an_admin_makes_someone_lead(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")
    await group.say("carl", "/join ag2")

    assert await group.say("admin", "/lead ag2 @carl") == [f"@carl leitet jetzt die AG {AG2}."]
    assert await roles_of(bot, "carl") == {"ag2": "lead"}
    assert await group.say("admin", "/lead ag2 @carl") == [f"@carl leitet die AG {AG2} schon."]


async def test_lead_makes_a_non_member_a_member_and_lead(bot: BotHarness) -> None:
    await bot.dm("carl").say("carl", "/help")

    await admin_says(bot, "/lead AG 2 @carl")

    assert await roles_of(bot, "carl") == {"ag2": "lead"}


async def test_lead_finds_a_person_by_username(bot: BotHarness) -> None:
    # On Telegram the account id is a number; people write the @username.
    chat = bot.dm("carla")
    carla = UserRef("fake", "7000000001", "Carla Beispiel", username="Carla_B")
    await (
        await bot.app.dispatcher.message(
            IncomingMessage(chat=chat.ref, sender=carla, text="join ag2", message_id="1")
        )
    )

    assert await admin_says(bot, "/lead ag2 @carla_b") == [f"@Carla_B leitet jetzt die AG {AG2}."]
    assert await roles_of(bot, "7000000001") == {"ag2": "lead"}


async def test_lead_takes_the_mention_the_network_resolved(bot: BotHarness) -> None:
    await bot.dm("carl").say("carl", "/join ag2")

    replies = await bot.group().say("admin", "/lead ag2 @Carl", mentions=("carl",))

    assert replies == [f"@carl leitet jetzt die AG {AG2}."]
    assert await roles_of(bot, "carl") == {"ag2": "lead"}


async def test_lead_of_someone_the_bot_never_met_is_refused_clearly(bot: BotHarness) -> None:
    assert await admin_says(bot, "/lead ag2 @nobody") == [
        "Ich kenne @nobody noch nicht. Die Person muss mir zuerst einmal schreiben (z. B. /help)."
    ]


async def test_lead_without_a_person_explains_the_usage(bot: BotHarness) -> None:
    assert await admin_says(bot, "/lead ag2") == [
        "Da fehlt noch etwas: @Person.\nSo geht's: /lead AG @Person\nBeispiel: /lead ag2 @anna"
    ]


async def test_a_member_may_not_name_leads(bot: BotHarness) -> None:
    await bot.dm("carl").say("carl", "/join ag2")

    assert await bot.dm("bob").say("bob", "/lead ag2 @carl") == [ADMINS_ONLY]
    assert await roles_of(bot, "carl") == {"ag2": "member"}


async def test_unlead_keeps_the_person_as_member(bot: BotHarness) -> None:
    await bot.dm("carl").say("carl", "/join ag2")
    await admin_says(bot, "/lead ag2 @carl")

    assert await admin_says(bot, "/unlead ag2 @carl") == [
        f"@carl leitet die AG {AG2} nicht mehr und bleibt Mitglied."
    ]
    assert await roles_of(bot, "carl") == {"ag2": "member"}
    assert await admin_says(bot, "/unlead ag2 @carl") == [f"@carl leitet die AG {AG2} nicht."]


async def test_unlead_of_a_non_member_does_not_make_them_a_member(bot: BotHarness) -> None:
    await bot.dm("carl").say("carl", "/help")

    assert await admin_says(bot, "/unlead ag2 @carl") == [f"@carl leitet die AG {AG2} nicht."]
    assert await roles_of(bot, "carl") == {}


async def test_a_lead_may_not_unlead_another_lead(bot: BotHarness) -> None:
    for who in ("carl", "dora"):
        await bot.dm(who).say(who, "/join ag2")
        await admin_says(bot, f"/lead ag2 @{who}")

    assert await bot.dm("carl").say("carl", "/unlead ag2 @dora") == [ADMINS_ONLY]
    assert await roles_of(bot, "dora") == {"ag2": "lead"}


# --- /link, /unlink --------------------------------------------------------------------


async def test_the_lead_of_the_ag_links_a_group(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")
    await group.say("carl", "/join ag2")
    await admin_says(bot, "/lead ag2 @carl")

    assert await group.say("carl", "/link ag2") == [
        f"Dieser Chat gehört jetzt zur AG {AG2}. Hier kann man mit /join beitreten."
    ]
    assert await linked(bot, "ag2-gruppe") == ["ag2"]
    assert await group.say("carl", "/link ag2") == [f"Dieser Chat gehört schon zur AG {AG2}."]
    assert await linked(bot, "ag2-gruppe") == ["ag2"]


async def test_a_member_may_not_link(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")
    await group.say("bob", "/join ag2")

    assert await group.say("bob", "/link ag2") == [LEADS_ONLY]
    assert await linked(bot, "ag2-gruppe") == []


async def test_the_lead_of_another_ag_may_not_link(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")
    await group.say("carl", "/join ag3")
    await admin_says(bot, "/lead ag3 @carl")

    assert await group.say("carl", "/link ag2") == [LEADS_ONLY]
    assert await linked(bot, "ag2-gruppe") == []


async def test_an_admin_may_link_without_being_a_member(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")

    assert await group.say("admin", "/link ag2") == [
        f"Dieser Chat gehört jetzt zur AG {AG2}. Hier kann man mit /join beitreten."
    ]
    assert await linked(bot, "ag2-gruppe") == ["ag2"]


async def test_link_is_refused_in_a_private_chat(bot: BotHarness) -> None:
    assert await admin_says(bot, "/link ag2") == [
        "/link funktioniert nur in einer Gruppe oder einem Raum, nicht im privaten Chat."
    ]
    assert await linked(bot, "dm-admin") == []


async def test_unlink_refused_in_a_private_chat(bot: BotHarness) -> None:
    assert await admin_says(bot, "/unlink ag2") == [
        "/unlink funktioniert nur in einer Gruppe oder einem Raum, nicht im privaten Chat."
    ]


async def test_unlink_without_naming_the_ag_unlinks_the_linked_one(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")
    await group.say("admin", "/link ag2")

    assert await group.say("admin", "/unlink") == [f"Dieser Chat gehört nicht mehr zur AG {AG2}."]
    assert await linked(bot, "ag2-gruppe") == []


async def test_unlink_of_an_ag_the_chat_is_not_linked_to(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")
    await group.say("admin", "/link ag2")

    assert await group.say("admin", "/unlink ag3") == [
        "Dieser Chat war nicht mit der AG Interne Struktur und Vernetzung (ag3) verbunden."
    ]
    assert await linked(bot, "ag2-gruppe") == ["ag2"]


async def test_a_member_may_not_unlink(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")
    await group.say("admin", "/link ag2")
    await group.say("bob", "/join")

    assert await group.say("bob", "/unlink") == [LEADS_ONLY]
    assert await linked(bot, "ag2-gruppe") == ["ag2"]


async def test_a_group_linked_to_two_ags_needs_the_ag_named(bot: BotHarness) -> None:
    group = bot.group("plenum")
    await group.say("admin", "/link ag2")
    await group.say("admin", "/link ag3")
    assert await linked(bot, "plenum") == ["ag2", "ag3"]

    assert await group.say("alice", "/join") == [
        "Da fehlt noch etwas: AG.\nSo geht's: /join AG\nBeispiel: /join ag2\nGültige AGs: ag1, ag2, ag3"
    ]
    assert await group.say("alice", "/join ag3") != []
    assert await roles_of(bot, "alice") == {"ag3": "member"}


async def test_a_chat_linked_to_an_archived_ag_can_be_unlinked(bot: BotHarness) -> None:
    group = bot.group("ag3-gruppe")
    await group.say("admin", "/link ag3")
    await admin_says(bot, "/ag archive ag3")

    assert await group.say("admin", "/unlink") == [
        "Dieser Chat gehört nicht mehr zur AG Interne Struktur und Vernetzung (ag3)."
    ]


async def test_lead_finds_a_person_known_only_on_another_network(sqlite_url: str) -> None:
    """An admin on one network names someone by the @username of their other network."""
    bot = await BotHarness.create(sqlite_url, more=(FakeTransport(platform="other"),))
    try:
        await bot.dm("olga", platform="other").say("olga", "/help")  # known on "other" only

        replies = await admin_says(bot, "/lead ag2 @olga")

        assert replies[0].startswith("@olga leitet jetzt die AG Transparenz und Beteiligung")
    finally:
        await bot.close()
