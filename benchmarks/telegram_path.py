"""Benchmark 1: /join and /leave as Bot API updates through python-telegram-bot's own
Application and the whole bot, against a bare PTB handler that only echoes.

Both run on the same fake Bot API (answers from memory) in the same process, so the
ratio shows what the bot adds on top of python-telegram-bot: dispatch, permission
checks, the database write and the rendered reply.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite
from telegram import Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from benchmarks.stage_times import step_medians
from bot import stages
from bot.app import App
from bot.config import Secret, Settings, TelegramSettings
from bot.transports.telegram import TelegramTransport
from tests.support.telegram_api import BOT_TOKEN, BotApi, group, message, update, user

ROOT = Path(__file__).resolve().parents[1]
GROUP = group(-100777, "Bench")


def _updates(n: int) -> list[dict[str, Any]]:
    people = [user(1000 + i, f"Person{i}") for i in range(100)]
    out = []
    for i in range(n):
        verb = "/join ag2" if (i // 100) % 2 == 0 else "/leave ag2"
        out.append(update(message(GROUP, people[i % 100], verb)))
    return out


def _summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


async def _bare(n: int) -> dict[str, float]:
    api = BotApi()
    ptb = (
        ApplicationBuilder()
        .token(BOT_TOKEN)
        .request(api.request)
        .get_updates_request(api.updates_request)
        .updater(None)
        .build()
    )

    async def echo(upd: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        assert upd.message is not None
        await upd.message.reply_text(upd.message.text or "")

    ptb.add_handler(CommandHandler(["join", "leave"], echo))
    await ptb.initialize()
    payloads = _updates(n)
    latencies: list[float] = []
    start = time.perf_counter()
    for payload in payloads:
        t0 = time.perf_counter()
        await ptb.process_update(Update.de_json(payload, ptb.bot))
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - start
    await ptb.shutdown()
    assert len(api.delivered()) == n
    return _summary(latencies, elapsed)


async def _whole_bot(n: int) -> dict[str, Any]:
    api = BotApi()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
            ags_file=ROOT / "config" / "ags.toml",
            heartbeat_file=Path(tmp) / "heartbeat",
        )
        transport = TelegramTransport(
            TelegramSettings(token=Secret(BOT_TOKEN)),
            request=api.request,
            get_updates_request=api.updates_request,
            rate_limits=False,  # both sides without Telegram's pacing: this measures the bot
        )
        app = App(settings, [transport])
        await app.start()
        ptb = transport.application
        for payload in _updates(200):  # warm-up: people and caches exist
            await ptb.process_update(Update.de_json(payload, ptb.bot))
            await app.dispatcher.drain()
        sent_before = len(api.delivered())
        latencies: list[float] = []
        payloads = _updates(n)
        start = time.perf_counter()
        for payload in payloads:
            t0 = time.perf_counter()
            await ptb.process_update(Update.de_json(payload, ptb.bot))
            await app.dispatcher.drain()
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - start
        stage_steps = await _stages(ptb, app, min(n, 2_000), Path(tmp) / "stages.log")
        await app.stop()
    assert len(api.delivered()) - sent_before == n + min(n, 2_000), "a command went unanswered"
    return {**_summary(latencies, elapsed), "stages_p50_ms": stage_steps}


STAGES = ("update", "received", "dispatched", "task", "context", "handler", "reply", "send")
STAGES += ("sent", "done")


async def _stages(ptb: Any, app: App, n: int, path: Path) -> dict[str, float]:
    """A second pass with the stage log on (bot/stages.py; the timed pass has it off):
    the median time from the update's arrival (`update`: before PTB parses it) to each
    stage, to the reply's send returning (`sent`) and the handler's end (`done`). For
    `/join`, handler->reply is its transaction (the statement and the commit)."""
    stages.setup(str(path))
    try:
        for payload in _updates(n):
            key = str(payload["message"]["message_id"])
            stages.mark("update", key)
            await ptb.process_update(Update.de_json(payload, ptb.bot))
            await app.dispatcher.drain()
            stages.mark("done", key)
    finally:
        stages.close()
    return step_medians(stages.read(str(path)).values(), STAGES)


async def _sqlite_write(n: int) -> dict[str, float]:
    """One committed write through aiosqlite's thread, nothing else: what any command
    that stores something costs at least on SQLite (WAL, synchronous=NORMAL, as the bot)."""
    with tempfile.TemporaryDirectory() as tmp:
        async with aiosqlite.connect(f"{tmp}/floor.db") as conn:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute(
                "CREATE TABLE m (person INTEGER, ag INTEGER, PRIMARY KEY (person, ag))"
            )
            await conn.commit()

            async def once(i: int) -> None:
                if (i // 100) % 2 == 0:
                    await conn.execute(
                        "INSERT INTO m VALUES (?, 2) ON CONFLICT DO NOTHING", (i % 100,)
                    )
                else:
                    await conn.execute("DELETE FROM m WHERE person = ? AND ag = 2", (i % 100,))
                await conn.commit()

            for i in range(200):
                await once(i)
            latencies: list[float] = []
            start = time.perf_counter()
            for i in range(n):
                t0 = time.perf_counter()
                await once(i)
                latencies.append((time.perf_counter() - t0) * 1000)
            elapsed = time.perf_counter() - start
    return _summary(latencies, elapsed)


async def telegram_command_path(n: int = 10_000) -> dict[str, Any]:
    bare = await _bare(n)
    write = await _sqlite_write(n)
    bot = await _whole_bot(n)
    return {
        "name": "Telegram /join+/leave via PTB Application, whole bot vs bare echo",
        "n": n,
        "bot": bot,
        "floor": bare,
        "sqlite_write": write,
        "ratio_p50": bot["p50_ms"] / bare["p50_ms"],
        "ratio_to_echo_plus_write": bot["p50_ms"] / (bare["p50_ms"] + write["p50_ms"]),
        "goal": "p50 within 2x of the bare handler, >= 1,000 commands/s",
    }
