"""A Terminumfrage as a page: the grid of dates × people (ja / wenn nötig / nein /
open), the best date marked, and for the link's owner a form to answer.

Answering follows `/termin`'s rules (members only, while open, before the deadline) and
stores through the same `polls.set_answers`, so the answer is in every summary from then
on. The form posts to the link itself and carries the page's nonce (handlers/pages/
links.py); a wrong or old nonce changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from bot.i18n import N_, Lang
from bot.web.http import WebResponse
from bot.when_text import format_short
from handlers.datepoll.render import best_first, counts, option_start, option_text
from handlers.pages.html import esc, page, tag
from storage.datepoll.models import Answer, DatePollStatus
from storage.datepoll.polls import DatePollView
from storage.models import Ag

WORDS = {"yes": N_("ja"), "maybe": N_("wenn nötig"), "no": N_("nein")}
SAVE = N_("Speichern")
OPEN = N_("offen")
MARKS = {"yes": "✓", "maybe": "(✓)", "no": "✗"}


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    member: bool = True  # False: answered while a member, has left since


@dataclass(frozen=True)
class Grid:
    view: DatePollView
    ag: Ag
    people: list[Person]  # members first, then others who answered
    me: int
    member: bool  # the link's owner may answer (is a member now)
    open: bool  # the poll takes answers now


def best_position(view: DatePollView) -> int | None:
    """The date `/termin` lists first, when someone said ja to it."""
    ranked = best_first(view)
    if not ranked or counts(view, ranked[0].position)["yes"] == 0:
        return None
    return ranked[0].position


def read_form(body: bytes, count: int) -> tuple[str, dict[int, Answer]]:
    """The nonce and the answers (`d1=yes&d2=no`) of a posted form; what is not a date
    of this poll or not an answer is left out."""
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=64)
    except ValueError:  # more fields than any form of ours has
        return "", {}
    given: dict[int, Answer] = {}
    for key, values in fields.items():
        number = key[1:]
        wanted = key.startswith("d") and number.isdecimal() and 1 <= int(number) <= count
        if wanted and values and values[-1] in WORDS:
            given[int(number) - 1] = Answer(values[-1])
    return (fields.get("nonce") or [""])[-1], given


def render(
    lang: Lang, grid: Grid, nonce: str, notice: tuple[str, bool] | None = None
) -> WebResponse:
    poll = grid.view.poll
    title = lang.t("Terminumfrage {id}: {title}", id=poll.short_id, title=poll.title).plain
    body = [tag("h1", title), tag("p", lang.t("(AG {ag})", ag=grid.ag.name).plain, "muted")]
    if poll.place:
        body.append(tag("p", lang.t("Ort: {place}", place=poll.place).plain))
    if poll.url.startswith(("https://", "http://")):  # never a javascript: link
        body.append(
            f'<p><a href="{esc(poll.url)}" rel="noopener noreferrer">{esc(poll.url)}</a></p>'
        )
    if notice is not None:
        body.append(tag("p", notice[0], "notice" if notice[1] else "notice bad"))
    body += _table(lang, grid)
    if grid.open and grid.member:
        body += _form(lang, grid, nonce)
    elif not grid.open:
        closed = lang.t("Die Terminumfrage {id} nimmt keine Antworten mehr an.", id=poll.short_id)
        body.append(tag("p", closed.plain, "muted"))
    return page(lang.code, title, body)


def _table(lang: Lang, grid: Grid) -> list[str]:
    view = grid.view
    best = best_position(view)
    picked = view.poll.picked_position
    cols = [("best" if o.position == best else "", o) for o in view.options]
    head = ["<th></th>"]
    for cls, option in cols:
        start = option_start(view, option)
        mark = "✅ " if picked == option.position else "★ " if cls else ""
        text = option_text(view, option, lang)
        day, _, hours = text.rpartition(" ")
        attr = f' class="{cls}"' if cls else ""
        head.append(
            f'<th{attr} scope="col"><time datetime="{start.isoformat()}">'
            f"{esc(mark)}{option.position + 1}.<br>{esc(day)}<br>{esc(hours)}</time></th>"
        )
    # One string per kind of cell, made once: a grid of 15 × 500 is 7,500 cells.
    cell = {key: _cell(lang, key) for key in WORDS}
    columns = [view.answers.get(option.position, {}) for _cls, option in cols]
    me = " " + lang.gettext(N_("(du)"))
    rows = [
        f'<tr><th scope="row">{esc(person.name + (me if person.id == grid.me else ""))}</th>'
        + "".join([cell.get(column.get(person.id, ""), OPEN_CELL) for column in columns])
        + "</tr>"
        for person in grid.people
    ]
    tallies = [counts(view, option.position) for _cls, option in cols]
    foot = []
    for key, label in WORDS.items():
        cells = [f"<td>{esc(lang.gettext(label))}</td>"]
        cells += [f"<td>{tally[key]}</td>" for tally in tallies]
        foot.append("<tr>" + "".join(cells) + "</tr>")
    members = [p.id for p in grid.people if p.member]
    missing = [sum(1 for p in members if p not in column) for column in columns]
    foot.append(
        f"<tr><td>{esc(lang.gettext(OPEN))}</td>"
        + "".join(f"<td>{n}</td>" for n in missing)
        + "</tr>"
    )
    out = [
        '<div class="scroll"><table><thead><tr>',
        *head,
        "</tr></thead><tbody>",
        *rows,
        "</tbody><tfoot>",
        *foot,
        "</tfoot></table></div>",
    ]
    legend = " · ".join(f"{MARKS[key]} {lang.gettext(word)}" for key, word in WORDS.items())
    legend += f" · – {lang.gettext(OPEN)}"
    if best is not None:
        legend += " · " + lang.gettext(N_("★ die meisten „ja“"))
    out.append(tag("p", legend, "muted"))
    return out


def _cell(lang: Lang, key: str) -> str:
    word = esc(lang.gettext(WORDS[key]))
    return f'<td class="{key}">{MARKS[key]}<span class="sr"> {word}</span></td>'


OPEN_CELL = '<td class="open">–</td>'


def _form(lang: Lang, grid: Grid, nonce: str) -> list[str]:
    view = grid.view
    out = [
        tag("h2", lang.gettext(N_("Deine Antworten"))),
        '<form method="post">',
        f'<input type="hidden" name="nonce" value="{esc(nonce)}">',
    ]
    for option in view.options:
        number = option.position + 1
        mine = view.answers.get(option.position, {}).get(grid.me)
        out.append(f"<fieldset><legend>{number}. {esc(option_text(view, option, lang))}</legend>")
        for value, word in WORDS.items():
            checked = " checked" if mine == value else ""
            out.append(
                f'<label><input type="radio" name="d{number}" value="{value}"{checked}> '
                f"{esc(lang.gettext(word))}</label>"
            )
        out.append("</fieldset>")
    out += [f'<button type="submit">{esc(lang.gettext(SAVE))}</button>', "</form>"]
    if view.poll.status == DatePollStatus.OPEN.value and view.poll.closes_at is not None:
        closes = view.poll.closes_at.astimezone(ZoneInfo(view.poll.timezone))
        until = lang.t("Antworten bis {when}.", when=format_short(closes, lang.code))
        out.append(tag("p", until.plain, "muted"))
    return out
