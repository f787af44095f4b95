"""Running the alliance: /ag new|edit|archive|restore (leads and chats:
test_handlers_leads_links.py).

The admin of these tests is `fake:admin` (see BotHarness.create).
"""

from __future__ import annotations

import pytest

from bot.rich import render_html
from tests.support.fake import BotHarness
from tests.support.state import ag, ag_slugs, roles_of

AG2 = "Transparenz und Beteiligung (ag2)"
ADMINS_ONLY = "Das dürfen nur Admins des Bündnisses."
LEADS_ONLY = "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."


async def admin_says(bot: BotHarness, text: str) -> list[str]:
    return await bot.dm("admin").say("admin", text)


# --- /ag new -------------------------------------------------------------------------


async def test_an_admin_creates_an_ag_that_people_can_join(bot: BotHarness) -> None:
    assert await admin_says(bot, "/ag new ag4 Energie -- Bürgerenergie im Revier") == [
        "AG Energie (ag4) angelegt. Verbinde einen Chat mit /link ag4 "
        "und bestimme eine Leitung mit /lead ag4 @name."
    ]
    created = await ag(bot, "ag4")
    assert created is not None
    assert (created.name, created.description, created.archived) == (
        "Energie",
        "Bürgerenergie im Revier",
        False,
    )

    [welcome] = await bot.dm("alice").say("alice", "/join 4")
    assert welcome.startswith("Willkommen in der AG Energie (ag4)!")
    assert "• ag4 Energie – 1 Mitglied" in (await bot.dm("alice").say("alice", "/ags"))[0]


async def test_a_member_may_not_create_an_ag(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/ag new ag4 Energie") == [ADMINS_ONLY]
    assert await ag_slugs(bot) == ["ag1", "ag2", "ag3"]


@pytest.mark.parametrize("slug", ["4x", "a", "ag!", "x" * 17, "ä4"])
async def test_a_bad_short_name_is_refused_with_the_rule(bot: BotHarness, slug: str) -> None:
    assert await admin_says(bot, f"/ag new {slug} Energie") == [
        f"Das Kürzel „{slug}“ geht nicht: 2 bis 16 Zeichen, Kleinbuchstaben, Ziffern, - oder _, "
        "am Anfang ein Buchstabe (z. B. ag4)."
    ]
    assert await ag_slugs(bot) == ["ag1", "ag2", "ag3"]


async def test_a_duplicate_short_name_is_refused_and_the_ag_kept(bot: BotHarness) -> None:
    assert await admin_says(bot, "/ag new ag2 Doppelt") == [
        "Eine AG mit dem Kürzel ag2 gibt es schon."
    ]
    existing = await ag(bot, "ag2")
    assert existing is not None
    assert existing.name == "Transparenz und Beteiligung"


async def test_an_ag_needs_a_name(bot: BotHarness) -> None:
    assert await admin_says(bot, "/ag new ag4 -- nur Beschreibung") == [
        "Die AG braucht einen Namen."
    ]
    assert await ag(bot, "ag4") is None


async def test_a_4000_character_name_is_refused_and_nothing_written(bot: BotHarness) -> None:
    replies = await admin_says(bot, "/ag new ag4 " + "Energie" * 570)  # within MAX_COMMAND

    assert replies == ["Der Name ist zu lang (höchstens 80 Zeichen)."]
    assert await ag_slugs(bot) == ["ag1", "ag2", "ag3"]


async def test_a_too_long_description_is_refused_and_nothing_written(bot: BotHarness) -> None:
    replies = await admin_says(bot, "/ag new ag4 Energie -- " + "sehr lang " * 40)

    assert replies == ["Die Beschreibung ist zu lang (höchstens 300 Zeichen)."]
    assert await ag(bot, "ag4") is None


async def test_html_in_a_name_stays_text(bot: BotHarness) -> None:
    await admin_says(bot, "/ag new ag4 <b>Fett</b> & <script>x</script>")

    created = await ag(bot, "ag4")
    assert created is not None
    assert created.name == "<b>Fett</b> & <script>x</script>"
    reply = bot.transport.sent[-1].message
    assert reply.plain.startswith("AG <b>Fett</b> & <script>x</script> (ag4) angelegt.")
    html = render_html(reply, lambda _: None)
    assert "&lt;b&gt;Fett&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>" not in html


# --- /ag edit ------------------------------------------------------------------------


async def test_an_admin_renames_an_ag(bot: BotHarness) -> None:
    assert await admin_says(bot, "/ag edit ag2 name Transparenz & Mitbestimmung") == [
        "AG Transparenz & Mitbestimmung (ag2) geändert."
    ]
    edited = await ag(bot, "ag2")
    assert edited is not None
    assert edited.name == "Transparenz & Mitbestimmung"
    assert edited.description.startswith("Politische Entscheidungen")


async def test_an_admin_changes_a_description(bot: BotHarness) -> None:
    assert await admin_says(
        bot, "/ag edit AG 2 beschreibung Macht Entscheidungen transparenter"
    ) == [f"AG {AG2} geändert."]
    edited = await ag(bot, "ag2")
    assert edited is not None
    assert edited.description == "Macht Entscheidungen transparenter"
    [listing] = await bot.dm("alice").say("alice", "/ags")
    assert "   Macht Entscheidungen transparenter" in listing.splitlines()


async def test_edit_of_an_unknown_field_names_the_fields(bot: BotHarness) -> None:
    assert await admin_says(bot, "/ag edit ag2 farbe rot") == [
        "Ändern kann ich name oder beschreibung."
    ]
    edited = await ag(bot, "ag2")
    assert edited is not None
    assert edited.name == "Transparenz und Beteiligung"


async def test_edit_to_a_too_long_name_is_refused(bot: BotHarness) -> None:
    assert await admin_says(bot, "/ag edit ag2 name " + "x" * 81) == [
        "Der Name ist zu lang (höchstens 80 Zeichen)."
    ]
    edited = await ag(bot, "ag2")
    assert edited is not None
    assert edited.name == "Transparenz und Beteiligung"


async def test_edit_without_a_value_explains_the_usage(bot: BotHarness) -> None:
    assert await admin_says(bot, "/ag edit ag2 name") == [
        "Da fehlt noch etwas: neuer Text.\n"
        "So geht's: /ag edit AG name|beschreibung neuer Text\n"
        "Beispiel: /ag edit ag2 beschreibung Macht Entscheidungen im Strukturwandel transparenter"
    ]


async def test_a_member_may_not_edit(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag2")

    assert await bot.dm("alice").say("alice", "/ag edit ag2 name Meins") == [ADMINS_ONLY]
    edited = await ag(bot, "ag2")
    assert edited is not None
    assert edited.name == "Transparenz und Beteiligung"


# --- /ag archive, /ag restore ----------------------------------------------------------


async def test_archive_and_restore_keep_the_members(bot: BotHarness) -> None:
    await bot.dm("alice").say("alice", "/join ag3")

    assert await admin_says(bot, "/ag archive ag3") == [
        "AG Interne Struktur und Vernetzung (ag3) ist archiviert. Zurückholen mit /ag restore ag3."
    ]
    archived = await ag(bot, "ag3")
    assert archived is not None
    assert archived.archived
    assert await bot.dm("bob").say("bob", "/join ag3") == [
        "Die AG „ag3“ kenne ich nicht. Gültig sind: ag1, ag2."
    ]

    assert await admin_says(bot, "/ag restore ag3") == [
        "AG Interne Struktur und Vernetzung (ag3) ist wieder aktiv."
    ]
    restored = await ag(bot, "ag3")
    assert restored is not None
    assert not restored.archived
    assert await roles_of(bot, "alice") == {"ag3": "member"}


async def test_restore_of_an_unknown_ag(bot: BotHarness) -> None:
    assert await admin_says(bot, "/ag restore ag9") == [
        "Die AG „ag9“ kenne ich nicht. Gültig sind: ag1, ag2, ag3."
    ]


async def test_a_member_may_not_archive(bot: BotHarness) -> None:
    assert await bot.dm("alice").say("alice", "/ag archive ag3") == [ADMINS_ONLY]
    kept = await ag(bot, "ag3")
    assert kept is not None
    assert not kept.archived


async def test_restore_understands_every_way_of_naming_the_ag(bot: BotHarness) -> None:
    await admin_says(bot, "/ag archive ag3")

    assert await admin_says(bot, "/ag restore AG 3") == [
        "AG Interne Struktur und Vernetzung (ag3) ist wieder aktiv."
    ]
