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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
from telegram import Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from benchmarks.stage_times import step_medians
from benchmarks.telegram_bot import started_bot
from bot import stages
from bot.app import App
from bot.transports.telegram import TelegramTransport
from tests.support.telegram_api import BOT_TOKEN, BotApi, group, message, update, user

GROUP = group(-100777, "Bench")


def _updates(n: int) -> list[dict[str, Any]]:
    people = [user(1000 + i, f"Person{i}") for i in range(100)]
    out = []
    for i in range(n):
        verb = "/join ag2" if (i // 100) % 2 == 0 else "/leave ag2"
        out.append(update(message(GROUP, people[i % 100], verb)))
    return out


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "per_second": 1000 * len(latencies) / sum(latencies),  # one command at a time
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


Side = Callable[[int], Awaitable[None]]


async def _echo(
    n: int, store: aiosqlite.Connection | None = None
) -> tuple[Side, Callable[[], Awaitable[None]]]:
    """A bare PTB handler that only echoes, on its own fake Bot API; with `store`, it
    first writes the sender's row (`/join`) or deletes it (`/leave`) and commits, as the
    least a bot that keeps its commands does before it answers."""
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
        assert upd.message is not None and upd.message.from_user is not None
        if store is not None:
            person = upd.message.from_user.id
            if (upd.message.text or "").startswith("/join"):
                await store.execute("INSERT INTO m VALUES (?, 2) ON CONFLICT DO NOTHING", (person,))
            else:
                await store.execute("DELETE FROM m WHERE person = ? AND ag = 2", (person,))
            await store.commit()
        await upd.message.reply_text(upd.message.text or "")

    ptb.add_handler(CommandHandler(["join", "leave"], echo))
    await ptb.initialize()
    payloads = _updates(n)

    async def one(i: int) -> None:
        await ptb.process_update(Update.de_json(payloads[i], ptb.bot))

    return one, ptb.shutdown


async def _store(path: str) -> aiosqlite.Connection:
    """A table of memberships on SQLite (WAL, synchronous=NORMAL, as the bot)."""
    conn = await aiosqlite.connect(path)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=NORMAL")
    await conn.execute("CREATE TABLE m (person INTEGER, ag INTEGER, PRIMARY KEY (person, ag))")
    await conn.commit()
    return conn


async def _sqlite_write(folder: str) -> tuple[Side, Callable[[], Awaitable[None]]]:
    """One committed write through aiosqlite's thread, nothing else, one after another:
    what any command that stores something costs at least on SQLite."""
    conn = await _store(f"{folder}/floor.db")

    async def one(i: int) -> None:
        if (i // 100) % 2 == 0:
            await conn.execute("INSERT INTO m VALUES (?, 2) ON CONFLICT DO NOTHING", (i % 100,))
        else:
            await conn.execute("DELETE FROM m WHERE person = ? AND ag = 2", (i % 100,))
        await conn.commit()

    return one, conn.close


async def _whole_bot(folder: str, n: int) -> tuple[Side, App, BotApi, TelegramTransport]:
    api = BotApi()
    # Both sides without Telegram's pacing: this measures the bot.
    app, transport = await started_bot(folder, api, rate_limits=False)
    # The updates are handed to PTB here, as to the echo: no long poll waits beside them
    # (the fake Bot API would wake it at every send, which a real one does not).
    await transport.stop_receiving()
    ptb = transport.application
    for payload in _updates(ROUND):  # warm-up: people and caches exist
        await ptb.process_update(Update.de_json(payload, ptb.bot))
        await app.dispatcher.drain()
    payloads = _updates(n)  # each its own message id: a reply is sent once per message

    async def one(i: int) -> None:
        await ptb.process_update(Update.de_json(payloads[i], ptb.bot))
        await app.dispatcher.drain()

    return one, app, api, transport


ROUND = 200  # commands per side and turn: 100 people join, then leave


async def _turns(sides: dict[str, Side], n: int) -> dict[str, list[float]]:
    """`n` commands per side, ROUND at a time, the sides taking turns in an order that
    rotates: a busy moment of the machine falls on every side alike."""
    latencies: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for turn in range(n // ROUND):
        order = names[turn % len(names) :] + names[: turn % len(names)]
        for name in order:
            one, out = sides[name], latencies[name]
            for i in range(turn * ROUND, (turn + 1) * ROUND):
                t0 = time.perf_counter()
                await one(i)
                out.append((time.perf_counter() - t0) * 1000)
    return latencies


async def _burst(app: App, ptb: Any, n: int, batch: int = 100) -> float:
    """Commands a second when they come as long polling hands them over: `batch` updates
    at once (getUpdates returns up to 100), each given to PTB without waiting for the
    one before to be answered (the dispatcher runs them as tasks, one person's in order),
    then the next batch. Every command is answered before the clock stops."""
    payloads = _updates(n)
    start = time.perf_counter()
    for first in range(0, n, batch):
        for i in range(first, first + batch):
            await ptb.process_update(Update.de_json(payloads[i], ptb.bot))
        await app.dispatcher.drain()
    return n / (time.perf_counter() - start)


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


async def telegram_command_path(n: int = 10_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        echo, echo_done = await _echo(n)
        write, write_done = await _sqlite_write(tmp)
        storing = await _store(f"{tmp}/storing.db")
        echo_write, echo_write_done = await _echo(n, storing)
        bot, app, api, transport = await _whole_bot(tmp, n)
        sent_before = len(api.delivered())
        sides = {"echo": echo, "write": write, "echo_write": echo_write, "bot": bot}
        lat = await _turns(sides, n)
        burst = await _burst(app, transport.application, n)
        answered = len(api.delivered()) - sent_before
        stage_steps = await _stages(
            transport.application, app, min(n, 2_000), Path(tmp) / "stages.log"
        )
        await app.stop()
        await echo_done()
        await write_done()
        await echo_write_done()
        await storing.close()
    assert answered == 2 * n, f"{2 * n - answered} commands went unanswered"
    bot_s, echo_s, write_s = _summary(lat["bot"]), _summary(lat["echo"]), _summary(lat["write"])
    echo_write_s = _summary(lat["echo_write"])
    return {
        "name": "Telegram /join+/leave via PTB Application, whole bot vs bare echo",
        "n": n,
        "bot": {**bot_s, "burst_per_second": burst, "stages_p50_ms": stage_steps},
        "floor": echo_s,
        "sqlite_write": write_s,
        "echo_write": echo_write_s,
        "ratio_p50": bot_s["p50_ms"] / echo_s["p50_ms"],
        "ratio_to_echo_write_bot": bot_s["p50_ms"] / echo_write_s["p50_ms"],
        "ratio_to_echo_plus_write": bot_s["p50_ms"] / (echo_s["p50_ms"] + write_s["p50_ms"]),
        "goal": "p50 within 2x of bare echo + one write; >= 1,500 commands/s",
    }
