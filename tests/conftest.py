"""Shared fixtures. The Synapse and PostgreSQL servers start once per session, only when
a test asks for them; if they cannot start, those tests fail (they are never skipped)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from tests.support.fake import BotHarness

pytest_plugins = [
    "tests.support.synapse_fixtures",
    "tests.support.postgres_fixtures",
    "tests.support.telegram_bot",
]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the newest migration, made once: each test starts from a
    copy instead of running every migration again (about 0.3 s a test)."""
    path = tmp_path_factory.mktemp("template") / "bot.db"

    async def upgrade() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    asyncio.run(upgrade())
    return path


def fresh_sqlite(template: Path, folder: Path) -> str:
    target = folder / "bot.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    return fresh_sqlite(migrated_sqlite, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both storage back-ends, at the newest migration: a test using this runs once on each."""
    if request.param == "sqlite":
        return fresh_sqlite(request.getfixturevalue("migrated_sqlite"), tmp_path)
    return str(request.getfixturevalue("migrated_postgres_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both back-ends with no table at all, for the tests of the migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def bot(sqlite_url: str) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.create(sqlite_url)
    yield harness
    await harness.close()
