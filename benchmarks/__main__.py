"""`make bench`: every figure beside a floor or goal, printed as one table, written as
JSON to benchmarks/results/ and published as docs/benchmarks.md (benchmarks/report.py).

Where there is a floor (a bare python-telegram-bot handler, the limits Telegram sets), it is
measured in the same run on the same machine, so a busy machine shifts both sides.
"""

from __future__ import annotations

import asyncio
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.report import (
    PAGE,
    RESULTS,
    STAMP,
    Row,
    merge,
    order,
    render,
    rows_of_page,
    write,
)
from bot.core import ChatRef, IncomingMessage, UserRef
from tests.support.fake import BotHarness


def _pct(values: list[float], q: float) -> float:
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


async def core_path(n: int = 10_000) -> Row:
    """/join and /leave through dispatcher, checks, SQLite writes and the reply, against
    `/start` through the same dispatcher (no database write)."""
    with tempfile.TemporaryDirectory() as tmp:
        bot = await BotHarness.create(f"sqlite+aiosqlite:///{tmp}/bench.db")
        users = [UserRef("fake", f"u{i}", f"User {i}") for i in range(100)]
        chat = ChatRef("fake", "bench-group")

        async def send(i: int, text: str) -> None:
            message = IncomingMessage(chat, users[i % 100], text, str(i))
            await (await bot.app.dispatcher.message(message))

        for i in range(100):
            await send(i, "join ag2")
            await send(i, "leave ag2")
        _, floor = await _timed(n // 5, lambda i: send(i, "start"))
        elapsed, lat = await _timed(
            n, lambda i: send(i, "join ag2" if (i // 100) % 2 == 0 else "leave ag2")
        )
        await bot.close()
    p50, fp50 = statistics.median(lat), statistics.median(floor)
    return Row(
        "1a. commands, core only (fake transport, SQLite)",
        f"{n / elapsed:.0f}/s, p50 {p50:.2f} ms, p99 {_pct(lat, 0.99):.2f} ms",
        f"/start p50 {fp50:.2f} ms",
        f"{p50 / fp50:.2f}x",
        {"n": n, "per_second": n / elapsed, "p50_ms": p50, "floor_p50_ms": fp50},
    )


async def telegram_path() -> Row:
    from benchmarks.telegram_path import telegram_command_path

    r = await telegram_command_path(10_000)
    bot, floor, write, echo_write = r["bot"], r["floor"], r["sqlite_write"], r["echo_write"]
    return Row(
        "1b. commands via python-telegram-bot Application (SQLite)",
        f"{bot['burst_per_second']:.0f}/s in bursts of 100 ({bot['per_second']:.0f}/s one at "
        f"a time), p50 {bot['p50_ms']:.2f} ms, p99 {bot['p99_ms']:.2f} ms",
        f"bare PTB echo p50 {floor['p50_ms']:.2f} ms; one aiosqlite write alone p50 "
        f"{write['p50_ms']:.2f} ms; the echo writing first p50 {echo_write['p50_ms']:.2f} ms; "
        "goal 2x, 1,500/s",
        f"{r['ratio_to_echo_plus_write']:.2f}x echo + write, "
        f"{r['ratio_to_echo_write_bot']:.2f}x the writing echo",
        r,
    )


async def matrix_path() -> Row:
    from benchmarks.matrix_path import matrix_command_path

    r = await matrix_command_path(500)
    bot, bare, e2e = r["bot"], r["bare"], r["e2e"]
    return Row(
        "2. commands, Matrix via Synapse, each bot its own process",
        f"`!my` p50 {bot['p50_ms']:.1f} ms, p95 {bot['p95_ms']:.1f} ms (n={r['n']}, {r['rooms']})",
        f"bare nio echo p50 {bare['p50_ms']:.1f} ms, p95 {bare['p95_ms']:.1f} ms; "
        f"E2E nio echo p50 {e2e['p50_ms']:.1f} ms, p95 {e2e['p95_ms']:.1f} ms",
        f"bare {r['ratio_p50_bare']:.2f}x / {r['ratio_p95_bare']:.2f}x, "
        f"E2E {r['ratio_p50_e2e']:.2f}x / {r['ratio_p95_e2e']:.2f}x (p50 / p95; goal 1.05x)",
        r,
    )


async def polls_tally() -> list[Row]:
    from benchmarks.polls import tally_benchmark
    from tests.support.postgres import PostgresServer

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = await tally_benchmark(f"sqlite+aiosqlite:///{tmp}/tally.db")
    rows.append(_tally_row("SQLite", sqlite))
    workdir = Path(tempfile.mkdtemp(prefix="buendnisbot-bench-pg-"))
    server = PostgresServer()
    server.start(workdir)
    try:
        url = server.create_database("bench_tally")
        rows.append(_tally_row("PostgreSQL", await tally_benchmark(url)))
    finally:
        server.stop()
    return rows


def _tally_row(backend: str, r: dict[str, Any]) -> Row:
    return Row(
        f"6. poll tally, {r['votes']:,} votes over two networks, {backend}",
        f"p50 {r['p50_ms']:.1f} ms, max {r['max_ms']:.1f} ms",
        "goal < 50 ms",
        f"{r['p50_ms'] / 50:.2f} of goal",
        r,
    )


async def datepoll_summary() -> Row:
    from benchmarks.datepoll import summary_benchmark

    with tempfile.TemporaryDirectory() as tmp:
        r = await summary_benchmark(f"sqlite+aiosqlite:///{tmp}/datepoll.db")
    return Row(
        f"7. Terminumfrage summary per answer, {r['dates']} dates x {r['people']} people, SQLite",
        f"p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms ({r['summary_chars']} characters)",
        f"goal < 50 ms; the answer's write alone p50 {r['floor_p50_ms']:.1f} ms",
        f"{r['p50_ms'] / 50:.2f} of goal ({r['p50_ms'] / r['floor_p50_ms']:.1f}x the write)",
        r,
    )


async def calendar_feed() -> Row:
    from benchmarks.feeds import feed_benchmark

    with tempfile.TemporaryDirectory() as tmp:
        r = await feed_benchmark(f"sqlite+aiosqlite:///{tmp}/feed.db")
    return Row(
        f"8. calendar feed of an AG with {r['meetings']} meetings ({r['events']} VEVENTs, "
        f"{r['bytes'] // 1024} KiB), SQLite",
        f"200: p50 {r['p50_ms']:.1f} ms, max {r['max_ms']:.1f} ms; 304: p50 {r['p50_304_ms']:.1f} ms",
        f"/healthz p50 {r['floor_p50_ms']:.1f} ms; goal < 50 ms",
        f"{r['p50_ms'] / r['floor_p50_ms']:.1f}x floor, {r['p50_ms'] / 50:.2f} of goal",
        r,
    )


async def grid_page() -> Row:
    from benchmarks.pages import grid_benchmark

    with tempfile.TemporaryDirectory() as tmp:
        r = await grid_benchmark(f"sqlite+aiosqlite:///{tmp}/grid.db")
    return Row(
        f"9. Terminumfrage grid page, {r['dates']} dates × {r['people']} people "
        f"({r['bytes'] // 1024} KiB), SQLite",
        f"p50 {r['p50_ms']:.1f} ms, max {r['max_ms']:.1f} ms",
        f"/healthz p50 {r['floor_p50_ms']:.1f} ms; goal < 50 ms",
        f"{r['p50_ms'] / r['floor_p50_ms']:.1f}x floor, {r['p50_ms'] / 50:.2f} of goal",
        r,
    )


async def reminders_scale() -> Row:
    from benchmarks.reminders import rebuild

    r = await rebuild(100_000)
    crowded = r["all_within_the_window"]
    spread = r["spread_over_60_days"]
    return Row(
        "3. start-up with 100,000 future reminders",
        f"{spread['seconds']:.2f} s / {spread['peak_mib']} MiB (spread); "
        f"{crowded['seconds']:.2f} s / {crowded['peak_mib']} MiB (5,000 due within 6 h)",
        "goal < 5 s, < 300 MB",
        f"{max(spread['seconds'], crowded['seconds']) / 5:.2f} of goal",
        r,
    )


async def reminders_lag() -> Row:
    from benchmarks.reminders import lag

    r = await lag(200, 60.0)
    return Row(
        "5. lag of 200 reminders due over one minute",
        f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms",
        "goal p99 < 1000 ms",
        f"{r['p99_ms'] / 1000:.3f} of goal",
        r,
    )


async def fanout() -> Row | None:
    try:
        from benchmarks.fanout import fanout_benchmark
    except ImportError:
        return None
    r = await fanout_benchmark(1000)
    return Row(
        "4. 1,000 private reminders through a Bot API enforcing Telegram's limits",
        f"{r['seconds']:.1f} s (sending {r['send_span_seconds']:.1f} s), "
        f"{r['retry_after_provoked']} RetryAfter provoked, all once: {r['all_arrived_once']}",
        f"floor {r['floor_seconds']:.1f} s (30/s overall)",
        f"{r['ratio']:.3f}x (sending {r['send_span_ratio']:.3f}x)",
        r,
    )


async def growth() -> list[Row]:
    from benchmarks.growth import growth_rows

    return await growth_rows()


async def failover() -> Row:
    from benchmarks.failover import failover_benchmark

    r = await failover_benchmark(3)
    return Row(
        "11. failover: leader killed (-9) as a reminder falls due, 2 processes, PostgreSQL",
        f"first reminder after {r['reminder_median_s']:.1f} s (median of "
        f"{len(r['runs'])}, max {r['reminder_max_s']:.1f} s); a command answered after "
        f"{r['command_median_s']:.1f} s",
        f"the standby tries every {r['floor_s']:.0f} s (it waits up to that); goal < 60 s",
        f"{r['reminder_max_s'] / 60:.3f} of goal",
        r,
    )


def _print(rows: list[Row]) -> None:
    widths = [
        max(len(getattr(r, f)) for r in rows) for f in ("benchmark", "figure", "floor_or_goal")
    ]
    for r in rows:
        print(
            f"{r.benchmark:{widths[0]}}  {r.figure:{widths[1]}}  {r.floor_or_goal:{widths[2]}}  {r.ratio}"
        )


async def main(only: list[str]) -> None:
    """Every benchmark, or those named (`python -m benchmarks growth`): their rows then
    replace the same rows of the published page, and the others stay as they were."""
    rows: list[Row] = []
    steps: list[Callable[[], Awaitable[Any]]] = [
        core_path,
        telegram_path,
        matrix_path,
        polls_tally,
        datepoll_summary,
        calendar_feed,
        grid_page,
        reminders_scale,
        fanout,
        reminders_lag,
        growth,
        failover,
    ]
    unknown = set(only) - {step.__name__ for step in steps}
    if unknown:
        names = ", ".join(step.__name__ for step in steps)
        sys.exit(f"unknown benchmark(s) {', '.join(sorted(unknown))}; there are: {names}")
    if only:
        steps = [step for step in steps if step.__name__ in only]
    for step in steps:
        print(f"... {step.__name__}", file=sys.stderr, flush=True)
        try:
            result = await step()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            result = Row(step.__name__, f"FAILED: {type(exc).__name__}: {exc}", "", "", {})
        if isinstance(result, list):
            rows.extend(result)
        elif result is not None:
            rows.append(result)
    rows.sort(key=order)
    print()
    _print(rows)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    machine = (
        f"{platform.machine()}, {platform.system()} {platform.release()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores, Python {sys.version.split()[0]}"
    )
    print(f"\nmachine: {machine}; peak RSS of the whole run {rss_mib:.0f} MiB")
    RESULTS.mkdir(exist_ok=True)
    now = datetime.now(UTC)
    stamp = now.strftime(STAMP)
    # A run of some rows is saved apart: the page is rendered from the newest full run.
    out = RESULTS / (f"rows-{stamp}.json" if only else f"bench-{stamp}.json")
    payload = {
        "machine": machine,
        "when": stamp,
        "peak_rss_mib": round(rss_mib, 1),
        "rows": [asdict(r) for r in rows],
    }
    out.write_text(json.dumps(payload, indent=2, default=str))
    print(f"written: benchmarks/results/{out.name}")
    note = None
    if only:
        rows = merge(rows_of_page(PAGE.read_text(encoding="utf-8")) if PAGE.exists() else [], rows)
        note = f"this run: only {', '.join(only)}; the other rows are from the page's earlier run"
    write(render(rows, now, machine, rss_mib, f"benchmarks/results/{out.name}", note))
    print("written: docs/benchmarks.md")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
