"""A poll result as a PNG bar chart, like the bars on the founding survey's slides.

Pure drawing (Pillow): no network, no database. Rendering takes a few milliseconds;
callers run it in a thread so the event loop never waits on it.

Text uses a system font with German letters where one is installed (DejaVu, Liberation,
Noto, Arial); Pillow's built-in font lacks umlauts, so with it they are spelled out
(ä -> ae) rather than drawn as boxes.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.text_cut import cut

WIDTH = 800
MARGIN = 32
TITLE_SIZE = 24
LABEL_SIZE = 18
LINE = 30  # height of one title line
ROW = 64  # one option: its label and its bar
BAR = 24
FOOTER = 48
BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
TRACK = (233, 236, 239)
BAR_COLOUR = (46, 125, 50)  # a calm green, readable for red-green colour blindness on white
LEADER_COLOUR = (27, 94, 32)
TITLE_LINES_MAX = 4


FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/noto/NotoSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)
_SPELLED_OUT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss",
     "–": "-", "—": "-", "„": '"', "”": '"', "‚": "'", "‘": "'", "’": "'", "€": "EUR"}
)  # fmt: skip

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def _font_file() -> str | None:
    return next((f for f in FONT_FILES if Path(f).is_file()), None)


@functools.cache
def _font(size: int) -> Font:
    path = _font_file()
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


@functools.cache
def _missing_glyph(font: Font) -> bytes:
    return bytes(font.getmask("\U0010ffff"))


def _drawable(text: str, font: Font) -> str:
    """`text` with the characters the font cannot draw spelled out or simplified."""
    if _font_file() is not None:
        return text
    missing = _missing_glyph(font)
    out = []
    for ch in text:
        if ch.isascii() or bytes(font.getmask(ch)) != missing:
            out.append(ch)
            continue
        spelled = ch.translate(_SPELLED_OUT)
        if spelled == ch:
            spelled = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?"
        out.append(spelled)
    return "".join(out)


def _fit(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: Font,
    width: int,
) -> str:
    """`text` cut with an ellipsis between words (bot/text_cut.py) to fit `width` pixels."""
    text = _drawable(text, font)
    fitted = text
    while len(fitted) > 1 and draw.textlength(fitted, font=font) > width:
        fitted = cut(text, len(fitted) - 1)  # one word less each time
    return fitted


def _wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: Font,
    width: int,
) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in _drawable(text, font).split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > TITLE_LINES_MAX:
        lines = [
            *lines[: TITLE_LINES_MAX - 1],
            _fit(draw, " ".join(lines[TITLE_LINES_MAX - 1 :]), font, width),
        ]
    return lines or [""]


def size_for(title: str, options: int) -> tuple[int, int]:
    """The image size `bar_chart` produces for this title and number of options."""
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    title_lines = len(_wrap(probe, title, _font(TITLE_SIZE), WIDTH - 2 * MARGIN))
    return WIDTH, MARGIN + title_lines * LINE + 16 + options * ROW + FOOTER


def bar_chart(
    title: str, labels: Sequence[str], counts: Sequence[int], footer: str = "", *, total: int = 0
) -> bytes:
    """PNG bytes: one horizontal bar per option with its count and share of `total`
    (the number of voters; several answers may add up to more than 100 %)."""
    width, height = size_for(title, len(labels))
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font, label_font = _font(TITLE_SIZE), _font(LABEL_SIZE)
    inner = width - 2 * MARGIN
    y = MARGIN
    for line in _wrap(draw, title, title_font, inner):
        draw.text((MARGIN, y), line, font=title_font, fill=INK)
        y += LINE
    y += 16
    base = total or max(sum(counts), 1)
    best = max(counts, default=0)
    value_width = 130
    for label, count in zip(labels, counts, strict=True):
        draw.text((MARGIN, y), _fit(draw, label, label_font, inner), font=label_font, fill=INK)
        bar_top = y + 28
        track = inner - value_width
        draw.rectangle((MARGIN, bar_top, MARGIN + track, bar_top + BAR), fill=TRACK)
        share = count / base if base else 0.0
        filled = round(track * min(share, 1.0))
        if filled > 0:
            colour = LEADER_COLOUR if count == best and best > 0 else BAR_COLOUR
            draw.rectangle((MARGIN, bar_top, MARGIN + filled, bar_top + BAR), fill=colour)
        value = f"{count}  ({round(share * 100)} %)"
        draw.text((MARGIN + track + 12, bar_top + 1), value, font=label_font, fill=INK)
        y += ROW
    if footer:
        draw.text(
            (MARGIN, height - FOOTER + 12),
            _fit(draw, footer, label_font, inner),
            font=label_font,
            fill=MUTED,
        )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# The same fonts and cutting for the other pictures (handlers/datepoll/grid.py).
font_of = _font
fit_text = _fit
