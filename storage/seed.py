"""First-start data: the AGs from `config/ags.toml`, inserted only into an empty table
so that later edits by admins are never overwritten."""

from __future__ import annotations

import asyncio
import logging
import tomllib
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import AG_DESCRIPTION_MAX, AG_NAME_MAX, Ag
from storage.text import visible

log = logging.getLogger(__name__)


class SeedError(ValueError):
    pass


def read_ags(path: Path) -> list[dict[str, str]]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    ags = data.get("ag", [])
    if not isinstance(ags, list):
        raise SeedError(f"{path}: expected [[ag]] tables")
    out = []
    for entry in ags:
        slug = str(entry.get("id", "")).strip().lower()
        name = visible(str(entry.get("name", "")))
        if not slug or not name:
            raise SeedError(f"{path}: every [[ag]] needs an id and a name")
        out.append(
            {
                "slug": slug,
                "name": name[:AG_NAME_MAX],
                "description": str(entry.get("description", "")).strip()[:AG_DESCRIPTION_MAX],
            }
        )
    return out


async def seed_ags(session: AsyncSession, path: Path) -> int:
    if await repo.ag_count(session) > 0:
        return 0
    exists = await asyncio.to_thread(path.exists)
    if not exists:
        log.warning("no AGs yet and no %s to seed them from", path)
        return 0
    entries = await asyncio.to_thread(read_ags, path)
    for entry in entries:
        session.add(Ag(**entry))
    log.info("seeded %d AGs from %s", len(entries), path)
    return len(entries)
