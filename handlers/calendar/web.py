"""`GET /kalender/<token>.ics`: the feed, with HTTP caching.

The ETag is a hash of a summary of everything the feed shows (handlers/calendar/
service.py), so `If-None-Match` gives 304 without rendering when nothing changed.
`If-Modified-Since` alone never gives 304: some changes of what a feed shows carry no
time (`/kalender dabei`, joining an AG), so a date cannot say "unchanged" honestly
(RFC 9110 lets a server skip it). Last-Modified is still sent, as a hint. An unknown,
revoked or no longer allowed token gets the same 404 as a wrong path, so a link's
answer tells nothing about other links.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

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
    """Only the ETag decides; `changed` (Last-Modified) is not exact enough to."""
    matches = request.header("If-None-Match")
    if not matches:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in matches.split(",")}
    return "*" in tags or etag in tags
