"""`GET /healthz`: 200 when the database answers and every transport runs, 503 if not,
with a tiny JSON saying which. Nothing secret: no names, ids, versions or settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from bot.web.http import Endpoint, WebRequest, WebResponse
from storage.db import Database


def health_endpoint(db: Database, running: Callable[[], Iterable[tuple[str, bool]]]) -> Endpoint:
    """`running()` yields (network, whether its transport runs) for each configured one."""

    async def health(_request: WebRequest) -> WebResponse:
        database = await db.ping()
        transports = dict(running())
        ok = database and all(transports.values())
        body = {"ok": ok, "database": database, "transports": transports}
        return WebResponse(
            200 if ok else 503,
            json.dumps(body, sort_keys=True).encode(),
            "application/json",
        )

    return health
