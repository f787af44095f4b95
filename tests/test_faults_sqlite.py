"""Database faults that are no outage, and the transports' bookkeeping during one: SQLite
keeps its own errors (an unreadable file, a lock held too long get the generic apology,
not "try again in a moment"), and `direct_reachable`/`chat_migrated` never raise into the
transports when the database is gone (the PostgreSQL outage: test_faults_postgres.py)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.db import Database, DatabaseUnavailable, is_server_gone
from storage.sqlite_writer import SqliteWriter
from tests.support.fake import BotHarness


async def test_an_unreadable_sqlite_file_is_not_an_outage(tmp_path: Path) -> None:
    """SQLite's faults are its own (a file that cannot be opened): it keeps its error,
    it does not pass for a server that will come back."""
    folder = tmp_path / "not-a-file.db"
    folder.mkdir()
    threads = set(threading.enumerate())
    db = Database(f"sqlite+aiosqlite:///{folder}")
    try:
        with pytest.raises(OperationalError) as caught:
            async with db.read() as session:
                await session.execute(text("SELECT 1"))
        assert not isinstance(caught.value, DatabaseUnavailable)
    finally:
        await db.dispose()
        await threads_finished(threads)


async def test_a_locked_sqlite_database_gets_the_generic_apology(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A lock held longer than SQLite's busy timeout is a fault to look into (logged with
    its stack trace), not an outage: the generic apology, not "try again in a moment"."""
    attempts = 0

    def locked(_writer: SqliteWriter, _work: object) -> list[object]:
        nonlocal attempts
        attempts += 1
        raise OperationalError("INSERT ...", None, sqlite3.OperationalError("database is locked"))

    await bot.dm("anna").say("anna", "/start")  # anna is known: `/join` is one statement
    monkeypatch.setattr(SqliteWriter, "_run", locked)  # in the writer's thread
    replies = await bot.dm("anna").say("anna", "/join ag2")
    assert replies == ["Da ist bei mir etwas schiefgegangen. Bitte versuch es gleich noch einmal."]
    assert attempts == 4  # retried by `Database.statement` as a passing lock first
    assert [
        r.exc_info is not None for r in caplog.records if r.name == "bot.commands.dispatch"
    ] == [True]
    assert not is_server_gone(
        OperationalError("INSERT ...", None, sqlite3.OperationalError("database is locked"))
    )


async def threads_finished(before: set[threading.Thread], limit: float = 5.0) -> None:
    """aiosqlite's worker thread of the failed connection answers the loop once more
    after the error; let the threads started since `before` end before the loop closes."""
    deadline = time.monotonic() + limit
    while [t for t in threading.enumerate() if t not in before and t.is_alive()]:
        assert time.monotonic() < deadline, "a database worker thread does not end"
        await asyncio.sleep(0.01)


async def test_bookkeeping_from_the_transports_survives_an_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`direct_reachable` and `chat_migrated` run inside the transports' receive and send
    paths: without a database they log a warning and return, never raise into them."""
    bot = await BotHarness.create(f"sqlite+aiosqlite:///{tmp_path / 'bookkeeping.db'}")
    try:

        async def unavailable(*_args: object, **_kwargs: object) -> object:
            raise DatabaseUnavailable("ConnectionRefusedError: connection refused")

        monkeypatch.setattr(bot.app.services.db, "run", unavailable)
        dispatcher = bot.app.dispatcher
        with caplog.at_level(logging.WARNING):
            await dispatcher.direct_reachable(bot.user("anna").as_account(), False)
            await dispatcher.chat_migrated("fake", "old", "new")
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 2
        assert all("database is unavailable" in w for w in warnings)
    finally:
        await bot.close()
