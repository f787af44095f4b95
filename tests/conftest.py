"""Shared fixtures. The Synapse and PostgreSQL servers start once per session, only when
a test asks for them; if they cannot start, those tests fail (they are never skipped)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.fake import BotHarness

pytest_plugins = ["tests.support.synapse_fixtures", "tests.support.postgres_fixtures"]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both storage back-ends: a test using this runs once on each."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def bot(sqlite_url: str) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.create(sqlite_url)
    yield harness
    await harness.close()
