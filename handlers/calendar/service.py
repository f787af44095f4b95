"""The rules of calendar feeds: which links a person gets, and what a link shows.

Scopes of a feed token: `mine:all` (the meetings of all the person's AGs), `mine:going`
(only the dates they said "Dabei" to), `ag:<id>` (one AG's meetings, for its leads).
What a link shows is decided anew on every request: the person's AGs as they are now;
an AG feed only while its owner still leads that AG (or is an admin), else 404.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.context import Services
from bot.i18n import N_, Lang
from handlers.calendar import feed as f
from handlers.calendar.tokens import digest, new_token
from storage import membership, repo
from storage.meetings import feed as rows
from storage.repo import Session
from storage.web import tokens
from storage.web.models import TokenPurpose, WebToken

FEED = TokenPurpose.FEED.value
ALL, GOING = "mine:all", "mine:going"
MINE = (ALL, GOING)
PAST = timedelta(days=90)  # how far back a feed shows dates


def ag_scope(ag_id: int) -> str:
    return f"ag:{ag_id}"


@dataclass(frozen=True)
class Given:
    token: str | None  # None: a live link exists and was given before
    scope: str
    since: datetime  # when the link was made


async def give(
    services: Services, person_id: int, scopes: tuple[str, ...], wanted: str, *, renew: bool
) -> Given:
    """The person's feed link for `scopes`: a new one if there is none or `renew` (the
    old one is revoked); else the live one, switched to `wanted` if that is another of
    `scopes` (the same link then shows the other choice)."""
    token = new_token()
    hashed = await digest(services.settings, token)
    now = services.now()

    async def work(session: Session) -> Given:
        row = await tokens.live(session, person_id, FEED, scopes)
        if row is not None and not renew:
            row.scope = wanted
            return Given(None, wanted, row.created_at)
        await tokens.revoke(session, person_id, FEED, scopes, now)
        made = await tokens.issue(
            session, digest=hashed, purpose=FEED, person_id=person_id, scope=wanted, now=now
        )
        return Given(token, wanted, made.created_at)

    return await services.db.run(work)


async def choice(services: Services, person_id: int) -> str | None:
    async with services.db.read() as session:
        row = await tokens.live(session, person_id, FEED, MINE)
    return None if row is None else row.scope


def links(services: Services, token: str) -> tuple[str, str]:
    """The webcal:// and the https:// address of a feed."""
    web = services.settings.web
    assert web is not None
    https = f"{web.public_url}/kalender/{token}.ics"
    return "webcal://" + https.removeprefix("https://"), https


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str
    changed: datetime  # the latest change of what the feed shows


async def render(services: Services, token: str) -> Rendered | None:
    """The feed behind `token`, or None (unknown, revoked, or no longer allowed)."""
    hashed = await digest(services.settings, token)
    now = services.now()
    async with services.db.read() as session:
        row = await tokens.find(session, hashed, FEED, now)
        if row is None:
            return None
        return await _render(services, session, row, now)


async def _render(
    services: Services, session: Session, row: WebToken, now: datetime
) -> Rendered | None:
    settings = services.settings
    language = await repo.person_language(session, row.person_id) or settings.language
    lang = services.translator.for_language(language)
    host = urlsplit(settings.web.public_url if settings.web else "").hostname or "buendnisbot"
    since = now - PAST
    if row.scope.startswith("ag:"):
        ag_id = int(row.scope.removeprefix("ag:"))
        if not await _leads(services, session, row.person_id, ag_id):
            return None
        ag_ids = [ag_id]
    else:
        ag_ids = [ag.id for ag, _role in await repo.memberships_of(session, row.person_id)]
    if row.scope == GOING:
        dated = [
            f.Dated(o, m, a)
            for o, m, a, _ in await rows.going(session, row.person_id, ag_ids, since)
        ]
        stamps = [f.changed(d.meeting) for d in dated]
        stamps.append(await rows.answered_last(session, row.person_id) or row.created_at)
        stamp = max(stamps)
        events = f.going_events(dated, lang, host, stamp)
        zones = {d.meeting.timezone for d in dated}
        firsts = [d.occurrence.start_at for d in dated]
    else:
        meetings = await rows.meetings_of(session, ag_ids, since)
        stamp = max([f.changed(m.meeting) for m in meetings] + [row.created_at])
        events = (e for m in meetings for e in f.meeting_events(m, lang, host, stamp))
        zones = {m.meeting.timezone for m in meetings}
        firsts = [m.meeting.start_at for m in meetings]
    name = await _name(session, lang, row.scope, ag_ids)
    body = f.calendar(name, events, zones, min(firsts, default=now), stamp)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Rendered(body, etag, stamp)


async def _leads(services: Services, session: Session, person_id: int, ag_id: int) -> bool:
    if ag_id in await membership.led_by(session, person_id):
        return True
    accounts = await repo.accounts_of(session, person_id)
    return any(services.settings.is_admin(a.platform, a.external_id) for a in accounts)


async def _name(session: Session, lang: Lang, scope: str, ag_ids: list[int]) -> str:
    if scope.startswith("ag:"):
        ags = {ag.id: ag for ag in await repo.all_ags(session, include_archived=True)}
        ag = ags.get(ag_ids[0])
        return f"{ag.name} ({ag.slug})" if ag else "Bündnisbot"
    if scope == GOING:
        return lang.gettext(N_("Bündnisbot: meine Treffen (Dabei)"))
    return lang.gettext(N_("Bündnisbot: Treffen meiner AGs"))
