"""A poll's result as a page: the same tally and numbers as `/results` (handlers/polls/
tally.py), one bar per option drawn in CSS (width classes in the stylesheet, as the CSP
allows no inline style)."""

from __future__ import annotations

from bot.context import Services
from bot.i18n import Lang
from bot.web.http import WebResponse
from handlers.pages.html import esc, page, tag
from handlers.polls.render import deadline_short
from handlers.polls.tally import listed, tied, voters_line
from handlers.polls.views import tally_of
from storage.polls.ballots import Tally
from storage.polls.view import PollView


def percent(count: int, total: int) -> int:
    """As `/results` rounds it."""
    return round(count / total * 100) if total else 0


def render(services: Services, lang: Lang, view: PollView, tally: Tally) -> WebResponse:
    named = f"{view.poll.question} ({view.short_id})"
    if view.is_open:
        title = lang.t("Zwischenstand: {poll}", poll=named).plain
    else:
        title = lang.t("Ergebnis: {poll}", poll=named).plain
    leaders = set(tied(tally.counts))
    top = max(tally.counts, default=0)
    items = []
    for number, (option, count) in enumerate(zip(view.options, tally.counts, strict=True), 1):
        share = percent(count, tally.voters)
        lead = ' class="lead"' if count and (count == top or number - 1 in leaders) else ""
        items.append(
            f"<li{lead}><div>{number}. <strong>{esc(option)}</strong> – {count} ({share} %)</div>"
            f'<div class="bar"><span class="w{min(share, 100)}"></span></div></li>'
        )
    body = [tag("h1", title), '<ul class="bars">', *items, "</ul>"]
    notes = [voters_line(lang, tally).plain]
    if len(leaders) > 1:
        notes.append(
            lang.tn(
                "Gleichstand: {options} mit je {n} Stimme.",
                "Gleichstand: {options} mit je {n} Stimmen.",
                tally.counts[min(leaders)],
                options=listed(lang, [view.options[i] for i in sorted(leaders)]),
            ).plain
        )
    if view.poll.multi and tally.voters:
        notes.append(lang.t("Mehrere Antworten möglich: Prozent der Abstimmenden.").plain)
    if tally.not_counted:
        notes.append(
            lang.tn(
                "{n} Stimme kam von außerhalb der AG und zählt nicht.",
                "{n} Stimmen kamen von außerhalb der AG und zählen nicht.",
                tally.not_counted,
            ).plain
        )
    if view.poll.anonymous:
        notes.append(lang.t("Anonym: niemand sieht, wer wie abgestimmt hat.").plain)
    if view.is_open and view.closes_at is not None:
        when = deadline_short(services, view.closes_at, lang)
        notes.append(lang.t("Läuft bis {when}.", when=when).plain)
    elif not view.is_open:
        notes.append(lang.t("Die Umfrage ist beendet.").plain)
    body += [tag("p", note, "muted") for note in notes]
    return page(lang.code, title, body)


async def result_page(services: Services, lang: Lang, view: PollView) -> WebResponse:
    return render(services, lang, view, await tally_of(services, view))
