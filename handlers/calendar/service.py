"""The rules of calendar feeds: which links a person gets, and what a link shows.

Scopes of a feed token: `mine:all` (the meetings of all the person's AGs), `mine:going`
(only the dates they said "Dabei" to), `ag:<id>` (one AG's meetings, for its leads).
What a link shows is decided anew on every request: the person's AGs as they are now;
an AG feed only while its owner still leads that AG (or is an admin), else 404.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.commands.rights import leads_now
from bot.context import Services
from bot.i18n import N_, Lang
from handlers.calendar import feed as f
from handlers.calendar.tokens import digest, new_token
from storage import repo
from storage.meetings import feed as rows
from storage.models import Ag
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


async def revoke(services: Services, token: str) -> None:
    """Revoke the link of this token (one that was never delivered)."""
    hashed = await digest(services.settings, token)
    now = services.now()

    async def work(session: Session) -> None:
        row = await tokens.find(session, hashed, FEED, now)
        if row is not None:
            row.revoked_at = now

    await services.db.run(work)


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
    etag: str
    changed: datetime  # the latest change of what the feed shows (Last-Modified)
    body: bytes | None  # None: the asker's copy is current (304)


Unchanged = Callable[[str, datetime], bool]


async def render(services: Services, token: str, unchanged: Unchanged) -> Rendered | None:
    """The feed behind `token`, or None (unknown, revoked, or no longer allowed). The
    ETag comes from a summary of what the feed shows (one cheap query), so a calendar
    app whose copy is current (`unchanged(etag, changed)`) gets no body and costs no
    rendering. FORMAT is part of it: raise it when the writer's output changes."""
    hashed = await digest(services.settings, token)
    now = services.now()
    async with services.db.read() as session:
        row = await tokens.find(session, hashed, FEED, now)
        if row is None:
            return None
        return await _render(services, session, row, now, unchanged)


FORMAT = 1


async def _render(
    services: Services, session: Session, row: WebToken, now: datetime, unchanged: Unchanged
) -> Rendered | None:
    settings = services.settings
    language = await repo.person_language(session, row.person_id) or settings.language
    lang = services.translator.for_language(language)
    host = urlsplit(settings.web.public_url if settings.web else "").hostname or "buendnisbot"
    since = now - PAST
    ags = {ag.id: ag for ag in await repo.all_ags(session, include_archived=True)}
    if row.scope.startswith("ag:"):
        ag_ids = [int(row.scope.removeprefix("ag:"))]
        if ag_ids[0] not in ags or not await leads_now(
            services.settings, session, row.person_id, ag_ids[0]
        ):
            return None
    else:
        ag_ids = [ag.id for ag, _role in await repo.memberships_of(session, row.person_id)]
    going = row.scope == GOING
    summary = await rows.summary(session, ag_ids, row.person_id if going else None)
    names = [(i, ags[i].name, ags[i].slug) for i in ag_ids]
    key = (FORMAT, row.id, row.scope, language, host, since.date(), names, summary)
    etag = '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:32] + '"'
    stamps = [row.created_at] + [v for v in summary if isinstance(v, datetime)]
    stamp = max(s.replace(microsecond=0) for s in stamps)
    if unchanged(etag, stamp):
        return Rendered(etag, stamp, None)
    writer = f.Writer(lang, host, stamp)
    if going:
        dated = await rows.going(session, row.person_id, ag_ids, since)
        events: Iterable[list[str]] = (writer.date(m, d) for m, d in dated)
        zones = {m.timezone for m, _ in dated}
        first = min((d.start_at for _, d in dated), default=now)
    else:
        meetings = await rows.meetings_of(session, ag_ids, since)
        events = (lines for m in meetings for lines in writer.meeting(m))
        zones = {m.timezone for m in meetings}
        first = min((m.start_at for m in meetings), default=now)
    name = _name(lang, row.scope, ags.get(ag_ids[0]) if ag_ids else None)
    return Rendered(etag, stamp, f.calendar(name, events, zones, first))


def _name(lang: Lang, scope: str, ag: Ag | None) -> str:
    if scope.startswith("ag:") and ag is not None:
        return f"{ag.name} ({ag.slug})"
    if scope == GOING:
        return lang.gettext(N_("Bündnisbot: meine Treffen (Dabei)"))
    return lang.gettext(N_("Bündnisbot: Treffen meiner AGs"))
