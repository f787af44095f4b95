"""The grid page benchmark (`make bench`, row 8) runs and measures what it says, small."""

from __future__ import annotations

from pathlib import Path

from benchmarks.pages import grid_benchmark


async def test_the_grid_benchmark_serves_the_whole_grid(tmp_path: Path) -> None:
    r = await grid_benchmark(f"sqlite+aiosqlite:///{tmp_path}/grid.db", people=20, dates=4, n=3)
    assert (r["people"], r["dates"]) == (21, 4)
    assert r["cells"] == 21 * 4  # every person × every date, answered or open
    assert r["p50_ms"] > 0 and r["floor_p50_ms"] > 0
