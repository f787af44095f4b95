"""Requests and responses as features see them, without the server library.

Features declare routes (`@feature.route("GET", "/kalender/{token}.ics")`) whose handlers
take `(services, request)` and return a `WebResponse`; only bot/web/server.py knows
aiohttp, as only the transports know python-telegram-bot and nio. A path parameter
named `token` is a secret: the access log shows `***` in its place.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SECRET_PARAMS = frozenset({"token"})
_PARAM = re.compile(r"\{([a-z_]+)\}")
# Link tokens are URL-safe base64 (secrets.token_urlsafe); nothing else is matched.
_SEGMENT = r"[A-Za-z0-9_-]{1,128}"


@dataclass(frozen=True)
class WebRequest:
    method: str
    path: str
    params: Mapping[str, str]  # from the route's {placeholders}
    headers: Mapping[str, str]  # names in lower case
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class WebResponse:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


def text(status: int, message: str) -> WebResponse:
    return WebResponse(status, message.encode() + b"\n")


NOT_FOUND = text(404, "Not found")

Endpoint = Callable[[WebRequest], Awaitable[WebResponse]]
# A feature's route handler, called as handler(services, request).
RouteHandler = Callable[[Any, WebRequest], Awaitable[WebResponse]]


@dataclass(frozen=True)
class Route:
    """`GET /kalender/{token}.ics`: a method and a path whose {placeholders} match one
    URL-safe segment each."""

    method: str
    pattern: str
    regex: re.Pattern[str]

    @classmethod
    def of(cls, method: str, pattern: str) -> Route:
        if not pattern.startswith("/"):
            raise ValueError(f"route {pattern!r} must start with /")
        parts = _PARAM.split(pattern)
        regex = "".join(
            f"(?P<{part}>{_SEGMENT})" if i % 2 else re.escape(part) for i, part in enumerate(parts)
        )
        return cls(method.upper(), pattern, re.compile(regex))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.fullmatch(path)
        return None if found is None else found.groupdict()

    def shown(self, params: Mapping[str, str]) -> str:
        """The path for the log: secret parameters as `***`."""
        return _PARAM.sub(
            lambda m: "***" if m[1] in SECRET_PARAMS else params.get(m[1], ""), self.pattern
        )
