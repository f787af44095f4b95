"""SQLite: one `buendnisbot run` per database file.

Two processes on one SQLite file would both send every reminder and both answer every
command. `run` holds an exclusive lock (`flock`) on a file beside the database for its
whole life; a second `run` finds it taken and stops at once with a message naming the
first process. The operating system drops the lock when the process ends in any way
(kill -9 included), so a stale file never blocks a start. Several processes need
PostgreSQL (README "Running several processes").
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url


class AlreadyRunning(RuntimeError):
    """Another process runs the bot on this SQLite database."""


def lock_path(database_url: str) -> Path | None:
    """The lock file of a file-based SQLite database (None: PostgreSQL or in memory)."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().with_name(Path(parsed.database).name + ".lock")


def hold_single_lock(database_url: str) -> IO[str] | None:
    """Take the lock for this process's life (keep the returned file open)."""
    path = lock_path(database_url)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        other = handle.read().strip() or "?"
        handle.close()
        raise AlreadyRunning(
            f"another bot process (pid {other}) already runs on {path.with_suffix('')}. "
            "Stop it first; to run several processes at once, use PostgreSQL "
            "(README: Running several processes)."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
