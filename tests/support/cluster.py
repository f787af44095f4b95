"""Several real bot processes (`python -m bot run`) on one PostgreSQL database, for the
leader, failover and rolling-restart tests.

- `TelegramHttp`: the offline Bot API of tests/support/telegram_api.py (`BotApi`) served
  over HTTP on 127.0.0.1, so that separate processes can use it (`telegram.base_url`).
- `Node`: one process with its own web port (`/healthz` says leader or standby) and log.
- `Cluster`: starts, kills (-9) and stops nodes; every process is killed at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from storage.leases import LEASE_ENV
from tests.support.telegram_api import BotApi, Json

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:" + "A" * 30
SECRET_KEY = "ab" * 32


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _value(raw: str) -> Any:
    """A form field as PTB sent it: JSON for everything but plain strings."""
    if raw[:1] in "[{" or raw in ("true", "false") or raw.lstrip("-").isdigit():
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


class TelegramHttp:
    """`BotApi` behind http://127.0.0.1:<port>/bot<token>/<method>."""

    def __init__(self, api: BotApi | None = None) -> None:
        self.api = api or BotApi()
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        # As Telegram does, a long poll whose client went away (a node stopped or killed)
        # is abandoned: otherwise stopping waits out its time-out (PTB asks for 10 s).
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        params: Json = {}
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {k: _value(v) for k, v in form.items() if isinstance(v, str)}
        status, body = await self.api.answer(request.match_info["method"], params)
        return web.json_response(body, status=status)


def write_config(
    workdir: Path,
    name: str,
    database_url: str,
    *,
    telegram: str = "",
    matrix: str = "",
    web_port: int = 0,
    secret_key: str = SECRET_KEY,
    admins: tuple[str, ...] = (),
) -> Path:
    """A node's configuration file; `telegram` is the Bot API's base URL, `matrix` a
    ready [matrix] table (all nodes share its store folder)."""
    config = workdir / f"{name}.toml"
    lines = [
        f'database_url = "{database_url}"',
        f"admins = {json.dumps(list(admins))}",
        f'ags_file = "{ROOT / "config" / "ags.toml"}"',
        f'heartbeat_file = "{workdir / name / "heartbeat"}"',
        'log_level = "INFO"',
    ]
    if secret_key:
        lines.append(f'secret_key = "{secret_key}"')
    lines += ["", "[limits]", "commands_per_minute = 0", ""]
    if web_port:
        lines += [
            "[web]",
            f'listen = "127.0.0.1:{web_port}"',
            'public_url = "https://bot.example.org"',
            "",
        ]
    if telegram:
        lines += ["[telegram]", f'token = "{TOKEN}"', f'base_url = "{telegram}"', ""]
    if matrix:
        lines += [matrix, ""]
    config.write_text("\n".join(lines))
    return config


class Node:
    """One `python -m bot run`, its log in `<workdir>/<name>.log`."""

    def __init__(
        self, config: Path, log: Path, web_port: int = 0, lease_seconds: float | None = None
    ) -> None:
        self.config = config
        self.log_path = log
        self.web_port = web_port
        env = {k: v for k, v in os.environ.items() if not k.startswith("BUENDNISBOT_")}
        if lease_seconds is not None:  # a dead node's leases run out sooner than in 30 s
            env[LEASE_ENV] = str(lease_seconds)
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def health(self) -> dict[str, Any] | None:
        """`/healthz` as JSON, or None while it does not answer."""
        url = f"http://127.0.0.1:{self.web_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                data: dict[str, Any] = json.loads(answer.read())
                return data
        except OSError as exc:
            body = getattr(exc, "read", None)
            if callable(body):  # 503: still a JSON answer
                try:
                    data = json.loads(body())
                    return data
                except ValueError:
                    return None
            return None

    def role(self) -> str | None:
        health = self.health()
        return None if health is None else str(health.get("role"))

    def kill(self) -> None:
        """kill -9: no clean-up at all."""
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self, timeout: float = 15) -> int:
        """SIGTERM (docker stop); the exit code."""
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def close(self) -> None:
        if self.alive:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Cluster:
    """Nodes sharing one database (and whatever else the configuration names).
    `lease_seconds`: the nodes' lease length (storage/leases.py), for tests that wait for a
    killed node's leases to run out."""

    def __init__(
        self, workdir: Path, database_url: str, lease_seconds: float | None = None, **config: Any
    ) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.lease_seconds = lease_seconds
        self.config = config
        self.nodes: list[Node] = []
        self._count = 0

    def start(self, **overrides: Any) -> Node:
        self._count += 1
        name = f"node{self._count}"
        port = free_port()
        settings = {**self.config, **overrides}
        config = write_config(self.workdir, name, self.database_url, web_port=port, **settings)
        node = Node(config, self.workdir / f"{name}.log", port, self.lease_seconds)
        self.nodes.append(node)
        return node

    def living(self) -> list[Node]:
        return [node for node in self.nodes if node.alive]

    async def roles(self) -> dict[int, str | None]:
        found = await asyncio.gather(*(asyncio.to_thread(n.role) for n in self.living()))
        return {id(node): role for node, role in zip(self.living(), found, strict=False)}

    async def wait_roles(self, leaders: int, standbys: int, within: float = 30) -> Node:
        """Until exactly `leaders` (1) lead and `standbys` stand by; the leader (with
        none leading: the first node still running)."""
        deadline = time.monotonic() + within
        while True:
            roles = await self.roles()
            counts = sorted(r for r in roles.values() if r)
            if counts.count("leader") == leaders and counts.count("standby") == standbys:
                leading = [n for n in self.living() if roles[id(n)] == "leader"]
                return (leading or self.living())[0]
            if time.monotonic() > deadline:
                logs = "\n".join(n.log()[-3000:] for n in self.nodes)
                raise AssertionError(f"roles {counts} after {within} s\n{logs}")
            for node in self.nodes:
                if node.proc.poll() not in (None, -9, 0):
                    raise AssertionError(f"a node exited: {node.log()[-3000:]}")
            await asyncio.sleep(0.2)

    def close(self) -> None:
        for node in self.nodes:
            node.close()


@contextmanager
def cluster(
    workdir: Path, database_url: str, lease_seconds: float | None = None, **config: Any
) -> Iterator[Cluster]:
    nodes = Cluster(workdir, database_url, lease_seconds, **config)
    try:
        yield nodes
    finally:
        nodes.close()
