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

from storage.db import Database
from tests.support.postgres import PostgresServer, _run_coroutine


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


@contextlib.contextmanager
def database_for_one_test(server: PostgresServer, template: str = "template0") -> Iterator[str]:
    """A new database copied from `template`, as a ``postgresql+asyncpg://`` URL.

    Dropped afterwards; a test that left the server paused gets it resumed first, so the
    next test does not inherit the outage.
    """
    name = unique_database_name()
    url = server.create_database(name, template)
    try:
        yield url
    finally:
        if server.paused:
            server.resume()
        server.drop_database(name)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for one test (the tests of migrations, and processes that
    migrate it themselves at their start)."""
    with database_for_one_test(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_postgres_template(postgres_server: PostgresServer) -> str:
    """A database at the newest migration, made once: each test that only needs the
    schema gets a copy (CREATE DATABASE ... TEMPLATE) instead of running every migration
    again, about a second a test; the SQLite twin is conftest's `migrated_sqlite`. Nobody
    connects to it after this."""
    name = unique_database_name("migrated")
    url = postgres_server.create_database(name)

    async def upgrade() -> None:
        db = Database(url)
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    _run_coroutine(upgrade())
    return name


@pytest.fixture
def migrated_postgres_url(
    postgres_server: PostgresServer, migrated_postgres_template: str
) -> Iterator[str]:
    """A fresh database at the newest migration for one test."""
    with database_for_one_test(postgres_server, migrated_postgres_template) as url:
        yield url
