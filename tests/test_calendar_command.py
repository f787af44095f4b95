"""`/kalender`: the links, shown once, switched between "alle" and "dabei" on the same
link, renewed with `neu`; the AG's feed for its leads only; privately from a group; a
clear answer where the bot has no web server. Exact replies (the token as TOKEN)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.web.server import WebServer
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead
from tests.support.web import feed_token, request, serve

HOWTO = (
    "So geht es: Google Kalender: „Weitere Kalender“ → „Per URL“, die Adresse einfügen. "
    "Apple: den webcal-Link antippen (oder Ablage → Neues Kalenderabonnement). "
    "Thunderbird/Outlook: neuer Kalender „Im Netzwerk“ bzw. „Aus dem Internet“, die "
    "Adresse einfügen."
)


def given(what: str, renew: str = "/kalender neu") -> str:
    return (
        f"Dein Kalender-Abo zeigt {what}.\n"
        "Zum Abonnieren: webcal://bot.example.org/kalender/TOKEN.ics\n"
        "Oder als Adresse: https://bot.example.org/kalender/TOKEN.ics\n\n"
        f"{HOWTO}\n"
        "Der Link ist persönlich, gib ihn nicht weiter. Einen neuen (der alte geht dann "
        f"nicht mehr): {renew}"
    )


def shown(reply: str) -> str:
    return re.sub(r"/kalender/[A-Za-z0-9_-]{32}\.ics", "/kalender/TOKEN.ics", reply)


@pytest.fixture
async def ag2(bot: BotHarness) -> AsyncIterator[tuple[Ag2, WebServer]]:
    ag2 = await ag2_with_lead(bot)
    server = await serve(bot)
    yield ag2, server
    await server.stop()


async def test_the_link_is_given_once_switched_in_place_and_renewed(
    ag2: tuple[Ag2, WebServer],
) -> None:
    group, server = ag2
    [first] = await group.ben.say("ben", "/kalender")
    assert shown(first) == given("die Treffen all deiner AGs")
    token = feed_token(first)
    assert (await request(server, f"/kalender/{token}.ics")).status == 200

    since = (
        "Dein Kalender-Link besteht seit 28.11.2026 und zeigt {what}. Ich habe ihn dir "
        "damals hier geschickt; er bleibt gültig.\n"
        "Einen neuen Link (der alte geht dann nicht mehr): /kalender neu"
    )
    assert await group.ben.say("ben", "/kalender") == [
        since.format(what="die Treffen all deiner AGs")
    ]
    assert await group.ben.say("ben", "/kalender dabei") == [
        since.format(what="nur die Treffen, zu denen du „Dabei“ gesagt hast")
    ]
    assert await group.ben.say("ben", "/calendar alle") == [
        since.format(what="die Treffen all deiner AGs")
    ]
    assert (await request(server, f"/kalender/{token}.ics")).status == 200

    [renewed] = await group.ben.say("ben", "/kalender neu")
    assert shown(renewed) == given("die Treffen all deiner AGs")
    assert feed_token(renewed) != token
    old = await request(server, f"/kalender/{token}.ics")
    unknown = await request(server, "/kalender/" + "x" * 32 + ".ics")
    assert (old.status, old.body) == (unknown.status, unknown.body) == (404, b"Not found\n")
    assert (await request(server, f"/kalender/{feed_token(renewed)}.ics")).status == 200


async def test_dabei_keeps_its_choice_when_renewed(ag2: tuple[Ag2, WebServer]) -> None:
    group, _server = ag2
    [first] = await group.ben.say("ben", "/kalender dabei")
    dabei = "nur die Treffen, zu denen du „Dabei“ gesagt hast"
    assert shown(first) == given(dabei)
    [renewed] = await group.ben.say("ben", "/kalender neu")
    assert shown(renewed) == given(dabei)


async def test_the_ags_feed_is_for_its_leads(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    assert await group.ben.say("ben", "/kalender ag2") == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]
    [link] = await group.anna.say("anna", "/kalender ag2")
    assert shown(link) == given(
        "die Treffen der AG Transparenz und Beteiligung", renew="/kalender ag2 neu"
    )
    token = feed_token(link)
    assert (await request(server, f"/kalender/{token}.ics")).status == 200
    # Checked again on every request: no longer a lead, no feed.
    await group.bot.dm("admin").say("admin", "/unlead ag2 @anna", mentions=("anna",))
    assert (await request(server, f"/kalender/{token}.ics")).status == 404


async def test_in_a_group_the_link_goes_privately(ag2: tuple[Ag2, WebServer]) -> None:
    group, _server = ag2
    before = len(group.bot.transport.sent)
    replies = await group.group.say("ben", "/kalender")
    assert replies[-1] == "Ich habe es dir privat geschickt."
    [private] = [s for s in group.bot.transport.sent[before:] if s.chat.key != group.group.ref.key]
    assert private.chat.id == group.ben.ref.id
    assert shown(private.text) == given("die Treffen all deiner AGs")


async def test_bad_words_get_the_usage(ag2: tuple[Ag2, WebServer]) -> None:
    group, _server = ag2
    assert await group.anna.say("anna", "/kalender ag2 alt bitte") == [
        "So geht es:\n"
        "/kalender – dein Kalender-Link\n"
        "/kalender dabei / /kalender alle – nur Treffen mit „Dabei“ / alle Treffen deiner AGs\n"
        "/kalender neu – ein neuer Link, der alte geht nicht mehr\n"
        "/kalender ag2 – Leitung: der Kalender der AG"
    ]


async def test_without_a_web_server_it_points_to_ics(bot: BotHarness) -> None:
    assert await bot.dm("ben").say("ben", "/kalender") == [
        "Kalender-Abos sind auf diesem Bot nicht eingerichtet. Die Treffen einer AG als "
        "Datei: /ics ag2"
    ]


async def test_in_english(ag2: tuple[Ag2, WebServer]) -> None:
    group, _server = ag2
    await group.ben.say("ben", "/lang en")
    [link] = await group.ben.say("ben", "/calendar going")
    assert shown(link) == (
        "Your calendar subscription shows only the meetings you said “going” to.\n"
        "To subscribe: webcal://bot.example.org/kalender/TOKEN.ics\n"
        "Or as an address: https://bot.example.org/kalender/TOKEN.ics\n\n"
        "How: Google Calendar: “Other calendars” → “From URL”, paste the address. Apple: tap "
        "the webcal link (or File → New Calendar Subscription). Thunderbird/Outlook: new "
        "calendar “On the Network” or “From Internet”, paste the address.\n"
        "The link is personal, do not pass it on. A new one (the old one stops working): "
        "/kalender new"
    )
    assert await group.ben.say("ben", "/calendar") == [
        "Your calendar link exists since 28 Nov 2026 and shows only the meetings you said "
        "“going” to. I sent it to you here back then; it stays valid.\n"
        "A new link (the old one stops working): /kalender new"
    ]


async def test_a_link_that_cannot_be_delivered_is_not_kept(ag2: tuple[Ag2, WebServer]) -> None:
    group, _server = ag2
    group.bot.transport.unreachable.add("ben")
    [answer] = await group.group.say("ben", "/kalender")
    assert answer.startswith("Das schicke ich dir nur privat, aber ich kann dir noch nicht")
    group.bot.transport.unreachable.clear()
    [link] = await group.ben.say("ben", "/kalender")  # a new link, not "exists since"
    assert shown(link) == given("die Treffen all deiner AGs")
