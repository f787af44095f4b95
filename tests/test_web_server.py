"""The bot's HTTP server over real requests: `/healthz`, security headers on every answer,
request size limits, unknown paths and methods, HEAD, no token in the access log; and
the `[web]` settings."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.web.health import health_endpoint
from bot.web.server import WebServer
from storage.db import Database
from tests.support.fake import BotHarness
from tests.support.web import WEB, feed_token, request, serve

SECURITY = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@pytest.fixture
async def server(bot: BotHarness) -> AsyncIterator[WebServer]:
    await bot.transport.start(bot.app.dispatcher)
    bot.app._started.append(bot.transport)  # the harness starts its transport itself
    server = await serve(bot, replace(WEB, max_body_bytes=1000))
    yield server
    await server.stop()


async def test_healthz_says_database_and_transports(bot: BotHarness, server: WebServer) -> None:
    answer = await request(server, "/healthz")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    who = {"node": bot.app.services.node_id, "role": "leader"}  # one process always leads
    assert json.loads(answer.body) == {
        "database": True,
        "ok": True,
        "transports": {"fake": True},
        **who,
    }

    bot.app._started.clear()  # the transport is not running any more
    answer = await request(server, "/healthz")
    assert answer.status == 503
    assert json.loads(answer.body) == {
        "database": True,
        "ok": False,
        "transports": {"fake": False},
        **who,
    }


async def test_healthz_notices_a_database_that_is_gone() -> None:
    gone = Database("postgresql+asyncpg://bot:pw@127.0.0.1:1/buendnis")  # nothing listens
    server = WebServer(WEB)
    server.add("GET", "/healthz", health_endpoint(gone, lambda: [("fake", True)]))
    await server.start()
    try:
        answer = await request(server, "/healthz")
    finally:
        await server.stop()
        await gone.dispose()
    assert answer.status == 503
    assert json.loads(answer.body) == {"database": False, "ok": False, "transports": {"fake": True}}


async def test_every_answer_has_the_security_headers(server: WebServer) -> None:
    for path, method, status in (
        ("/healthz", "GET", 200),
        ("/healthz", "HEAD", 200),
        ("/nothing/here", "GET", 404),
        ("/kalender/" + "a" * 32 + ".ics", "GET", 404),
        ("/healthz", "POST", 405),
        ("/" + "x" * 600, "GET", 414),
    ):
        answer = await request(server, path, method=method)
        assert answer.status == status, path
        for name, value in SECURITY.items():
            assert answer.headers[name] == value, (path, name)
        if method == "HEAD":
            assert answer.body == b""


async def test_a_body_over_the_limit_is_refused(server: WebServer) -> None:
    answer = await request(server, "/healthz", method="POST", data=b"x" * 5000)
    assert answer.status == 413
    assert answer.headers["X-Frame-Options"] == "DENY"


async def test_the_access_log_never_shows_a_token(
    bot: BotHarness, server: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.dm("ben").say("ben", "/join ag2")
    token = feed_token((await bot.dm("ben").say("ben", "/kalender"))[0])
    with caplog.at_level(logging.INFO, logger="bot.web.server"):
        assert (await request(server, f"/kalender/{token}.ics?x=1")).status == 200
        assert (await request(server, "/kalender/" + "b" * 32 + ".ics")).status == 404
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.web.server"]
    assert logged[0].startswith("web: GET /kalender/***.ics -> 200 (")
    assert logged[1].startswith("web: GET /kalender/***.ics -> 404 (")
    assert not any(token in line or "bbbb" in line or "x=1" in line for line in logged)


def settings_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "buendnisbot.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_web_settings_from_file_and_environment(tmp_path: Path) -> None:
    assert load_settings(settings_file(tmp_path, ""), environ={}).web is None
    path = settings_file(
        tmp_path, '[web]\nlisten = "127.0.0.1:8080"\npublic_url = "https://bot.example.org/"\n'
    )
    web = load_settings(path, environ={}).web
    assert web is not None
    assert (web.host, web.port, web.public_url) == ("127.0.0.1", 8080, "https://bot.example.org")
    env = load_settings(
        settings_file(tmp_path, ""),
        environ={
            "BUENDNISBOT_WEB_LISTEN": "[::1]:9000",
            "BUENDNISBOT_WEB_PUBLIC_URL": "https://x.example",
        },
    ).web
    assert env is not None and (env.host, env.port) == ("::1", 9000)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[web]\nlisten = "8080"\npublic_url = "https://x.example"',
            "web.listen (BUENDNISBOT_WEB_LISTEN): '8080' is not host:port like 127.0.0.1:8080",
        ),
        (
            '[web]\nlisten = "127.0.0.1:8080"\npublic_url = "http://x.example"',
            "web.public_url (BUENDNISBOT_WEB_PUBLIC_URL): needs the https address people "
            "reach the server at, like https://bot.example.org",
        ),
        (
            '[web]\npublic_url = "https://x.example"',
            "web.listen (BUENDNISBOT_WEB_LISTEN): public_url is set, listen is not",
        ),
        ('[web]\nport = "1"', "web.port: unknown setting (see config/buendnisbot.example.toml)"),
    ],
)
def test_bad_web_settings_say_which(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(settings_file(tmp_path, body), environ={})
    assert str(raised.value) == message


async def test_a_port_in_use_is_a_configuration_error(server: WebServer) -> None:
    second = WebServer(replace(WEB, port=server.port))
    with pytest.raises(ConfigError) as raised:
        await second.start()
    assert str(raised.value) == (
        f"web.listen (BUENDNISBOT_WEB_LISTEN): cannot listen on 127.0.0.1:{server.port}: "
        "Address already in use"
    )
