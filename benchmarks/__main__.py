"""`make bench`: measured figures, printed as a table and written to benchmarks/results/.

Each figure is set beside a floor measured in the same run on the same machine, so a
slow or busy machine shifts both and the ratio stays meaningful.
"""

from __future__ import annotations

import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.core import ChatRef, IncomingMessage, UserRef
from tests.support.fake import BotHarness

RESULTS = Path(__file__).parent / "results"


@dataclass
class Row:
    name: str
    count: int
    per_second: float
    p50_ms: float
    p99_ms: float
    floor_p50_ms: float

    @property
    def ratio(self) -> float:
        return self.p50_ms / self.floor_p50_ms if self.floor_p50_ms else float("nan")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _timed(n: int, one: Callable[[int], Awaitable[None]]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        await one(i)
        latencies.append((time.perf_counter() - t0) * 1000)
    return time.perf_counter() - start, latencies


async def command_path(n: int = 10_000) -> Row:
    """/join and /leave through dispatcher, permission checks, SQLite writes and reply,
    against the floor of the same path with a command that touches no database."""
    with tempfile.TemporaryDirectory() as tmp:
        bot = await BotHarness.create(f"sqlite+aiosqlite:///{tmp}/bench.db")
        users = [UserRef("fake", f"u{i}", f"User {i}") for i in range(100)]
        chat = ChatRef("fake", "bench-group")

        async def send(i: int, text: str) -> None:
            message = IncomingMessage(chat, users[i % 100], text, str(i))
            await (await bot.app.dispatcher.message(message))

        # Warm up: create the 100 people, load caches.
        for i in range(100):
            await send(i, "join ag2")
            await send(i, "leave ag2")
        _, floor = await _timed(n // 5, lambda i: send(i, "start"))
        elapsed, latencies = await _timed(
            n, lambda i: send(i, "join ag2" if (i // 100) % 2 == 0 else "leave ag2")
        )
        await bot.close()
    return Row(
        "command path (/join, /leave) on SQLite, fake transport",
        n,
        n / elapsed,
        statistics.median(latencies),
        _percentile(latencies, 0.99),
        statistics.median(floor),
    )


def _print(rows: list[Row]) -> None:
    header = f"{'benchmark':58} {'n':>7} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'floor p50':>10} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.name:58} {r.count:>7} {r.per_second:>8.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
            f" {r.floor_p50_ms:>10.2f} {r.ratio:>6.2f}"
        )


async def main() -> None:
    rows = [await command_path()]
    _print(rows)
    machine = (
        f"{platform.machine()}, {platform.processor() or 'cpu'}, Python {sys.version.split()[0]}"
    )
    print(f"\nmachine: {machine}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"bench-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "machine": machine,
                "when": stamp,
                "rows": [asdict(r) | {"ratio": r.ratio} for r in rows],
            },
            indent=2,
        )
    )
    print(f"written: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


if __name__ == "__main__":
    asyncio.run(main())
