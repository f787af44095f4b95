"""A real Synapse homeserver for integration tests (the humans who use it: synapse.py).

Why a real server: the bot's Matrix behaviour (invites, joins, notices, polls, E2E) depends on
what a homeserver actually sends, which mocks of nio get wrong. Synapse from PyPI starts in a
few seconds, so the suite runs one per session (see ``synapse_fixtures.py``).

Only the stdlib talks to Synapse's admin API.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import hmac
import json
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

SERVER_NAME = "localhost"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0

# Every client-facing rate limit Synapse 1.16x knows, so tests never wait on M_LIMIT_EXCEEDED.
_RATE_LIMIT_KEYS: dict[str, tuple[str, ...]] = {
    "rc_message": (),
    "rc_registration": (),
    "rc_login": ("address", "account", "failed_attempts"),
    "rc_joins": ("local", "remote"),
    "rc_joins_per_room": (),
    "rc_invites": ("per_room", "per_user", "per_issuer"),
    "rc_room_creation": (),
    "rc_profile": (),
    "rc_presence": ("per_user",),
    "rc_admin_redaction": (),
    "rc_key_requests": (),
    "rc_media_create": (),
    "rc_delayed_event_mgmt": (),
    "rc_reports": (),
    "rc_user_directory": (),
}
_GENEROUS = {"per_second": 1000, "burst_count": 10000}


class MatrixHTTPError(RuntimeError):
    """A non-2xx answer from Synapse, keeping the Matrix ``errcode`` for callers to branch on."""

    def __init__(self, status: int, errcode: str, error: str, url: str) -> None:
        super().__init__(f"{status} {errcode}: {error} ({url})")
        self.status = status
        self.errcode = errcode
        self.error = error


def _free_port() -> int:
    """Let the kernel pick an unused port; Synapse binds it a moment later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no {path.name})"
    return "\n".join(text.splitlines()[-lines:])


class SynapseServer:
    """One Synapse process on 127.0.0.1 with its data in ``workdir``.

    The port is chosen on the first ``start()`` and kept, so ``restart()`` looks to clients
    like a homeserver that went away and came back (same URL, same users, same rooms).
    """

    def __init__(self, workdir: Path, *, raise_rate_limits: bool = True) -> None:
        self.workdir = Path(workdir)
        self.raise_rate_limits = raise_rate_limits
        self.registration_secret = secrets.token_hex(16)
        self._macaroon_secret = secrets.token_hex(16)
        self._form_secret = secrets.token_hex(16)
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self.last_start_seconds: float | None = None
        atexit.register(self._kill_quietly)

    # -- properties -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("SynapseServer has not been started yet")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_name(self) -> str:
        return SERVER_NAME

    @property
    def config_path(self) -> Path:
        return self.workdir / "homeserver.yaml"

    @property
    def log_path(self) -> Path:
        """Synapse's own log (the logging config's file handler)."""
        return self.workdir / "homeserver.log"

    @property
    def output_path(self) -> Path:
        """stdout/stderr of the process: import errors and config errors end up here."""
        return self.workdir / "synapse-output.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def user_id(self, username: str) -> str:
        return f"@{username}:{self.server_name}"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Write the config, launch Synapse and block until the client API answers."""
        if self.running:
            raise RuntimeError("Synapse is already running")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self._port is None:
            self._port = _free_port()
        self._write_config()
        self._output = self.output_path.open("ab")
        started = time.monotonic()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_ready(started + START_TIMEOUT)
        except BaseException:
            self.kill()
            raise
        self.last_start_seconds = time.monotonic() - started

    def stop(self) -> None:
        """SIGTERM (Synapse exits in about a second), SIGKILL if it hangs."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL: a crash, for tests of how the bot copes with a vanished server."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self._cleanup()

    def restart(self) -> None:
        """Stop and start on the same port and data, so clients can reconnect.

        Blocking: from async tests use ``await asyncio.to_thread(server.restart)`` so the
        clients' sync loops keep running and have to reconnect on their own.
        """
        self.stop()
        self.start()

    def log_tail(self, lines: int = 60) -> str:
        """The end of both logs, for failure messages."""
        return (
            f"--- {self.output_path} ---\n{_tail(self.output_path, lines)}\n"
            f"--- {self.log_path} ---\n{_tail(self.log_path, lines)}"
        )

    def __enter__(self) -> SynapseServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _cleanup(self) -> None:
        self._proc = None
        if self._output is not None:
            self._output.close()
            self._output = None

    def _kill_quietly(self) -> None:
        """atexit guard: never leave a Synapse behind, even if a fixture's teardown is skipped."""
        with contextlib.suppress(Exception):
            self.kill()

    def _wait_until_ready(self, deadline: float) -> None:
        url = f"{self.base_url}/_matrix/client/versions"
        while True:
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"Synapse exited with code {code} while starting\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Synapse did not answer {url} within {START_TIMEOUT:.0f}s\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _write_config(self) -> None:
        """Hand-written config: JSON is valid YAML, so no YAML library is needed."""
        log_config = {
            "version": 1,
            "formatters": {
                "precise": {
                    "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - "
                    "%(request)s - %(message)s"
                }
            },
            "filters": {
                "context": {"()": "synapse.logging.context.LoggingContextFilter", "request": ""}
            },
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "filters": ["context"],
                    "encoding": "utf-8",
                }
            },
            "loggers": {"synapse.storage.SQL": {"level": "WARNING"}},
            "root": {"level": "INFO", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        log_config_path = self.workdir / "log_config.yaml"
        log_config_path.write_text(json.dumps(log_config, indent=2), encoding="utf-8")

        config: dict[str, Any] = {
            "server_name": SERVER_NAME,
            "public_baseurl": f"{self.base_url}/",
            "pid_file": str(self.workdir / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.workdir / "homeserver.db")},
            },
            "media_store_path": str(self.workdir / "media_store"),
            "signing_key_path": str(self.workdir / "signing.key"),
            "log_config": str(log_config_path),
            "macaroon_secret_key": self._macaroon_secret,
            "form_secret": self._form_secret,
            "registration_shared_secret": self.registration_secret,
            "enable_registration": False,
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "url_preview_enabled": False,
            "enable_metrics": False,
            "bcrypt_rounds": 4,
        }
        if self.raise_rate_limits:
            for key, subkeys in _RATE_LIMIT_KEYS.items():
                config[key] = {sub: dict(_GENEROUS) for sub in subkeys} if subkeys else _GENEROUS
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    # -- admin API --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        """Plain JSON request against the homeserver (blocking; it answers in milliseconds)."""
        url = f"{self.base_url}{path}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if access_token:
            req.add_header("Authorization", f"Bearer {access_token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                result: dict[str, Any] = json.loads(resp.read() or b"{}")
                return result
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                err = json.loads(raw)
            except ValueError:
                err = {"error": raw.decode(errors="replace")}
            raise MatrixHTTPError(
                exc.code, err.get("errcode", "?"), err.get("error", ""), url
            ) from None

    def register(
        self,
        username: str,
        password: str | None = None,
        admin: bool = False,
        *,
        exist_ok: bool = False,
    ) -> str:
        """Create a user via the shared-secret admin API; returns the Matrix user id.

        ``register_new_matrix_user`` would cost about a second of imports per call; this is
        two HTTP requests. ``password`` defaults to ``"pw-" + username``.
        """
        if password is None:
            password = "pw-" + username
        path = "/_synapse/admin/v1/register"
        nonce = self.request("GET", path)["nonce"]
        mac = hmac.new(self.registration_secret.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join(
                [
                    nonce.encode(),
                    username.encode(),
                    password.encode(),
                    b"admin" if admin else b"notadmin",
                ]
            )
        )
        body = {
            "nonce": nonce,
            "username": username,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        try:
            user_id: str = self.request("POST", path, body)["user_id"]
        except MatrixHTTPError as exc:
            if exist_ok and exc.errcode == "M_USER_IN_USE":
                return self.user_id(username)
            raise
        return user_id
