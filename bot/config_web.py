"""The `[web]` settings: where the bot's HTTP server listens and the address people
reach it at. Kept apart from bot/config.py, which reads everything else."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from bot.settings import WebSettings

ENV_WEB = {
    "web.listen": "BUENDNISBOT_WEB_LISTEN",
    "web.public_url": "BUENDNISBOT_WEB_PUBLIC_URL",
}
_LISTEN = re.compile(r"(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})")


def web_settings(
    flat: Mapping[str, Any],
    text: Callable[[Mapping[str, Any], str], str],
    error: Callable[[str], Exception],
) -> WebSettings | None:
    """`listen` ("127.0.0.1:8080") switches the server on; `public_url` (https) is what
    the links the bot sends begin with. `text` reads a key as text, `error` makes the
    configuration error (both from bot/config.py, so messages look alike)."""
    listen = text(flat, "web.listen")
    public = text(flat, "web.public_url").rstrip("/")
    if not listen:
        if public:
            raise error("web.listen (BUENDNISBOT_WEB_LISTEN): public_url is set, listen is not")
        return None
    found = _LISTEN.fullmatch(listen)
    if found is None or not 0 < int(found["port"]) < 65536:
        raise error(
            f"web.listen (BUENDNISBOT_WEB_LISTEN): {listen!r} is not host:port like 127.0.0.1:8080"
        )
    parts = urlsplit(public)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise error(
            "web.public_url (BUENDNISBOT_WEB_PUBLIC_URL): needs the https address people "
            "reach the server at, like https://bot.example.org"
        )
    return WebSettings(host=found["host"].strip("[]"), port=int(found["port"]), public_url=public)
