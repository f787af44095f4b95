"""The pages in a real browser (headless Chromium at phone width, 390 px): what a person
sees of a Terminumfrage's grid, that the stylesheet applies under the strict CSP (and no
CSP violation is logged), that the page fits the phone (the grid scrolls in its box),
and that choosing answers and pressing "Speichern" changes the grid. The screenshot is
the one the README shows (docs/pages-grid.png)."""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.web.server import WebServer
from tests.support.browser import phone
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead
from tests.support.pages import page_token
from tests.support.poll_chat import start_poll
from tests.support.web import serve

DOCS_SHOT = Path(__file__).resolve().parent.parent / "docs" / "pages-grid.png"
# The README's picture is refreshed on request only, so a test run leaves the checkout
# as it was: `BUENDNISBOT_SCREENSHOTS=1 pytest tests/test_pages_browser.py`.
REFRESH = os.environ.get("BUENDNISBOT_SCREENSHOTS") == "1"
DATES = "Di 1.12. 19 Uhr; Mi 2.12. 18:30; Do 3.12. 19-21 Uhr; Fr 4.12. 17 Uhr; Mo 7.12. 19 Uhr"


@pytest.fixture
async def ag2(bot: BotHarness) -> AsyncIterator[tuple[Ag2, WebServer]]:
    ag2 = await ag2_with_lead(bot)
    for who in ("carl", "dora"):
        await bot.dm(who).say(who, "/join ag2")
    server = await serve(bot)
    yield ag2, server
    await server.stop()


async def test_the_grid_on_a_phone_and_answering_in_it(
    ag2: tuple[Ag2, WebServer], tmp_path: Path
) -> None:
    group, server = ag2
    bot = group.bot
    [started, *_] = await group.anna.say("anna", f'/terminumfrage ag2 "Plenum im Januar" {DATES}')
    sid = started.split()[2].rstrip(":")
    await group.anna.say("anna", f"/termin {sid} 1 ja 2 ja 3 nein 4 wenn nötig 5 ja")
    await bot.dm("carl").say("carl", f"/termin {sid} 1 ja 2 wenn nötig 3 ja 4 nein 5 nein")
    await bot.dm("dora").say("dora", f"/termin {sid} 1 nein 2 ja 3 nein 4 nein 5 ja")
    token = page_token((await group.ben.say("ben", f"/seite {sid}"))[0])
    url = f"http://127.0.0.1:{server.port}/seite/{token}"

    async with phone() as tab:
        await tab.open(url)
        seen = await tab.text()
        assert f"Terminumfrage {sid}: Plenum im Januar" in seen
        rows = await tab.evaluate(
            "[...document.querySelectorAll('tbody tr')].map(r => r.innerText.split('\\t')"
            ".map(s => s.replace(/\\s+/g, ' ').trim()))"
        )
        assert rows == [
            ["Anna", "✓ ja", "✓ ja", "✗ nein", "(✓) wenn nötig", "✓ ja"],
            ["Ben (du)", "–", "–", "–", "–", "–"],
            ["Carl", "✓ ja", "(✓) wenn nötig", "✓ ja", "✗ nein", "✗ nein"],
            ["Dora", "✗ nein", "✓ ja", "✗ nein", "✗ nein", "✓ ja"],
        ]
        best = await tab.evaluate("document.querySelector('thead th.best').innerText")
        assert best.startswith("★ 2.")  # Mi: 2 ja + 1 wenn nötig, the most
        # The stylesheet applied (the CSP let it in), and nothing was blocked.
        colour = "getComputedStyle(document.querySelector('td.yes')).backgroundColor"
        assert await tab.evaluate(colour) == "rgb(212, 239, 220)"
        assert not [e for e in tab.events if "Content Security Policy" in str(e)]
        # The page fits the phone; the wide grid scrolls in its own box.
        assert await tab.evaluate("document.documentElement.scrollWidth") <= 390

        await tab.click('input[name="d1"][value="yes"]')
        await tab.click('input[name="d2"][value="maybe"]')
        await tab.click('input[name="d3"][value="no"]')
        await tab.click('button[type="submit"]')
        await tab.wait_for("Page.loadEventFired")
        assert "Gespeichert." in await tab.text()
        ben = await tab.evaluate(
            "document.querySelectorAll('tbody tr')[1].innerText.split('\\t').map(s => s.replace(/\\s+/g, ' ').trim())"
        )
        assert ben == ["Ben (du)", "✓ ja", "(✓) wenn nötig", "✗ nein", "–", "–"]
        checked = await tab.evaluate(
            "[...document.querySelectorAll('input:checked')].map(i => i.name + '=' + i.value)"
        )
        assert checked == ["d1=yes", "d2=maybe", "d3=no"]
        await tab.evaluate("window.scrollTo(0, 0)")
        shot = DOCS_SHOT if REFRESH else tmp_path / "pages-grid.png"
        await tab.screenshot(shot)
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert width == 390 and height > 844  # the whole page, longer than one screen
    [summary] = await group.group.say("ben", f"/termin {sid}")
    assert "Noch keine Antwort" not in summary


async def test_a_poll_result_on_a_phone(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    sid = await start_poll(group.group, "anna", '/poll "Welche Farbe?" "rot" "grün" "blau"')
    for who, number in (("anna", 1), ("ben", 2), ("carl", 2), ("dora", 3)):
        await group.bot.dm(who).say(who, f"/vote {sid} {number}")
    token = page_token((await group.ben.say("ben", f"/seite {sid}"))[0])
    async with phone() as tab:
        await tab.open(f"http://127.0.0.1:{server.port}/seite/{token}")
        assert [line for line in (await tab.text()).splitlines() if line] == [
            f"Zwischenstand: Welche Farbe? ({sid})",
            "1. rot – 1 (25 %)",
            "2. grün – 2 (50 %)",
            "3. blau – 1 (25 %)",
            "4 Stimmen",
        ]
        widths = await tab.evaluate(
            "[...document.querySelectorAll('.bar span')].map(s => "
            "Math.round(100 * s.getBoundingClientRect().width / "
            "s.parentElement.getBoundingClientRect().width))"
        )
        assert widths == [25, 50, 25]
