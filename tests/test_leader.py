"""One process per SQLite file, and one secret key for all processes on PostgreSQL:
real `python -m bot run` processes that refuse to start, with a message that says why
and what to do."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.cluster import ROOT, TelegramHttp, cluster, write_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramHttp]:
    api = TelegramHttp()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


def run_once(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), *(args or ("run",))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_second_run_on_one_sqlite_file_exits_at_once_naming_the_first(
    tmp_path: Path, telegram: TelegramHttp
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    with cluster(tmp_path, url, telegram=telegram.base_url) as nodes:
        first = nodes.start()
        await nodes.wait_roles(leaders=1, standbys=0)
        second = await asyncio.to_thread(run_once, nodes.nodes[0].config)
        assert second.returncode == 1
        assert second.stderr.strip() == (
            f"buendnisbot: another bot process (pid {first.proc.pid}) already runs on "
            f"{tmp_path / 'bot.db'}. Stop it first; to run several processes at once, use "
            "PostgreSQL (README: Running several processes)."
        )
        # The read-only and maintenance commands do not take the lock.
        assert (await asyncio.to_thread(run_once, first.config, "db", "upgrade")).returncode == 0
        assert (await asyncio.to_thread(run_once, first.config, "check-config")).returncode == 0
        assert first.alive
        assert await asyncio.to_thread(first.terminate) == 0
    # Gone with the process: the next start runs (a kill -9 would release it too).
    again = await asyncio.to_thread(run_once, tmp_path / "node1.toml", "db", "upgrade")
    assert again.returncode == 0


@pytest.mark.postgres
async def test_a_process_with_another_secret_key_refuses_to_start(
    tmp_path: Path, postgres_url: str, telegram: TelegramHttp
) -> None:
    with cluster(tmp_path, postgres_url, telegram=telegram.base_url) as nodes:
        nodes.start()
        await nodes.wait_roles(leaders=1, standbys=0)
        other = write_config(tmp_path, "other", postgres_url, secret_key="cd" * 32)
        refused = await asyncio.to_thread(run_once, other)
        assert refused.returncode == 2
        assert "Traceback" not in refused.stderr
        assert refused.stderr.strip().splitlines()[-1] == (
            "buendnisbot: the secret key differs from the one the database was started with "
            "(another process or an earlier start used another key): anonymous ballots and "
            "/connect codes would not match. Give this process the same secret_key or "
            "secret_key_file as the others"
        )
        same = write_config(tmp_path, "same", postgres_url)
        assert (await asyncio.to_thread(run_once, same, "db", "upgrade")).returncode == 0


@pytest.mark.postgres
async def test_postgresql_without_a_configured_key_refuses_to_make_one_per_container(
    tmp_path: Path, postgres_url: str
) -> None:
    config = write_config(tmp_path, "nokey", postgres_url, secret_key="")
    refused = await asyncio.to_thread(run_once, config)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        "buendnisbot: no secret key configured. With PostgreSQL every process needs the "
        "same one: set secret_key (BUENDNISBOT_SECRET_KEY) or secret_key_file to the same "
        "value or file for all of them (`buendnisbot secret` prints a new key)"
    )
    assert not (tmp_path / "nokey" / "secret.key").exists()
    printed = await asyncio.to_thread(run_once, config, "secret")
    assert printed.returncode == 0
    assert len(printed.stdout.strip()) == 64
    int(printed.stdout.strip(), 16)
