"""How cost grows: the same commands at 1x, 10x and 100x the alliance's data.

`/join`, `/members`, `/results`, `/stats`, `/meetings`, `/mydata` run through the real
dispatcher (BotHarness, the recording fake network) as the lead of one AG whose size is
the same at every scale; the reminder fan-out claim (`storage/meetings/deliveries.claim`
for one reminder of that AG, ~100 private deliveries and its chat) runs as the sender
runs it. The data is seeded in bulk (benchmarks/growth_seed.py). Goal: each command's p50
at 100x within 2x of its p50 at 1x, on SQLite and on PostgreSQL.

`python -m benchmarks growth` runs this row alone.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.growth_rows import Scale
from benchmarks.growth_seed import seed
from benchmarks.report import Row
from storage.meetings import deliveries
from tests.support.fake import BotHarness

SCALES = (1, 10, 100)
ROUNDS = 25  # measured rounds per command and scale, after WARMUP
WARMUP = 3
GOAL = 2.0
COMMANDS = ("/join", "/members", "/results", "/stats", "/meetings", "/mydata", "claim")
LABELS = {name: f"`{name}`" for name in COMMANDS} | {"claim": "reminder fan-out claim"}


Step = Callable[[int], Awaitable[Any]]


@dataclass
class Bench:
    """One scale, seeded, with a bot and the steps that time each command."""

    bot: BotHarness
    factor: int
    rows: int
    seed_s: float
    steps: dict[str, Step]


async def prepare(url: str, scale: Scale, rounds: int = ROUNDS) -> Bench:
    """Seed an empty database at `url` and make the steps; the caller closes `bench.bot`."""
    bot = await BotHarness.create(url)  # migrates and adds the configured AGs
    t0 = time.perf_counter()
    seeded = await seed(bot.app.services.db, scale)
    seed_seconds = time.perf_counter() - t0
    dm = bot.dm(seeded.asker)
    services = bot.app.services

    async def ask(text: str, expect: str) -> None:
        files = len(bot.transport.files)
        replies = await dm.say(seeded.asker, text)
        got = replies[0] if replies else ""
        assert got.startswith(expect) or len(bot.transport.files) > files, (text, got)

    async def join(i: int) -> None:
        who = seeded.joiners[i]
        [reply] = await bot.dm(who).say(who, f"/join {seeded.ag}")
        assert reply.startswith("Willkommen"), reply

    async def claim(i: int) -> None:
        reminder_id = seeded.reminders[i]
        now = services.now()
        rows = await services.db.run(
            lambda s: deliveries.claim(
                s, reminder_id, now, timedelta(minutes=5), owner=services.node_id
            )
        )
        assert rows is not None and len(rows.deliveries) > 50, reminder_id

    members = f"{100 + WARMUP + rounds} Mitglieder"  # /join runs first, once per round
    steps: dict[str, Step] = {
        "/join": join,
        "/members": lambda _i: ask(f"/members {seeded.ag}", members),
        "/results": lambda _i: ask(f"/results {seeded.poll}", "Zwischenstand"),
        "/stats": lambda _i: ask(f"/stats {seeded.ag}", "Zahlen zur AG"),
        "/meetings": lambda _i: ask("/meetings", "Die nächsten Treffen"),
        "/mydata": lambda _i: ask("/mydata", "\0"),  # a file
        "claim": claim,
    }
    return Bench(bot, scale.factor, seeded.rows, seed_seconds, steps)


async def growth(
    backend: str,
    url_for: Callable[[int], str],
    scales: tuple[int, ...] = SCALES,
    rounds: int = ROUNDS,
) -> dict[str, Any]:
    """Every scale on one backend: p50 per command and scale, and the ratio last/first.
    The scales take turns in every round (in a rotating order), so a busy moment of the
    machine falls on all of them alike."""
    benches: list[Bench] = []
    try:
        for factor in scales:
            benches.append(await prepare(url_for(factor), Scale(factor), rounds))
        timings: dict[int, dict[str, list[float]]] = {
            b.factor: {name: [] for name in COMMANDS} for b in benches
        }
        gc.collect()
        for name in COMMANDS:
            for i in range(WARMUP + rounds):
                for b in benches[i % len(benches) :] + benches[: i % len(benches)]:
                    t0 = time.perf_counter()
                    await b.steps[name](i)
                    if i >= WARMUP:
                        timings[b.factor][name].append((time.perf_counter() - t0) * 1000)
    finally:
        for b in benches:
            await b.bot.close()
    runs = [
        {
            "factor": b.factor,
            "rows": b.rows,
            "seed_s": b.seed_s,
            "p50_ms": {name: statistics.median(t) for name, t in timings[b.factor].items()},
        }
        for b in benches
    ]
    first, last = runs[0]["p50_ms"], runs[-1]["p50_ms"]
    return {
        "backend": backend,
        "scales": list(scales),
        "rounds": rounds,
        "runs": runs,
        "ratio": {name: last[name] / first[name] for name in first},
    }


async def sqlite_growth(scales: tuple[int, ...] = SCALES) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return await growth("SQLite", lambda f: f"sqlite+aiosqlite:///{tmp}/growth{f}.db", scales)


async def postgres_growth(scales: tuple[int, ...] = SCALES) -> dict[str, Any]:
    from tests.support.postgres import PostgresServer

    workdir = Path(tempfile.mkdtemp(prefix="buendnisbot-bench-growth-"))
    server = PostgresServer()
    server.start(workdir)
    try:
        return await growth(
            "PostgreSQL", lambda f: server.create_database(f"bench_growth_{f}"), scales
        )
    finally:
        server.stop()


def rows(result: dict[str, Any]) -> list[Row]:
    """One table row per command on this backend: p50 at each scale, and 100x / 1x."""
    scales = " / ".join(f"{run['factor']}x" for run in result["runs"])
    seeded = ", ".join(
        f"{run['factor']}x {run['rows']:,} rows in {run['seed_s']:.1f} s" for run in result["runs"]
    )
    out = []
    for name in COMMANDS:
        figures = " / ".join(f"{run['p50_ms'][name]:.1f}" for run in result["runs"])
        ratio = result["ratio"][name]
        out.append(
            Row(
                f"10. growth: {LABELS[name]}, {result['backend']}",
                f"p50 {figures} ms at {scales}",
                f"goal: {result['scales'][-1]}x within {GOAL:.0f}x of 1x",
                f"{ratio:.2f}x" + ("" if ratio <= GOAL else " (over the goal)"),
                {"seeded": seeded, **result} if name == COMMANDS[0] else {},
            )
        )
    return out


async def growth_rows() -> list[Row]:
    """The rows of `make bench` (and of `python -m benchmarks growth`)."""
    return rows(await sqlite_growth()) + rows(await postgres_growth())


def summary(result: dict[str, Any]) -> str:
    """One line per command: p50 at each scale and the ratio, for the table and the log."""
    parts = []
    for name in COMMANDS:
        figures = "/".join(f"{run['p50_ms'][name]:.1f}" for run in result["runs"])
        parts.append(f"{name} {figures} ms ({result['ratio'][name]:.2f}x)")
    return "; ".join(parts)


if __name__ == "__main__":
    import asyncio
    import sys

    scales = tuple(int(a) for a in sys.argv[1:]) or SCALES
    for run in (sqlite_growth, postgres_growth):
        r = asyncio.run(run(scales))
        print(r["backend"], [(x["factor"], round(x["seed_s"], 1), x["rows"]) for x in r["runs"]])
        print(summary(r))
