"""An AG's overview for its leads: members with their roles, the upcoming meetings with
their answers (dabei · vielleicht · nicht dabei), and the open polls and Terminumfragen."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import N_, Lang
from bot.web.http import WebResponse
from bot.when_text import format_short
from handlers.pages.html import esc, page, tag
from storage import repo
from storage.datepoll import polls as datepolls
from storage.meetings import occurrences, rsvps
from storage.models import Ag, Role
from storage.polls import polls
from storage.repo import Session

UPCOMING = 20
ROLES = {Role.LEAD.value: N_("Leitung"), Role.MEMBER.value: N_("Mitglied")}


async def render(session: Session, lang: Lang, ag: Ag, now: datetime, tz: ZoneInfo) -> WebResponse:
    title = lang.t("AG {ag}", ag=ag.name).plain + f" ({ag.slug})"
    members = await repo.members_of(session, ag.id)
    dates = await occurrences.upcoming(session, [ag.id], now, limit=UPCOMING)
    answers = await rsvps.answer_counts(session, [d.id for d in dates])
    open_polls = await polls.polls_of_ags(session, [ag.id], open_only=True)
    open_dates = await datepolls.open_of_ag(session, ag.id)
    body = [tag("h1", title)]
    body.append(tag("h2", lang.t("Mitglieder ({n})", n=len(members)).plain))
    body.append('<ul class="plain">')
    for m in members:
        name = m.accounts[0].display_name if m.accounts else "?"
        body.append(
            f"<li>{esc(name)} – {esc(lang.gettext(ROLES.get(m.role, ROLES['member'])))}</li>"
        )
    body.append("</ul>")
    body.append(tag("h2", lang.gettext(N_("Nächste Treffen"))))
    if not dates:
        body.append(tag("p", lang.gettext(N_("Keine Treffen geplant.")), "muted"))
    body.append('<ul class="plain">')
    for d in dates:
        when = format_short(d.start.astimezone(tz), lang.code)
        given = answers.get(d.id, {})
        said = lang.t(
            "{yes} dabei · {maybe} vielleicht · {no} nicht dabei",
            yes=given.get("yes", 0),
            maybe=given.get("maybe", 0),
            no=given.get("no", 0),
        ).plain
        body.append(
            f"<li>{esc(when)} – <strong>{esc(d.title)}</strong> (m{d.id}) · {esc(said)}</li>"
        )
    body.append("</ul>")
    body.append(tag("h2", lang.gettext(N_("Offene Umfragen"))))
    if not open_polls and not open_dates:
        body.append(tag("p", lang.gettext(N_("Keine offenen Umfragen.")), "muted"))
    body.append('<ul class="plain">')
    for p in open_polls:
        body.append(f"<li>{esc(p.question)} ({esc(p.short_id)})</li>")
    for dp in open_dates:
        label = lang.t("Terminumfrage {id}: {title}", id=dp.short_id, title=dp.title).plain
        body.append(f"<li>{esc(label)}</li>")
    body.append("</ul>")
    return page(lang.code, title, body)
