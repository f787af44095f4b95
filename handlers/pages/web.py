"""`GET /seite/<token>`: the page a link shows; `POST` answers a Terminumfrage from it;
`GET /seite.css`: the one stylesheet.

Each request looks the link up again (revoked or expired: 404) and checks the owner's
right now (handlers/pages/access.py): a lead who stepped down, a member who left, gets
the same 404 as an unknown link, so an answer tells nothing about other links.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.context import Services
from bot.i18n import N_, Lang
from bot.web.http import NOT_FOUND, WebRequest, WebResponse
from handlers.datepoll.service import answered
from handlers.pages import access, grid, links, overview, result
from handlers.pages.html import CSS
from storage import repo
from storage.datepoll import polls as datepolls
from storage.datepoll.models import DatePoll, DatePollStatus
from storage.models import Account, Ag
from storage.polls.view import view_by_id
from storage.repo import Session
from storage.web import grid as grid_rows
from storage.web.models import WebToken

log = logging.getLogger(__name__)

CSS_BODY = CSS.encode()
WIDTHS = "".join(f".w{n}{{width:{n}%}}" for n in range(101)).encode()


async def serve_css(services: Services, request: WebRequest) -> WebResponse:
    return WebResponse(
        200,
        CSS_BODY + WIDTHS + b"\n",
        "text/css; charset=utf-8",
        {"Cache-Control": "public, max-age=86400"},
    )


async def serve_page(services: Services, request: WebRequest) -> WebResponse:
    token = request.params["token"]
    async with services.db.read() as session:
        row = await links.find(services, session, token)
        if row is None:
            return NOT_FOUND
        kind, _, ident = row.scope.partition(":")
        if not ident.isdecimal():
            return NOT_FOUND
        if kind == "poll":
            return await _poll(services, session, row, int(ident))
        if kind == "ag":
            return await _overview(services, session, row, int(ident))
        if kind != "datepoll":
            return NOT_FOUND
        loaded = await _grid(services, session, row, int(ident))
    if loaded is None:
        return NOT_FOUND
    return grid.render(loaded[1], loaded[0], await links.nonce(services, token))


async def answer(services: Services, request: WebRequest) -> WebResponse:
    """The grid's form: check the rights and the deadline as `/termin` does, then the
    nonce; store, and show the grid again with what happened."""
    token = request.params["token"]
    async with services.db.read() as session:
        row = await links.find(services, session, token)
        kind, _, ident = row.scope.partition(":") if row else ("", "", "")
        if row is None or kind != "datepoll" or not ident.isdecimal():
            return NOT_FOUND
        loaded = await _grid(services, session, row, int(ident))
    if loaded is None:
        return NOT_FOUND
    shown, lang = loaded
    poll = shown.view.poll
    nonce, given = grid.read_form(request.body, len(shown.view.options))
    fresh = await links.nonce(services, token)
    if not shown.member:
        refused = lang.t(
            "Antworten dürfen nur Mitglieder der AG {ag}. Beitreten: {join}",
            ag=shown.ag.name,
            join=f"/join {shown.ag.slug}",
        )
        return _with_status(403, grid.render(lang, shown, fresh, (refused.plain, False)))
    if not shown.open or shown.ag.archived:  # an archived AG's Terminumfrage rests
        return _with_status(409, grid.render(lang, shown, fresh, (_closed(lang, poll), False)))
    if not await links.nonce_ok(services, token, nonce):
        notice = lang.gettext(
            N_("Das Formular ist abgelaufen. Hier ist es neu; bitte noch einmal.")
        )
        return _with_status(403, grid.render(lang, shown, fresh, (notice, False)))
    if not given:
        notice = lang.gettext(N_("Du hast nichts ausgewählt."))
        return _with_status(400, grid.render(lang, shown, fresh, (notice, False)))
    now = services.now()

    async def store(session: Session) -> int | None:
        """Checked again in the writing transaction: a pick may have come in between.
        How many answers changed; None: the poll takes none."""
        current = await session.get(DatePoll, poll.id)
        if current is None:
            return None
        await session.refresh(current)
        if not _takes_answers(current, now):
            return None
        return await datepolls.set_answers(session, poll.id, row.person_id, "web", given, now)

    changed = await services.db.run(store)
    if changed is None:
        return _with_status(409, grid.render(lang, shown, fresh, (_closed(lang, poll), False)))
    if changed:
        await answered(services, poll.id)  # the chats' summaries, the lead told
    log.info("date poll %s answered on its page (%d dates)", poll.short_id, len(given))
    async with services.db.read() as session:
        again = await _grid(services, session, row, int(ident))
    if again is None:
        return NOT_FOUND
    return grid.render(lang, again[0], fresh, (lang.gettext(N_("Gespeichert.")), True))


def _closed(lang: Lang, poll: DatePoll) -> str:
    return lang.t("Die Terminumfrage {id} nimmt keine Antworten mehr an.", id=poll.short_id).plain


def _takes_answers(poll: DatePoll, now: datetime) -> bool:
    """`/termin`'s rule: open, and before the deadline."""
    return poll.status == DatePollStatus.OPEN.value and (
        poll.closes_at is None or poll.closes_at > now
    )


def _with_status(status: int, response: WebResponse) -> WebResponse:
    return WebResponse(status, response.body, response.content_type, response.headers)


async def _poll(services: Services, session: Session, row: WebToken, poll_id: int) -> WebResponse:
    view = await view_by_id(session, poll_id)
    if view is None or not await access.may_read(
        services.settings, session, row.person_id, view.ag.id if view.ag else None
    ):
        return NOT_FOUND
    lang = await access.lang_of(services, session, row.person_id)
    return await result.result_page(services, lang, view)


async def _overview(services: Services, session: Session, row: WebToken, ag_id: int) -> WebResponse:
    ag = await session.get(Ag, ag_id)
    if ag is None or not await access.may_lead(services.settings, session, row.person_id, ag_id):
        return NOT_FOUND
    lang = await access.lang_of(services, session, row.person_id)
    return await overview.render(session, lang, ag, services.now(), services.settings.tz)


async def _grid(
    services: Services, session: Session, row: WebToken, poll_id: int
) -> tuple[grid.Grid, Lang] | None:
    poll = await session.get(DatePoll, poll_id)
    if poll is None:
        return None
    await session.refresh(poll)
    if not await access.may_read(services.settings, session, row.person_id, poll.ag_id):
        return None
    ag = await session.get(Ag, poll.ag_id)
    if ag is None:
        return None
    lang = await access.lang_of(services, session, row.person_id)
    view = await grid_rows.view(session, poll)
    members = await grid_rows.member_names(session, poll.ag_id)
    people = [grid.Person(person_id, name) for person_id, name in members]
    known = {p.id for p in people}
    for other in sorted(view.answered() - known):
        accounts = await repo.accounts_of(session, other)
        people.append(grid.Person(other, _name(accounts), member=False))
    is_open = _takes_answers(poll, services.now())
    shown = grid.Grid(view, ag, people, row.person_id, row.person_id in known, is_open)
    return shown, lang


def _name(accounts: list[Account]) -> str:
    return accounts[0].display_name if accounts else "?"
