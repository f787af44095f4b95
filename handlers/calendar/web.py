"""`GET /kalender/<token>.ics`: the feed, with HTTP caching.

The ETag is a hash of a summary of everything the feed shows (handlers/calendar/
service.py), so `If-None-Match` gives 304 without rendering when nothing changed;
`If-Modified-Since` is honoured when no `If-None-Match` is sent (RFC 9110). An unknown, revoked or no longer allowed token gets the
same 404 as a wrong path, so a link's answer tells nothing about other links.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from bot.context import Services
from bot.web.http import NOT_FOUND, WebRequest, WebResponse
from handlers.calendar import service

ICS = "text/calendar; charset=utf-8"
# Calendar apps poll; a private feed must not be kept by shared caches.
CACHE = "private, max-age=300, must-revalidate"


async def serve_feed(services: Services, request: WebRequest) -> WebResponse:
    rendered = await service.render(
        services,
        request.params["token"],
        lambda etag, changed: _unchanged(request, etag, changed),
    )
    if rendered is None:
        return NOT_FOUND
    headers = {
        "ETag": rendered.etag,
        "Last-Modified": format_datetime(rendered.changed.astimezone(UTC), usegmt=True),
        "Cache-Control": CACHE,
    }
    if rendered.body is None:
        return WebResponse(304, b"", ICS, headers)
    return WebResponse(200, rendered.body, ICS, headers)


def _unchanged(request: WebRequest, etag: str, changed: datetime) -> bool:
    matches = request.header("If-None-Match")
    if matches:
        tags = {tag.strip().removeprefix("W/") for tag in matches.split(",")}
        return "*" in tags or etag in tags
    since = request.header("If-Modified-Since")
    if not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return changed <= when
