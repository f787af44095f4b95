"""The real process freezes what start-up built out of the garbage collector (issue 18,
bot/app.py `settle_heap`): full collections then no longer walk the start-up heap in
the middle of a command. Tests that start apps with `App.start` leave the GC alone."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def settings_in(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        ags_file=ROOT / "config" / "ags.toml",
        heartbeat_file=tmp_path / "heartbeat",
    )


async def test_run_freezes_the_heap_once_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = App(settings_in(tmp_path), [])
    started: list[bool] = []
    start = app.start

    async def noted_start() -> None:
        await start()
        started.append(True)

    monkeypatch.setattr(app, "start", noted_start)
    frozen: list[bool] = []  # whether the app had started when the heap was frozen
    done = asyncio.Event()

    def freeze() -> None:
        frozen.append(bool(started))
        done.set()

    monkeypatch.setattr(gc, "freeze", freeze)
    running = asyncio.create_task(app.run())
    try:
        await asyncio.wait_for(done.wait(), 30)
    finally:
        app.request_stop()
        await asyncio.wait_for(running, 30)
    assert frozen == [True]


async def test_start_alone_leaves_the_garbage_collector_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    app = App(settings_in(tmp_path), [])
    await app.start()
    await app.stop()
    assert frozen == []
