"""One small HTTP server on the bot's event loop (aiohttp's, which matrix-nio already
brings): no new dependency, async, mature. python-telegram-bot's own webhook server
would bring tornado and serve only Telegram; Starlette with uvicorn would be two new
packages for the same job.

Every response carries strict security headers; bodies over `max_body_bytes` are refused
before they are read; the access log names the route with its tokens as `***` and never
a query string. Routes are a table looked up per request, so a transport can add its
webhook after the server started.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping

from aiohttp import web

from bot.config import ConfigError
from bot.settings import WebSettings
from bot.web.http import NOT_FOUND, Endpoint, Route, WebRequest, WebResponse, text

log = logging.getLogger(__name__)

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_PATH = 512


class WebServer:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self._routes: list[tuple[Route, Endpoint]] = []
        self._runner: web.AppRunner | None = None
        self.port = settings.port

    def add(self, method: str, pattern: str, endpoint: Endpoint) -> None:
        route = Route.of(method, pattern)
        if any(r.method == route.method and r.pattern == pattern for r, _ in self._routes):
            raise ValueError(f"route {method} {pattern} declared twice")
        self._routes.append((route, endpoint))

    def url(self, path: str) -> str:
        """The public address of `path` (which starts with /)."""
        return self.settings.public_url + path

    async def start(self) -> None:
        app = web.Application(client_max_size=self.settings.max_body_bytes)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"web.listen (BUENDNISBOT_WEB_LISTEN): cannot listen on "
                f"{self.settings.host}:{self.settings.port}: "
                f"{os.strerror(exc.errno) if exc.errno else exc}"
            ) from None
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        log.info("web: listening on %s:%s for %s", self.settings.host, self.port, self.url("/"))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        began = time.perf_counter()
        shown = "(unknown)"
        answer = await self._answer(request)
        if isinstance(answer, tuple):
            answer, shown = answer
        response = web.Response(
            status=answer.status,
            body=answer.body if request.method != "HEAD" else b"",
            headers={
                "Content-Type": answer.content_type,
                "Cache-Control": "no-store",
                **answer.headers,
                **SECURITY_HEADERS,
            },
        )
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(answer.body))
        log.info(
            "web: %s %s -> %s (%.1f ms)",
            request.method,
            shown,
            answer.status,
            (time.perf_counter() - began) * 1000,
        )
        return response

    async def _answer(self, request: web.Request) -> WebResponse | tuple[WebResponse, str]:
        path = request.path
        if len(path) > MAX_PATH:
            return text(414, "URI too long")
        size = request.content_length
        if size is not None and size > self.settings.max_body_bytes:
            return text(413, "Request body too large")
        method = "GET" if request.method == "HEAD" else request.method
        allowed = False
        for route, endpoint in self._routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method != method:
                allowed = True
                continue
            try:
                body = await request.read() if method == "POST" else b""
            except web.HTTPRequestEntityTooLarge:
                return text(413, "Request body too large"), route.shown(params)
            incoming = WebRequest(
                method=method,
                path=path,
                params=params,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
            )
            try:
                return await endpoint(incoming), route.shown(params)
            except Exception:
                log.exception("web: %s %s failed", method, route.shown(params))
                return text(500, "Internal error"), route.shown(params)
        return text(405, "Method not allowed") if allowed else NOT_FOUND
