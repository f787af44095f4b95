"""Pages over real HTTP: `/seite` gives a personal link privately; the page follows the
chat command's rights on every request (a member who left, a lead who stepped down: 404),
links expire after 30 days and are revoked by `/seite aus` or a new link; what people
typed is escaped; the strict CSP allows only the bot's stylesheet."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.web.server import WebServer
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead
from tests.support.pages import masked, page_token, visible
from tests.support.poll_chat import start_poll
from tests.support.web import request, serve

WANN = '/poll "Wann treffen wir uns?" "Di 18 Uhr" "Mi 19 Uhr" "Do 17 Uhr"'
CSP = (
    "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)


@pytest.fixture
async def ag2(bot: BotHarness) -> AsyncIterator[tuple[Ag2, WebServer]]:
    ag2 = await ag2_with_lead(bot)
    server = await serve(bot)
    yield ag2, server
    await server.stop()


def link_reply(what: str, again: str, until: str = "28.12.2026") -> str:
    return (
        f"{what}\n"
        "https://bot.example.org/seite/TOKEN\n"
        f"Der Link ist persönlich, gib ihn nicht weiter. Er gilt bis {until}; /seite {again} "
        "gibt einen neuen (der alte geht dann nicht mehr), /seite aus sperrt alle."
    )


async def test_usage_and_no_web_side(bot: BotHarness) -> None:
    await ag2_with_lead(bot)
    assert await bot.dm("ben").say("ben", "/seite") == [
        "So geht es:\n"
        "/seite k3f7 – das Ergebnis einer Umfrage oder die Tabelle einer Terminumfrage\n"
        "/seite ag2 – Leitung: die Übersicht der AG\n"
        "/seite aus – alle deine Seiten-Links sperren"
    ]
    assert await bot.dm("anna").say("anna", "/seite ag2") == [
        "Web-Seiten sind auf diesem Bot nicht eingerichtet."
    ]
    # The rights come first, as for /kalender.
    assert await bot.dm("ben").say("ben", "/seite ag2") == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]


async def test_a_polls_result_page_has_the_numbers_of_results(
    ag2: tuple[Ag2, WebServer],
) -> None:
    group, server = ag2
    sid = await start_poll(group.group, "anna", WANN)
    await group.ben.say("ben", f"/vote {sid} 2")
    await group.anna.say("anna", f"/vote {sid} 1")
    [private, said] = await group.group.say("ben", f"/seite {sid}")
    assert said == "Ich habe es dir privat geschickt."
    assert private == group.bot.dm("ben").last()  # the link went to the private chat
    assert masked(private) == link_reply(f"Das Ergebnis der Umfrage {sid}:", sid)
    answer = await request(server, f"/seite/{page_token(private)}")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Content-Security-Policy"] == CSP
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Cache-Control"] == "no-store"
    assert visible(answer.body) == [
        f"Zwischenstand: Wann treffen wir uns? ({sid})",
        "1. Di 18 Uhr – 1 (50 %)",
        "2. Mi 19 Uhr – 1 (50 %)",
        "3. Do 17 Uhr – 0 (0 %)",
        "2 Stimmen",
        "Gleichstand: „Di 18 Uhr“ und „Mi 19 Uhr“ mit je 1 Stimme.",
    ]
    # The same numbers as /results.
    [results] = await group.ben.say("ben", f"/results {sid}")
    assert results.splitlines()[1:5] == [
        "1. Di 18 Uhr – 1 (50 %) █████",
        "2. Mi 19 Uhr – 1 (50 %) █████",
        "3. Do 17 Uhr – 0 (0 %)",
        "2 Stimmen",
    ]
    assert b'<span class="w50">' in answer.body and b'<span class="w0">' in answer.body
    css = await request(server, "/seite.css")
    assert css.status == 200 and css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert b".w50{width:50%}" in css.body


async def test_rights_are_checked_again_on_every_request(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    bot = group.bot
    sid = await start_poll(group.group, "anna", WANN)
    assert await bot.dm("carl").say("carl", f"/seite {sid}") == [
        "Das sehen nur Mitglieder der AG „Transparenz und Beteiligung“. Mit /join ag2 "
        "kannst du beitreten."
    ]
    poll_link = page_token((await group.ben.say("ben", f"/seite {sid}"))[0])
    [overview] = await group.anna.say("anna", "/seite ag2")
    assert masked(overview) == link_reply(
        "Die Übersicht der AG Transparenz und Beteiligung (für die Leitung):", "ag2"
    )
    lead_link = page_token(overview)
    assert (await request(server, f"/seite/{poll_link}")).status == 200
    assert (await request(server, f"/seite/{lead_link}")).status == 200
    # ben leaves the AG: his page is gone; anna steps down: her overview is gone.
    await group.ben.say("ben", "/leave ag2")
    assert (await request(server, f"/seite/{poll_link}")).status == 404
    await bot.dm("admin").say("admin", "/unlead ag2 @anna", mentions=("anna",))
    gone = await request(server, f"/seite/{lead_link}")
    assert (gone.status, gone.body) == (404, b"Not found\n")
    # A member who is no lead gets no overview link.
    assert await group.group.say("carl", "/seite ag2") == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]


async def test_links_expire_and_are_revoked(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    sid = await start_poll(group.group, "anna", WANN)
    first = page_token((await group.ben.say("ben", f"/seite {sid}"))[0])
    second = page_token((await group.ben.say("ben", f"/seite {sid}"))[0])
    assert (await request(server, f"/seite/{first}")).status == 404  # replaced
    assert (await request(server, f"/seite/{second}")).status == 200
    group.clock.advance(days=29, hours=23)
    assert (await request(server, f"/seite/{second}")).status == 200
    group.clock.advance(hours=2)
    assert (await request(server, f"/seite/{second}")).status == 404  # expired
    third = page_token((await group.ben.say("ben", f"/seite {sid}"))[0])
    overview = page_token((await group.anna.say("anna", "/seite ag2"))[0])
    assert await group.ben.say("ben", "/seite aus") == ["1 Seiten-Link gesperrt."]
    assert (await request(server, f"/seite/{third}")).status == 404
    assert (await request(server, f"/seite/{overview}")).status == 200  # anna's stays
    assert await group.ben.say("ben", "/seite aus") == ["0 Seiten-Links gesperrt."]


async def test_what_people_typed_is_escaped(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    evil = "<script>alert(1)</script>"
    sid = await start_poll(group.group, "anna", f'/poll "{evil} & co" "<b>ja</b>" "nein"')
    token = page_token((await group.ben.say("ben", f"/seite {sid}"))[0])
    body = (await request(server, f"/seite/{token}")).body
    assert b"<script" not in body and b"<b>" not in body
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in body
    assert b"&lt;b&gt;ja&lt;/b&gt;" in body
    assert visible(body)[0] == f"Zwischenstand: {evil} & co ({sid})"


async def test_unknown_words_get_a_clear_answer(ag2: tuple[Ag2, WebServer]) -> None:
    group, _server = ag2
    assert await group.ben.say("ben", "/seite zzzz9") == [
        "Eine Umfrage, Terminumfrage oder AG zzzz9 kenne ich nicht."
    ]


async def test_no_page_token_in_the_log(
    ag2: tuple[Ag2, WebServer], caplog: pytest.LogCaptureFixture
) -> None:
    group, server = ag2
    sid = await start_poll(group.group, "anna", WANN)
    token = page_token((await group.ben.say("ben", f"/seite {sid}"))[0])
    caplog.set_level("DEBUG")
    await request(server, f"/seite/{token}")
    await request(server, f"/seite/{token}", method="POST", data=b"d1=yes")
    assert "web: GET /seite/*** -> 200" in caplog.text
    assert "web: POST /seite/*** -> 404" in caplog.text  # a poll's page takes no answers
    assert token not in caplog.text
