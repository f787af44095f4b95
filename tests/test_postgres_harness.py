"""The PostgreSQL harness itself: later storage and outage tests rely on exactly this."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

_seen_databases: list[str] = []


async def test_sqlalchemy_round_trip(postgres_url: str) -> None:
    engine = create_async_engine(postgres_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE note (id serial PRIMARY KEY, body text)"))
            await conn.execute(
                text("INSERT INTO note (body) VALUES (:body)"),
                [{"body": "Plenum"}, {"body": "AG Öffentlichkeit 🌻"}],
            )
        async with engine.connect() as conn:
            result = await conn.execute(text("SELECT body FROM note ORDER BY id"))
            assert result.scalars().all() == ["Plenum", "AG Öffentlichkeit 🌻"]
            zone = await conn.scalar(text("SHOW timezone"))
            assert zone == "UTC"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("run", ["first", "second"])
async def test_each_test_gets_its_own_empty_database(
    postgres_url: str,
    run: str,
) -> None:
    engine = create_async_engine(postgres_url)
    try:
        async with engine.begin() as conn:
            tables = await conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            )
            assert tables == 0
            name = await conn.scalar(text("SELECT current_database()"))
            assert name not in _seen_databases
            # Earlier runs' databases were dropped by the fixture's teardown.
            rows = await conn.execute(text("SELECT datname FROM pg_database"))
            assert not set(_seen_databases) & set(rows.scalars().all())
            _seen_databases.append(name)
            await conn.execute(text(f"CREATE TABLE left_by_{run} (id int)"))
    finally:
        await engine.dispose()


async def test_pause_and_resume_keep_data_and_port(
    postgres_server: PostgresServer,
    postgres_url: str,
) -> None:
    engine = create_async_engine(postgres_url, pool_pre_ping=True)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE poll (id int PRIMARY KEY, question text)"))
            await conn.execute(text("INSERT INTO poll VALUES (1, 'Demo am Samstag?')"))
        port = postgres_server.port

        await asyncio.to_thread(postgres_server.pause)
        assert postgres_server.paused
        assert not postgres_server.is_running
        with pytest.raises(OSError):
            await asyncpg.connect(postgres_server.admin_dsn, timeout=2)

        await asyncio.to_thread(postgres_server.resume)
        assert postgres_server.port == port
        # The pooled connection died with the server; pre-ping swaps it for a fresh one.
        async with engine.connect() as conn:
            question = await conn.scalar(text("SELECT question FROM poll WHERE id = 1"))
        assert question == "Demo am Samstag?"
    finally:
        await engine.dispose()


def test_resume_on_a_taken_port_fails_clearly(postgres_server: PostgresServer) -> None:
    port = postgres_server.port
    postgres_server.pause()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
            # REUSEADDR: the server's closed connections may leave TIME_WAIT on the port.
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            with pytest.raises(RuntimeError, match=rf"127\.0\.0\.1:{port}(.|\n)*could not bind"):
                postgres_server.resume()
            assert postgres_server.paused
    finally:
        postgres_server.resume()
    assert postgres_server.is_running
    assert postgres_server.port == port


def test_start_failure_raises_with_log_tail(tmp_path: Path) -> None:
    server = PostgresServer(settings={"shared_buffers": "plenty"})
    with pytest.raises(RuntimeError, match=r"(?s)exited with code .*shared_buffers"):
        server.start(tmp_path)
    assert not server.is_running
    server.stop()


_migrated_copies: list[str] = []


@pytest.mark.parametrize("run", ["first", "second"])
async def test_each_test_gets_its_own_copy_of_the_migrated_database(
    migrated_postgres_url: str, run: str
) -> None:
    """What `database_url` hands the PostgreSQL side of a test: the newest schema (as the
    SQLite side gets it), in a database of its own: what one test writes, the next does
    not see, and the template itself stays untouched."""
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    engine = create_async_engine(migrated_postgres_url)
    try:
        async with engine.begin() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
            name = await conn.scalar(text("SELECT current_database()"))
            assert name not in _migrated_copies
            left = await conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'left%'")
            )
            assert left == 0
            _migrated_copies.append(name)
            await conn.execute(text(f"CREATE TABLE left_by_{run} (id int)"))
    finally:
        await engine.dispose()
