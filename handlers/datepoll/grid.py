"""A Terminumfrage as a PNG grid: people down, dates across, a cell per answer (ja,
wenn nötig, nein, none yet), the best date marked, the counts per date at the foot.

Pure drawing (Pillow) from texts the caller has already put in the reader's language;
callers run it in a thread. Its size is bounded whatever the AG's size: at most
`PEOPLE_MAX` rows of people (then one "… and N more" row) and at most 15 dates, so
500 members draw as fast as 60. Answers are drawn as shapes, not glyphs, so they read the
same with any installed font.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from handlers.polls.chart import BACKGROUND, INK, MARGIN, MUTED, fit_text, font_of

PEOPLE_MAX = 60
NAME_WIDTH = 200
COLUMN = 56
ROW = 28
HEAD = 4 * 17 + 12  # number, weekday, date, time
TITLE = 40
FOOT_ROWS = 3  # ja, wenn nötig, nein
MIN_WIDTH = 640
YES = (46, 125, 50)
MAYBE = (245, 176, 65)
MAYBE_TEXT = (166, 104, 0)  # amber text needs more contrast on white than a filled cell
NO = (198, 40, 40)
BEST = (232, 245, 233)
RULE = (222, 226, 230)


@dataclass(frozen=True)
class Grid:
    """What the picture shows, already in the reader's language."""

    title: str
    heads: Sequence[Sequence[str]]  # per date its header lines ("1", "Di", "01.12.", "19:00")
    people: Sequence[tuple[str, Sequence[str | None]]]  # name, per date yes/maybe/no/None
    best: int | None  # the column of the best date
    more: str  # "… und 440 weitere" when people were left out, else ""
    foot: Sequence[str]  # labels of the count rows: ja, wenn nötig, nein


def size_for(columns: int, people: int, more: bool) -> tuple[int, int]:
    width = max(MIN_WIDTH, 2 * MARGIN + NAME_WIDTH + columns * COLUMN)
    rows = min(people, PEOPLE_MAX) + (1 if more else 0) + FOOT_ROWS
    return width, 2 * MARGIN + TITLE + HEAD + rows * ROW + 8


def draw_grid(grid: Grid) -> bytes:
    """PNG bytes of the grid."""
    people = list(grid.people)[:PEOPLE_MAX]
    columns = len(grid.heads)
    width, height = size_for(columns, len(people), bool(grid.more))
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font, text, small = font_of(20), font_of(15), font_of(13)
    left = MARGIN + NAME_WIDTH
    draw.text((MARGIN, MARGIN), fit_text(draw, grid.title, title_font, width - 2 * MARGIN),
              font=title_font, fill=INK)  # fmt: skip
    top = MARGIN + TITLE
    body = top + HEAD
    if grid.best is not None:
        x = left + grid.best * COLUMN
        draw.rectangle((x, top, x + COLUMN - 1, height - MARGIN), fill=BEST)
    for column, head in enumerate(grid.heads):
        x = left + column * COLUMN
        for line, label in enumerate(head):
            font = text if line == 0 else small
            shown = fit_text(draw, label, font, COLUMN - 4)
            offset = (COLUMN - draw.textlength(shown, font=font)) / 2
            colour = YES if line == 0 and column == grid.best else INK
            draw.text((x + offset, top + line * 17), shown, font=font, fill=colour)
    y = body
    for name, answers in people:
        draw.line((MARGIN, y, left + columns * COLUMN, y), fill=RULE)
        draw.text((MARGIN, y + 5), fit_text(draw, name, text, NAME_WIDTH - 8), font=text, fill=INK)
        for column, answer in enumerate(answers[:columns]):
            _cell(draw, left + column * COLUMN, y, answer)
        y += ROW
    if grid.more:
        draw.text((MARGIN, y + 5), fit_text(draw, grid.more, text, width - 2 * MARGIN),
                  font=text, fill=MUTED)  # fmt: skip
        y += ROW
    draw.line((MARGIN, y, left + columns * COLUMN, y), fill=INK)
    totals = _totals(grid.people, columns)
    for row, (label, colour) in enumerate(zip(grid.foot, (YES, MAYBE_TEXT, NO), strict=False)):
        draw.text((MARGIN, y + 5), fit_text(draw, label, text, NAME_WIDTH - 8), font=text,
                  fill=colour)  # fmt: skip
        for column in range(columns):
            value = str(totals[column][row])
            offset = (COLUMN - draw.textlength(value, font=text)) / 2
            draw.text((left + column * COLUMN + offset, y + 5), value, font=text, fill=INK)
        y += ROW
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _totals(people: Sequence[tuple[str, Sequence[str | None]]], columns: int) -> list[list[int]]:
    """Per date: ja, wenn nötig, nein, over everyone (also those not drawn)."""
    found = [[0, 0, 0] for _ in range(columns)]
    index = {"yes": 0, "maybe": 1, "no": 2}
    for _, answers in people:
        for column, answer in enumerate(answers[:columns]):
            if answer in index:
                found[column][index[answer]] += 1
    return found


def _cell(draw: ImageDraw.ImageDraw, x: int, y: int, answer: str | None) -> None:
    """✓ on green, ~ on amber, ✗ on red, nothing for no answer: as lines, not glyphs."""
    if answer is None:
        return
    box = (x + 10, y + 3, x + COLUMN - 10, y + ROW - 3)
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    white = (255, 255, 255)
    if answer == "yes":
        draw.rounded_rectangle(box, radius=5, fill=YES)
        draw.line((cx - 8, cy, cx - 2, cy + 6, cx + 9, cy - 6), fill=white, width=3)
    elif answer == "maybe":
        draw.rounded_rectangle(box, radius=5, fill=MAYBE)
        draw.arc((cx - 10, cy - 5, cx, cy + 5), 200, 340, fill=INK, width=3)
        draw.arc((cx, cy - 5, cx + 10, cy + 5), 20, 160, fill=INK, width=3)
    else:
        draw.rounded_rectangle(box, radius=5, fill=NO)
        draw.line((cx - 6, cy - 6, cx + 6, cy + 6), fill=white, width=3)
        draw.line((cx - 6, cy + 6, cx + 6, cy - 6), fill=white, width=3)
