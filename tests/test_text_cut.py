"""Cut questions and titles (issue 13): they end in "…" and never stop inside a word; one
helper (bot/text_cut.py) for every reply that shortens a question or a title."""

from __future__ import annotations

import pytest

from bot.core import ButtonPress
from bot.text_cut import cut
from tests.support.fake import BotHarness
from tests.support.meetings import ag2_with_lead
from tests.support.poll_chat import Clock, setup_ag, start_poll

LONG = (
    "Haben Sie Interesse, sich in einem zivilgesellschaftlichen Bündnis für Mitteldeutschland "
    "einzubringen?"
)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Wann treffen wir uns?", 80, "Wann treffen wir uns?"),
        ("Wann treffen wir uns?", 21, "Wann treffen wir uns?"),
        ("Wann treffen wir uns?", 20, "Wann treffen wir…"),
        ("Wann treffen wir uns?", 17, "Wann treffen wir…"),
        ("Wann treffen wir uns?", 16, "Wann treffen…"),
        ("Ort, Zeit und Thema", 10, "Ort, Zeit…"),
        ("Ort, Zeit und Thema", 9, "Ort…"),
        ("Donaudampfschifffahrt", 10, "Donaudamp…"),
        ("  Plenum  ", 6, "Plenum"),
    ],
)
def test_a_cut_ends_in_an_ellipsis_between_words(text: str, limit: int, expected: str) -> None:
    assert cut(text, limit) == expected
    assert len(cut(text, limit)) <= limit


async def test_polls_lists_a_long_question_cut_between_words(bot: BotHarness) -> None:
    bot.app.services.clock = Clock()
    group = await setup_ag(bot)
    short_id = await start_poll(group, "anna", f'/poll "{LONG}" "Ja" "Nein"')

    [listing] = await bot.dm("ben").say("ben", "/polls")

    assert listing.splitlines()[1] == (
        f"• {short_id} – Haben Sie Interesse, sich in einem zivilgesellschaftlichen Bündnis "
        "für… – ag2 – läuft"
    )


async def test_a_long_meeting_title_in_a_button_toast_is_cut_between_words(
    bot: BotHarness,
) -> None:
    setup = await ag2_with_lead(bot)
    title = " ".join(["Vorbereitungstreffen"] * 9)  # 188 characters
    await setup.anna.say("anna", f"/meeting ag2 03.12.2026 18:00 {title}")

    press = ButtonPress(setup.group.ref, bot.user("carla"), "rsvp:1:yes", "cb-1")
    toast = await bot.app.dispatcher.button_pressed(press)

    shown = " ".join(["Vorbereitungstreffen"] * 5)
    assert toast == f"✅ Eingetragen: Du kommst zu „{shown}…“ (Do 03.12. 18:00)."


def test_the_chart_cuts_a_line_between_words_too() -> None:
    from PIL import Image, ImageDraw

    from handlers.polls import chart

    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    fitted = chart._fit(draw, LONG, chart._font(chart.LABEL_SIZE), 300)

    assert fitted.endswith("…") and LONG.startswith(fitted[:-1] + " ")
    assert draw.textlength(fitted, font=chart._font(chart.LABEL_SIZE)) <= 300
