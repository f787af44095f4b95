"""Bulk writing for the growth benchmark's seed: rows in batches, ids chosen by the caller."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, insert, select

from storage.db import Database

BATCH = 5_000


@dataclass(frozen=True)
class Scale:
    """How much data: `factor` times 200 people, 2 AGs, 50 polls and 200 meetings."""

    factor: int

    @property
    def people(self) -> int:
        return 200 * self.factor

    @property
    def ags(self) -> int:
        return 2 * self.factor

    @property
    def polls(self) -> int:
        return 50 * self.factor

    @property
    def meetings(self) -> int:
        return 200 * self.factor


async def max_id(db: Database, table: Table) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)


async def insert_rows(db: Database, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Write `rows` in batches of BATCH, each batch one executemany."""
    batch: list[dict[str, Any]] = []
    written = 0
    async with db.write() as session:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                await session.execute(insert(table), batch)
                written += len(batch)
                batch = []
        if batch:
            await session.execute(insert(table), batch)
            written += len(batch)
    return written
