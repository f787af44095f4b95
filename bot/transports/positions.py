"""The Matrix sync position in the shared database (`bot_state` `matrix.next_batch`), so
that a new leader goes on syncing where the old one stopped (matrix/position.py)."""

from __future__ import annotations

from storage.cluster import state
from storage.db import Database

MATRIX_POSITION = "matrix.next_batch"


class DbPositions:
    def __init__(self, db: Database, name: str = MATRIX_POSITION) -> None:
        self.db = db
        self.name = name

    async def load(self) -> str | None:
        async with self.db.read() as session:
            return await state.get(session, self.name)

    async def save(self, token: str) -> None:
        await self.db.run(lambda session: state.put(session, self.name, token))
