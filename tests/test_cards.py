"""Business cards: editing with bounded and cleaned fields, regions and topics from the
survey, and who may see a card, for every viewer and every setting of its owner."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.rich import render_html
from storage import cards, repo
from storage.cards import Card
from tests.support.fake import BotHarness


@pytest.fixture
async def bot_any(database_url: str) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.create(database_url)
    yield harness
    await harness.close()


async def card_of(bot: BotHarness, who: str) -> Card | None:
    async with bot.app.services.db.read() as session:
        account = await repo.find_account(session, "fake", who)
        assert account is not None
        return await cards.card_of(session, account.person_id)


async def test_card_without_one_explains_how_to_make_it(bot: BotHarness) -> None:
    [reply] = await bot.dm("olga").say("olga", "/card")
    assert reply.startswith("Du hast noch keine Visitenkarte.")
    assert "/card name Anna Beispiel" in reply
    assert "/card visibility ag|alliance" in reply


async def test_edit_each_field_and_show_it(bot: BotHarness) -> None:
    dm = bot.dm("olga")
    assert await dm.say("olga", "/card name Olga Beispiel") == [
        "Gespeichert. /card zeigt deine Visitenkarte."
    ]
    await dm.say("olga", "/card org Kulturverein Zeitz e.V.")
    assert await dm.say("olga", "/card region 6, nordsachsen") == [
        "Gespeichert: Burgenlandkreis, Nordsachsen"
    ]
    assert await dm.say("olga", "/card topics klima, 5") == ["Gespeichert: Klima & Umwelt, Bildung"]
    await dm.say("olga", "/card about Ich mache Theater mit Jugendlichen.")
    await dm.say("olga", "/card contact olga@example.org")
    [shown] = await dm.say("olga", "/card")
    for part in (
        "Visitenkarte von Olga Beispiel",
        "Organisation: Kulturverein Zeitz e.V.",
        "Region: Burgenlandkreis, Nordsachsen",
        "Themen: Klima & Umwelt, Bildung",
        "Kontakt: olga@example.org",
        "Ich mache Theater mit Jugendlichen.",
        "Sichtbar für: Menschen, die mit dir in einer AG sind",
    ):
        assert part in shown
    await dm.say("olga", "/card about -")
    card = await card_of(bot, "olga")
    assert card is not None and card.about == ""


async def test_region_and_topic_lists_come_from_the_survey(bot: BotHarness) -> None:
    dm = bot.dm("olga")
    [regions] = await dm.say("olga", "/card region")
    assert "1. Leipzig (Stadt)" in regions and "10. Überregional / anderswo" in regions
    [topics] = await dm.say("olga", "/card topics")
    assert "Demokratie, Partizipation & Engagement" in topics
    [wrong] = await dm.say("olga", "/card region Berlin")
    assert wrong.startswith("„Berlin“ steht nicht in der Liste.")
    assert await card_of(bot, "olga") is None


async def test_html_stays_text_and_is_escaped(bot: BotHarness) -> None:
    dm = bot.dm("olga")
    await dm.say("olga", "/card name <b>Olga</b> & <script>x</script>")
    card = await card_of(bot, "olga")
    assert card is not None and card.name == "<b>Olga</b> & <script>x</script>"
    await dm.say("olga", "/card")
    html = render_html(bot.transport.sent[-1].message, lambda a: a.display_name)
    assert "&lt;b&gt;Olga&lt;/b&gt; &amp; &lt;script&gt;" in html
    assert "<script>" not in html and "<b>Olga" not in html


@pytest.mark.parametrize(
    ("field", "limit"), [("name", 80), ("org", 120), ("about", 500), ("contact", 200)]
)
async def test_long_input_is_refused_with_the_limit(
    bot: BotHarness, field: str, limit: int
) -> None:
    dm = bot.dm("olga")
    [reply] = await dm.say("olga", f"/card {field} " + "x" * 4000)
    assert reply == f"Das ist zu lang: höchstens {limit} Zeichen, du hast 4000 geschrieben."
    assert await card_of(bot, "olga") is None
    assert await dm.say("olga", f"/card {field} " + "y" * limit) == [
        "Gespeichert. /card zeigt deine Visitenkarte."
    ]


async def test_control_characters_are_removed(bot: BotHarness) -> None:
    dm = bot.dm("olga")
    await dm.say("olga", "/card name Ol\x00ga\u202e Bei\x1bspiel")
    card = await card_of(bot, "olga")
    assert card is not None and card.name == "Olga Beispiel"


async def test_unknown_field_and_visibility_word(bot: BotHarness) -> None:
    dm = bot.dm("olga")
    [reply] = await dm.say("olga", "/card hobby Segeln")
    assert reply.startswith("Das Feld „hobby“ kenne ich nicht.")
    [reply] = await dm.say("olga", "/card visibility alle")
    assert reply.startswith("Wähle /card visibility ag")


# --- who sees a card -----------------------------------------------------------------------

VIEWERS = {
    # viewer: (sees an "ag" card, sees an "alliance" card)
    "owner": (True, True),
    "shares an AG": (True, True),
    "member of another AG": (False, True),
    "in no AG": (False, False),
    "admin": (False, True),
}
NAMES = {
    "owner": "olga",
    "shares an AG": "sam",
    "member of another AG": "tom",
    "in no AG": "nina",
    "admin": "admin",
}


@pytest.mark.parametrize("setting", ["ag", "alliance"])
@pytest.mark.parametrize("viewer", list(VIEWERS))
async def test_visibility(bot_any: BotHarness, setting: str, viewer: str) -> None:
    bot = bot_any
    await bot.dm("olga").say("olga", "/join ag2")
    await bot.dm("sam").say("sam", "/join ag2")
    await bot.dm("tom").say("tom", "/join ag1")
    await bot.dm("nina").say("nina", "/help")
    await bot.dm("olga").say("olga", "/card name Olga Beispiel")
    await bot.dm("olga").say("olga", "/card topics klima")
    assert await bot.dm("olga").say("olga", f"/card visibility {setting}")

    who = NAMES[viewer]
    may = VIEWERS[viewer][0 if setting == "ag" else 1]
    [reply] = await bot.dm(who).say(who, "/card @olga")
    assert ("Visitenkarte von Olga Beispiel" in reply) is may, reply
    if not may:
        assert reply.startswith("Diese Visitenkarte kann ich dir nicht zeigen.")

    if viewer != "owner":
        found = await bot.dm(who).say(who, "/find klima")
        # /find finds exactly the cards the viewer may see.
        assert ("Olga Beispiel" in found[-1]) is may, found


async def test_card_of_someone_in_a_group_goes_privately(bot: BotHarness) -> None:
    await bot.dm("olga").say("olga", "/join ag2")
    await bot.dm("sam").say("sam", "/join ag2")
    await bot.dm("olga").say("olga", "/card contact 0341 1234")
    group = bot.group("ag2-gruppe")
    await group.say("sam", "/card @olga")
    assert group.last() == "Ich habe es dir privat geschickt."
    assert "0341 1234" in bot.dm("sam").last()


async def test_cards_of_an_ag_to_its_members_only(bot: BotHarness) -> None:
    for who in ("olga", "sam"):
        await bot.dm(who).say(who, "/join ag2")
    await bot.dm("olga").say("olga", "/card name Olga Beispiel")
    await bot.dm("sam").say("sam", "/card name Sam Muster")
    await bot.dm("tom").say("tom", "/join ag1")

    [listing] = await bot.dm("sam").say("sam", "/cards ag2")
    assert listing.startswith("2 Visitenkarten in Transparenz und Beteiligung:")
    assert "Olga Beispiel" in listing and "Sam Muster" in listing
    [refused] = await bot.dm("tom").say("tom", "/cards ag2")
    assert refused.startswith("Das sehen nur Mitglieder der AG")
    # An admin outside the AG sees only the cards opened to the whole alliance.
    await bot.dm("olga").say("olga", "/card visibility alliance")
    [admin_view] = await bot.dm("admin").say("admin", "/cards ag2")
    assert "Olga Beispiel" in admin_view and "Sam Muster" not in admin_view


async def test_find_by_region(bot: BotHarness) -> None:
    for who in ("olga", "sam"):
        await bot.dm(who).say(who, "/join ag2")
    await bot.dm("olga").say("olga", "/card name Olga Beispiel")
    await bot.dm("olga").say("olga", "/card region Nordsachsen")
    [found] = await bot.dm("sam").say("sam", "/find nordsachsen")
    assert found.startswith("1 Treffer für „nordsachsen“:")
    [none] = await bot.dm("sam").say("sam", "/find saalekreis")
    assert none == "Auf den Visitenkarten, die du sehen darfst, steht nirgends „saalekreis“."


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("theater", "about"),
        ("kulturverein", "org"),
        ("beispiel", "name"),
        ("olga@example", "contact"),
    ],
)
async def test_find_searches_every_field_one_may_see(
    bot: BotHarness, query: str, field: str
) -> None:
    for who in ("olga", "sam"):
        await bot.dm(who).say(who, "/join ag2")
    dm = bot.dm("olga")
    await dm.say("olga", "/card name Olga Beispiel")
    await dm.say("olga", "/card org Kulturverein Zeitz e.V.")
    await dm.say("olga", "/card about Ich mache Theater mit Jugendlichen.")
    await dm.say("olga", "/card contact olga@example.org")

    [found] = await bot.dm("sam").say("sam", f"/find {query}")

    assert found.splitlines()[:2] == [f"1 Treffer für „{query}“:", ""], field
    assert "Visitenkarte von Olga Beispiel" in found
    # Someone who may not see the card finds nothing in it.
    await bot.dm("tom").say("tom", "/join ag1")
    assert await bot.dm("tom").say("tom", f"/find {query}") == [
        f"Auf den Visitenkarten, die du sehen darfst, steht nirgends „{query}“."
    ]


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("/card telefon 0341 1234", "Meintest du /card kontakt 0341 1234?"),
        ("/card email olga@example.org", "Meintest du /card kontakt olga@example.org?"),
        ("/card verein Kulturverein", "Meintest du /card org Kulturverein?"),
        ("/card beschreibung Ich mache Theater", "Meintest du /card über Ich mache Theater?"),
        ("/card kontackt 0341 1234", "Meintest du /card kontakt 0341 1234?"),
        ("/card landkreis 3", "Meintest du /card region 3?"),
    ],
)
async def test_a_field_under_another_name_gets_a_suggestion(
    bot: BotHarness, typed: str, answer: str
) -> None:
    field = typed.split()[1]
    assert await bot.dm("olga").say("olga", typed) == [
        f"Das Feld „{field}“ kenne ich nicht. {answer}"
    ]
    assert await card_of(bot, "olga") is None


async def test_a_field_written_with_a_colon_as_on_a_business_card(bot: BotHarness) -> None:
    """Was: "Das Feld „Kontakt:“ kenne ich nicht." and the whole edit help."""
    dm = bot.dm("olga")
    assert await dm.say("olga", "/card Kontakt: 0341 1234") == [
        "Gespeichert. /card zeigt deine Visitenkarte."
    ]
    card = await card_of(bot, "olga")
    assert card is not None and card.contact == "0341 1234"
    assert await dm.say("olga", "/card Telefon: 0341 1234") == [
        "Das Feld „Telefon“ kenne ich nicht. Meintest du /card kontakt 0341 1234?"
    ]


async def test_a_field_suggestion_in_english(bot: BotHarness) -> None:
    await bot.dm("olga").say("olga", "/lang en")
    [reply] = await bot.dm("olga").say("olga", "/card phone 0341 1234")
    assert reply.endswith("Did you mean /card contact 0341 1234?")


async def test_about_keeps_line_breaks_and_squeezes_blanks(bot: BotHarness) -> None:
    dm = bot.dm("olga")
    await dm.say("olga", "/card about Theater   mit\tJugendlichen\n\n\n\nund  Musik ")
    await dm.say("olga", "/card name   Olga \n Beispiel ")
    card = await card_of(bot, "olga")
    assert card is not None
    assert card.about == "Theater mit Jugendlichen\n\nund Musik"
    assert card.name == "Olga Beispiel"
