"""Pytest fixtures around ``PostgresServer``.

Import them into a test module (``from tests.support.postgres_fixtures import postgres_url``)
or list this module in the root conftest's ``pytest_plugins``.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer


def unique_database_name(prefix: str = "test") -> str:
    """A database name no other test uses: all tests share the session's one server."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


@contextlib.contextmanager
def own_postgres_server(prefix: str) -> Iterator[PostgresServer]:
    """A PostgreSQL server with its data in a new temporary folder (not under pytest's
    basetemp: pytest prunes old basetemp folders, which would pull the data away from a
    server another run still uses). A server that cannot start fails the test with
    PostgreSQL's log tail: skipping would hide a broken database setup behind a green run."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    server = PostgresServer()
    try:
        server.start(workdir)
    except RuntimeError as exc:
        pytest.fail(f"PostgreSQL did not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session (initdb + start cost about half a second)."""
    with own_postgres_server("buendnisbot-pg-") as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for one test, as a ``postgresql+asyncpg://`` URL.

    Dropped afterwards; a test that left the server paused gets it resumed first, so the
    next test does not inherit the outage.
    """
    name = unique_database_name()
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        if postgres_server.paused:
            postgres_server.resume()
        postgres_server.drop_database(name)
