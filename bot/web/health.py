"""`GET /healthz`: 200 when the database answers and every transport runs, 503 if not,
with a tiny JSON saying which, and this process's role among several (leader or
standby, both 200) and node id (host:pid:random). Nothing secret: no names, versions or
settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from bot.web.http import Endpoint, WebRequest, WebResponse
from storage.db import Database


def health_endpoint(
    db: Database,
    running: Callable[[], Iterable[tuple[str, bool]]],
    who: Callable[[], Mapping[str, str]] | None = None,
) -> Endpoint:
    """`running()` yields (network, whether its transport runs) for each configured one;
    `who()` adds the role and node id."""

    async def health(_request: WebRequest) -> WebResponse:
        database = await db.ping()
        transports = dict(running())
        ok = database and all(transports.values())
        body: dict[str, object] = {"ok": ok, "database": database, "transports": transports}
        if who is not None:
            body.update(who())
        return WebResponse(
            200 if ok else 503,
            json.dumps(body, sort_keys=True).encode(),
            "application/json",
        )

    return health
