"""The feed benchmark (`make bench`, row 7) runs and measures what it says, on a small AG."""

from __future__ import annotations

from pathlib import Path

from benchmarks.feeds import feed_benchmark


async def test_the_feed_benchmark_serves_the_whole_feed_and_304(tmp_path: Path) -> None:
    r = await feed_benchmark(f"sqlite+aiosqlite:///{tmp_path}/feed.db", meetings=40, n=3)
    # 36 single meetings, 4 weekly series with one moved date each.
    assert (r["meetings"], r["events"]) == (40, 44)
    assert r["p50_ms"] > 0 and r["p50_304_ms"] > 0 and r["floor_p50_ms"] > 0
