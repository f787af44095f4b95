"""The bot's web server, started for a BotHarness on a free port, and real HTTP requests
against it (aiohttp's client, over TCP)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import aiohttp
from multidict import CIMultiDictProxy

from bot.settings import WebSettings
from bot.web.server import WebServer
from tests.support.fake import BotHarness

PUBLIC = "https://bot.example.org"
WEB = WebSettings(host="127.0.0.1", port=0, public_url=PUBLIC)
FEED_LINK = re.compile(re.escape(PUBLIC) + r"/kalender/([A-Za-z0-9_-]+)\.ics")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


def configure(bot: BotHarness, web: WebSettings = WEB) -> None:
    """Give the harness `[web]` settings (after it was built without)."""
    services = bot.app.services
    services.settings = replace(services.settings, web=web)
    bot.app.settings = services.settings


async def serve(bot: BotHarness, web: WebSettings = WEB) -> WebServer:
    """Configure `[web]` and start the server with the features' routes and /healthz."""
    configure(bot, web)
    server = WebServer(web)
    bot.app.web = server
    await bot.app.start_web(server)
    return server


async def request(
    server: WebServer,
    path: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
) -> Answer:
    url = f"http://127.0.0.1:{server.port}{path}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, headers=headers, data=data) as response,
    ):
        return Answer(response.status, response.headers, await response.read())


def feed_token(reply: str) -> str:
    found = FEED_LINK.search(reply)
    assert found, f"no feed link in {reply!r}"
    return found[1]
