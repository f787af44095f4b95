"""A Terminumfrage's page: the grid (dates × people, best date marked), answering by the
personal link (the form's nonce; /termin's rules: member, open, before the deadline),
the answer in the chat's summary; and a lead's AG overview."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from bot.web.server import WebServer
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead
from tests.support.pages import nonce, page_token, visible
from tests.support.web import request, serve

DATES = "Di 1.12. 19 Uhr; Mi 2.12. 18:30; Do 3.12. 19-21 Uhr"  # the clock: Sat 28.11.2026
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def ag2(database_url: str) -> AsyncIterator[tuple[Ag2, WebServer]]:
    """On SQLite and PostgreSQL: the grid's rows are read by hand-written Core queries."""
    bot = await BotHarness.create(database_url)
    ag2 = await ag2_with_lead(bot)
    server = await serve(bot)
    yield ag2, server
    await server.stop()
    await bot.close()


async def start(ag2: Ag2, extra: str = "") -> str:
    replies = await ag2.anna.say("anna", f'/terminumfrage ag2 "Plenum <im> Januar" {DATES}{extra}')
    return replies[0].split("\n")[0].split()[2].rstrip(":")


async def post(server: WebServer, token: str, fields: dict[str, str]) -> tuple[int, bytes]:
    answer = await request(
        server, f"/seite/{token}", method="POST", headers=FORM, data=urlencode(fields).encode()
    )
    return answer.status, answer.body


GRID_HEAD = [
    "Terminumfrage {sid}: Plenum <im> Januar",
    "(AG Transparenz und Beteiligung)",
]


async def test_the_grid_and_answering_by_link(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    sid = await start(group)
    await group.anna.say("anna", f"/termin {sid} 1 ja 2 wenn nötig 3 nein")
    [reply] = await group.ben.say("ben", f"/seite {sid}")
    assert reply.splitlines()[0] == (
        f"Die Terminumfrage {sid} als Tabelle; dort kannst du auch antworten:"
    )
    token = page_token(reply)
    page = await request(server, f"/seite/{token}")
    assert page.status == 200
    shown = visible(page.body)
    assert shown[:9] == [
        f"Terminumfrage {sid}: Plenum <im> Januar",
        "(AG Transparenz und Beteiligung)",
        "| | ★ 1. Di 01.12. 19:00–20:00 | 2. Mi 02.12. 18:30–19:30 | 3. Do 03.12. 19:00–21:00",
        "| Anna | ✓ ja | (✓) wenn nötig | ✗ nein",
        "| Ben (du) | – | – | –",
        "| ja | 1 | 0 | 0",
        "| wenn nötig | 0 | 1 | 0",
        "| nein | 0 | 0 | 1",
        "| offen | 1 | 1 | 1",
    ]
    assert shown[9:] == [
        "✓ ja · (✓) wenn nötig · ✗ nein · – offen · ★ die meisten „ja“",
        "Deine Antworten",
        "1. Di 01.12. 19:00–20:00",
        "ja",
        "wenn nötig",
        "nein",
        "2. Mi 02.12. 18:30–19:30",
        "ja",
        "wenn nötig",
        "nein",
        "3. Do 03.12. 19:00–21:00",
        "ja",
        "wenn nötig",
        "nein",
        "Speichern",
    ]
    assert b"<im>" not in page.body

    # Without the page's nonce, or with a made-up one: nothing is stored.
    status, body = await post(server, token, {"d1": "no", "d2": "yes"})
    assert status == 403
    assert "Das Formular ist abgelaufen. Hier ist es neu; bitte noch einmal." in visible(body)
    assert (await post(server, token, {"nonce": "1.abc", "d1": "no"}))[0] == 403
    assert "| Ben (du) | – | – | –" in visible((await request(server, f"/seite/{token}")).body)

    status, body = await post(
        server,
        token,
        {"nonce": nonce(page.body), "d1": "no", "d2": "yes", "d3": "maybe", "d9": "yes"},
    )
    assert status == 200
    assert "Gespeichert." in visible(body)
    assert "| Ben (du) | ✗ nein | ✓ ja | (✓) wenn nötig" in visible(body)
    # The same answers in the chat, as if typed with /termin.
    [summary] = await group.group.say("ben", f"/termin {sid}")
    assert summary.splitlines()[1:4] == [
        "2. Mi 02.12. 18:30–19:30 – ja 1 · wenn nötig 1 · nein 0 · offen 0",
        "1. Di 01.12. 19:00–20:00 – ja 1 · wenn nötig 0 · nein 1 · offen 0",
        "3. Do 03.12. 19:00–21:00 – ja 0 · wenn nötig 1 · nein 1 · offen 0",
    ]
    # A page left open for more than 12 hours: its form has expired; the answer shows a
    # fresh one, which works.
    old = nonce(page.body)
    group.clock.advance(hours=12, minutes=1)
    status, body = await post(server, token, {"nonce": old, "d1": "yes"})
    assert status == 403 and "| Ben (du) | ✗ nein | ✓ ja | (✓) wenn nötig" in visible(body)
    fresh = nonce(body)
    assert (await post(server, token, {"nonce": fresh, "d1": "yes"}))[0] == 200
    # A POST with nothing chosen says so; a flood of fields is no error of ours.
    assert (await post(server, token, {"nonce": fresh}))[0] == 400
    flood = {f"x{i}": "1" for i in range(100)}
    status, body = await post(server, token, {"nonce": fresh, **flood})
    assert status == 403  # its nonce is not read: treated as a form without one


async def test_answering_follows_termins_rules(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    sid = await start(group, " --bis Montag")
    token = page_token((await group.ben.say("ben", f"/seite {sid}"))[0])
    page = await request(server, f"/seite/{token}")
    form = {"nonce": nonce(page.body), "d1": "yes"}
    # Another person's nonce does not fit this link.
    other = page_token((await group.anna.say("anna", f"/seite {sid}"))[0])
    theirs = nonce((await request(server, f"/seite/{other}")).body)
    assert (await post(server, token, {"nonce": theirs, "d1": "yes"}))[0] == 403
    # Digits that are no decimal number (superscripts) are not read as numbers: no 500.
    assert (await post(server, token, {"nonce": "²." + theirs.split(".", 1)[-1]}))[0] == 403
    assert (await post(server, token, {"nonce": nonce(page.body), "d²": "yes"}))[0] == 400
    stamp = nonce(page.body).split(".")[0]
    assert (await post(server, token, {"nonce": f"{stamp}.äöü", "d1": "yes"}))[0] == 403
    # After the deadline: refused with /termin's words, and no form any more.
    group.clock.advance(days=3)
    status, body = await post(server, token, form)
    assert status == 409
    assert f"Die Terminumfrage {sid} nimmt keine Antworten mehr an." in visible(body)
    assert b"<form" not in body
    # A member who left sees nothing.
    await group.ben.say("ben", "/leave ag2")
    assert (await request(server, f"/seite/{token}")).status == 404
    assert (await post(server, token, form))[0] == 404
    # GET only shows, POST only answers; other methods are refused.
    assert (await request(server, f"/seite/{other}", method="PUT")).status == 405


async def test_an_admin_who_is_no_member_sees_the_grid_but_cannot_answer(
    ag2: tuple[Ag2, WebServer],
) -> None:
    group, server = ag2
    sid = await start(group)
    token = page_token((await group.bot.dm("admin").say("admin", f"/seite {sid}"))[0])
    page = await request(server, f"/seite/{token}")
    assert page.status == 200 and b"<form" not in page.body
    status, body = await post(server, token, {"nonce": "x", "d1": "yes"})
    assert status == 403
    assert (
        "Antworten dürfen nur Mitglieder der AG Transparenz und Beteiligung. "
        "Beitreten: /join ag2" in visible(body)
    )


async def test_the_ag_overview_for_its_lead(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    planned, *_ = await group.anna.say("anna", "/meeting ag2 05.12.2026 14:00 Sommerfest <draußen>")
    occurrence = planned.split("Kennung: ")[1].split()[0].rstrip(".")
    await group.ben.say("ben", f"/rsvp {occurrence} ja")
    await group.anna.say("anna", f"/rsvp {occurrence} vielleicht")
    await group.group.say("anna", '/poll "Welche Farbe?" "rot" "grün"')
    sid = await start(group)
    token = page_token((await group.anna.say("anna", "/seite ag2"))[0])
    page = await request(server, f"/seite/{token}")
    assert page.status == 200
    shown = visible(page.body)
    assert shown[0] == "AG Transparenz und Beteiligung (ag2)"
    assert shown[1:4] == ["Mitglieder (2)", "Anna – Leitung", "Ben – Mitglied"]
    assert shown[4:6] == [
        "Nächste Treffen",
        f"Sa 05.12. 14:00 – Sommerfest <draußen> ({occurrence}) · 1 dabei · 1 vielleicht · 0 nicht dabei",
    ]
    assert shown[6] == "Offene Umfragen"
    assert shown[7].startswith("Welche Farbe? (")
    assert shown[8] == f"Terminumfrage {sid}: Plenum <im> Januar"


async def test_the_page_speaks_the_owners_language(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    sid = await start(group)
    await group.ben.say("ben", "/lang en")
    [reply] = await group.ben.say("ben", f"/seite {sid}")
    assert reply.splitlines()[0] == f"Date poll {sid} as a table; you can answer there too:"
    page = await request(server, f"/seite/{page_token(reply)}")
    assert b'<html lang="en">' in page.body
    shown = visible(page.body)
    assert shown[0] == f"Date poll {sid}: Plenum <im> Januar"
    assert shown[2].startswith("| | 1. Tue 1 Dec 19:00–20:00")
    assert "| Ben (you) | – | – | –" in shown
    assert "✓ yes · (✓) if need be · ✗ no · – open" in shown
    assert shown[-1] == "Save"


async def test_an_answer_on_the_page_edits_the_chats_summary(sqlite_url: str) -> None:
    """The page answers like /termin: the summary in the AG's group is edited."""
    import asyncio

    from tests.support.fake import FakeTransport

    bot = await BotHarness.create(sqlite_url, transport=FakeTransport().with_edits())
    group = await ag2_with_lead(bot)
    server = await serve(bot)
    bot.app.services.timers.start()
    try:
        sid = await start(group)
        [reply] = await group.ben.say("ben", f"/seite {sid}")
        token = page_token(reply)
        page = await request(server, f"/seite/{token}")
        status, _ = await post(server, token, {"nonce": nonce(page.body), "d2": "yes"})
        assert status == 200
        async with asyncio.timeout(5):
            while not bot.transport.edits:  # noqa: ASYNC110 (a timer job of the bot)
                await asyncio.sleep(0.01)
        [edit] = bot.transport.edits
        assert edit.sent.chat == group.group.ref
        assert "2. Mi 02.12. 18:30–19:30 – ja 1" in edit.text
    finally:
        await bot.app.services.timers.stop()
        await server.stop()
        await bot.close()
