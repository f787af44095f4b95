"""The list of AGs, kept in memory between writes.

Nearly every command names an AG, and AGs change a few times a year, so reading the
list for each command would be the biggest part of a command's database work. The
cache watches this engine's SQL: any INSERT, UPDATE or DELETE on the `ag` table drops
it, once when the statement runs and once more when its transaction ends, and a read
that overlapped such a write is not kept. Changes made by another process (a second
bot on the same database, someone with `psql`) are seen after at most `max_age`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select

from storage.db import Database
from storage.models import Ag

_WRITES_AG = re.compile(
    r'\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+"?ag"?[\s(]', re.I
)
_FLAG = "buendnisbot_wrote_ag"


class AgCache:
    def __init__(
        self,
        db: Database,
        *,
        max_age: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._max_age = max_age
        self._clock = clock
        self._generation = 0
        self._rows: list[Ag] | None = None
        self._read_at = 0.0
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._transaction_ended)
        event.listen(engine, "rollback", self._transaction_ended)

    async def all(self, *, include_archived: bool = False) -> list[Ag]:
        """Every AG by slug, the archived ones only when asked for. The objects are
        detached snapshots: read them, do not add them to a session."""
        rows = self._rows
        if rows is None or self._clock() - self._read_at > self._max_age:
            rows = await self._load()
        return list(rows) if include_archived else [ag for ag in rows if not ag.archived]

    def invalidate(self) -> None:
        self._generation += 1
        self._rows = None

    async def _load(self) -> list[Ag]:
        generation = self._generation
        async with self._db.read() as session:
            rows = list(await session.scalars(select(Ag).order_by(Ag.slug)))
        if generation == self._generation:
            self._rows, self._read_at = rows, self._clock()
        return rows

    def _before_execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _WRITES_AG.match(statement):
            conn.info[_FLAG] = True
            self.invalidate()

    def _transaction_ended(self, conn: Any) -> None:
        if conn.info.pop(_FLAG, False):
            self.invalidate()
