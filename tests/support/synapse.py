"""A real Synapse homeserver and nio-driven "human" users for integration tests.

Why a real server: the bot's Matrix behaviour (invites, joins, notices, polls, E2E) depends on
what a homeserver actually sends, which mocks of nio get wrong. Synapse from PyPI starts in a
few seconds, so the suite runs one per session (see ``synapse_fixtures.py``).

Only the stdlib talks to Synapse's admin API; ``MatrixHuman`` wraps ``nio.AsyncClient``.
"""

from __future__ import annotations

import asyncio
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import nio

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


# -- a human user ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenEvent:
    """One event a ``MatrixHuman`` saw, with the room it arrived in (nio events lack it)."""

    index: int
    room_id: str
    event: Any

    @property
    def source(self) -> dict[str, Any]:
        src = getattr(self.event, "source", None)
        return src if isinstance(src, dict) else {}

    @property
    def type(self) -> str:
        """Event type; for decrypted events the inner type (e.g. ``m.room.message``)."""
        return str(self.source.get("type") or getattr(self.event, "type", ""))

    @property
    def sender(self) -> str:
        return str(getattr(self.event, "sender", None) or self.source.get("sender", ""))

    @property
    def event_id(self) -> str | None:
        value = getattr(self.event, "event_id", None) or self.source.get("event_id")
        return str(value) if value else None

    @property
    def content(self) -> dict[str, Any]:
        content = self.source.get("content")
        return content if isinstance(content, dict) else {}

    @property
    def body(self) -> str:
        body = getattr(self.event, "body", None)
        if body is None:
            body = self.content.get("body", "")
        return str(body)

    @property
    def msgtype(self) -> str | None:
        value = self.content.get("msgtype")
        return str(value) if value is not None else None

    def __str__(self) -> str:
        kind = type(self.event).__name__
        return f"#{self.index} {self.room_id} {kind} {self.type} from {self.sender}: {self.body!r}"


Predicate = Callable[[SeenEvent], bool]

_RECORDED_EVENT_TYPES: tuple[type, ...] = (
    nio.Event,
    nio.InviteEvent,
    nio.BadEvent,
    nio.UnknownBadEvent,
)


class MatrixHuman:
    """A test user on the other side of the bot, driven through ``nio.AsyncClient``.

    ``start_sync()`` runs ``sync_forever`` in the background and records every timeline event
    (text, notices, unknown/poll events, decrypted Megolm events, invites) into ``events``;
    ``wait_for`` then waits on a condition instead of sleeping.
    """

    def __init__(self, server: SynapseServer, client: nio.AsyncClient, password: str) -> None:
        self.server = server
        self.client = client
        self.password = password
        self.events: list[SeenEvent] = []
        self._seen_ids: set[tuple[str, str]] = set()
        self._changed = asyncio.Condition()
        self._sync_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[None]] = set()
        client.add_event_callback(self._on_event, _RECORDED_EVENT_TYPES)
        client.add_response_callback(self._on_sync, nio.SyncResponse)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @property
    def device_id(self) -> str:
        return str(self.client.device_id)

    @classmethod
    async def login(
        cls,
        server: SynapseServer,
        username: str,
        *,
        password: str | None = None,
        store_path: Path | None = None,
        device_id: str | None = None,
    ) -> MatrixHuman:
        """Register (if needed) and log in. ``store_path`` turns on E2E with a nio store.

        Pass the same ``device_id`` and ``store_path`` again to reuse a device instead of
        piling up new ones on every login.
        """
        if password is None:
            password = "pw-" + username
        user_id = server.register(username, password, exist_ok=True)
        # Fast reconnects after server.restart(): nio's default backoff grows to 60 s.
        config_kwargs: dict[str, Any] = {"max_timeout_retry_wait_time": 1.0}
        if store_path is not None:
            Path(store_path).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (tiny, once)
            config = nio.AsyncClientConfig(
                store_sync_tokens=True, encryption_enabled=True, **config_kwargs
            )
            client = nio.AsyncClient(
                server.base_url,
                user_id,
                device_id=device_id,
                store_path=str(store_path),
                config=config,
            )
        else:
            config = nio.AsyncClientConfig(encryption_enabled=False, **config_kwargs)
            client = nio.AsyncClient(server.base_url, user_id, device_id=device_id, config=config)
        resp = await client.login(password, device_name=f"test-{username}")
        if not isinstance(resp, nio.LoginResponse):
            await client.close()
            raise RuntimeError(f"login of {user_id} failed: {resp}")
        return cls(server, client, password)

    # -- recording --------------------------------------------------------------------------

    async def _on_event(self, room: nio.MatrixRoom, event: Any) -> None:
        seen = SeenEvent(len(self.events), str(room.room_id), event)
        if seen.event_id is not None:
            key = (seen.room_id, seen.event_id)
            if key in self._seen_ids:
                return  # a re-sync after restart/re-login delivers history again
            self._seen_ids.add(key)
        self.events.append(seen)
        await self._notify()

    async def _on_sync(self, _response: Any) -> None:
        await self._notify()  # room state (members, invites) may have changed

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def mark(self) -> int:
        """Index to pass as ``since=`` so only events seen from now on match."""
        return len(self.events)

    # -- sync -------------------------------------------------------------------------------

    # The waiting helpers take ``timeout=`` (ASYNC109) on purpose: tests read better with
    # ``await human.wait_for(..., timeout=5)`` than wrapped in ``asyncio.timeout``.

    async def start_sync(self, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Start the background sync loop and wait for its first sync to finish."""
        if self._sync_task is not None and not self._sync_task.done():
            return
        first = asyncio.Event()

        async def first_sync(_response: Any) -> None:
            first.set()

        self.client.add_response_callback(first_sync, nio.SyncResponse)
        self._sync_task = asyncio.create_task(
            self.client.sync_forever(timeout=30_000, full_state=True),
            name=f"sync {self.user_id}",
        )
        # Wake waiters if the loop dies, so they raise its error instead of timing out.
        self._sync_task.add_done_callback(self._on_sync_task_done)
        try:
            await self._until(first.is_set, timeout, what="the first sync")
        finally:
            self.client.response_callbacks = [
                cb for cb in self.client.response_callbacks if cb.func is not first_sync
            ]

    def _on_sync_task_done(self, _task: asyncio.Task[None]) -> None:
        notifier = asyncio.ensure_future(self._notify())
        self._background.add(notifier)
        notifier.add_done_callback(self._background.discard)

    async def stop_sync(self) -> None:
        task, self._sync_task = self._sync_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Stop syncing and close the HTTP session (the device stays, for reuse)."""
        await self.stop_sync()
        await self.client.close()

    async def _until(self, check: Callable[[], bool], seconds: float, *, what: str) -> None:
        """Wait until ``check()`` holds, re-checking whenever a sync or event arrives."""

        def ready() -> bool:
            task = self._sync_task
            if task is not None and task.done() and not task.cancelled():
                exc = task.exception()
                if exc is not None:
                    raise RuntimeError(f"sync loop of {self.user_id} died") from exc
            return check()

        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(ready)
        except TimeoutError:
            recent = "\n".join(f"  {e}" for e in self.events[-15:]) or "  (none)"
            raise TimeoutError(
                f"{self.user_id}: timed out after {seconds}s waiting for {what}; "
                f"last events seen:\n{recent}"
            ) from None

    # -- waiting ----------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Predicate,
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        since: int = 0,
    ) -> SeenEvent:
        """First recorded event at index >= ``since`` matching ``predicate``.

        ``since`` defaults to 0 so an event that arrived before the call still counts; use
        ``mark()`` before the action to ignore older ones. Needs ``start_sync()``.
        """
        found: list[SeenEvent] = []
        scanned = since

        def check() -> bool:
            nonlocal scanned
            while scanned < len(self.events):
                seen = self.events[scanned]
                scanned += 1
                if predicate(seen):
                    found.append(seen)
                    return True
            return False

        await self._until(check, timeout, what=getattr(predicate, "__name__", "an event"))
        return found[0]

    async def wait_for_notice(
        self,
        room_id: str,
        sender: str,
        timeout: float = 10.0,  # noqa: ASYNC109
        contains: str | None = None,
        *,
        since: int = 0,
    ) -> SeenEvent:
        """An ``m.notice`` (how bots answer) from ``sender`` in ``room_id``."""

        def is_notice(seen: SeenEvent) -> bool:
            return (
                seen.room_id == room_id
                and seen.sender == sender
                and seen.type == "m.room.message"
                and seen.msgtype == "m.notice"
                and (contains is None or contains in seen.body)
            )

        is_notice.__name__ = f"a notice from {sender} in {room_id} containing {contains!r}"
        return await self.wait_for(is_notice, timeout, since=since)

    async def wait_for_membership(
        self,
        room_id: str,
        user_id: str,
        membership: str = "join",
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        """Until the synced room state shows ``user_id`` with ``membership``.

        Checks nio's room state, not only timeline events: membership can arrive as state.
        """

        def check() -> bool:
            if membership == "invite" and user_id == self.user_id:
                return room_id in self.client.invited_rooms
            room = self.client.rooms.get(room_id)
            if room is None:
                return False
            if membership == "join":
                # room.users also holds invited members; only a real join counts.
                return user_id in room.users and user_id not in room.invited_users
            if membership == "invite":
                return user_id in room.invited_users
            if membership in ("leave", "ban"):
                return any(
                    seen.room_id == room_id
                    and isinstance(seen.event, nio.RoomMemberEvent)
                    and seen.event.state_key == user_id
                    and seen.event.membership == membership
                    for seen in self.events
                )
            raise ValueError(f"unknown membership {membership!r}")

        await self._until(check, timeout, what=f"{user_id} to {membership} {room_id}")

    # -- acting -----------------------------------------------------------------------------

    async def create_room(
        self,
        name: str | None = None,
        invite: Iterable[str] = (),
        *,
        encrypted: bool = False,
        is_direct: bool = False,
    ) -> str:
        initial_state: list[dict[str, Any]] = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        resp = await self.client.room_create(
            name=name,
            invite=list(invite),
            initial_state=initial_state,
            is_direct=is_direct,
        )
        if not isinstance(resp, nio.RoomCreateResponse):
            raise RuntimeError(f"room_create failed: {resp}")
        return str(resp.room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        resp = await self.client.room_invite(room_id, user_id)
        if not isinstance(resp, nio.RoomInviteResponse):
            raise RuntimeError(f"invite of {user_id} to {room_id} failed: {resp}")

    async def join(self, room_id: str) -> None:
        resp = await self.client.join(room_id)
        if not isinstance(resp, nio.JoinResponse):
            raise RuntimeError(f"join of {room_id} failed: {resp}")

    async def leave(self, room_id: str) -> None:
        resp = await self.client.room_leave(room_id)
        if not isinstance(resp, nio.RoomLeaveResponse):
            raise RuntimeError(f"leave of {room_id} failed: {resp}")

    async def send_text(self, room_id: str, body: str, *, msgtype: str = "m.text") -> str:
        return await self.send_event(room_id, "m.room.message", {"msgtype": msgtype, "body": body})

    async def send_event(self, room_id: str, type: str, content: dict[str, Any]) -> str:
        """Send any event (polls, reactions, ...); encrypts in encrypted rooms."""
        room = self.client.rooms.get(room_id)
        if room is not None and room.encrypted and self.client.should_query_keys:
            # Otherwise devices that joined since the last sync miss the Megolm session.
            await self.client.keys_query()
        resp = await self.client.room_send(room_id, type, content, ignore_unverified_devices=True)
        if not isinstance(resp, nio.RoomSendResponse):
            raise RuntimeError(f"sending {type} to {room_id} failed: {resp}")
        return str(resp.event_id)

    async def trust_all_devices(self) -> int:
        """Query keys and mark every known device verified; returns how many were new."""
        if self.client.olm is None:
            raise RuntimeError("trust_all_devices needs a client with a store_path (E2E)")
        if self.client.should_query_keys:
            await self.client.keys_query()
        changed = 0
        for device in self.client.device_store:
            if device.user_id == self.user_id and device.id == self.device_id:
                continue
            if self.client.verify_device(device):
                changed += 1
        return changed
