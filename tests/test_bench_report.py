"""docs/benchmarks.md is written by `make bench` from the run's rows: the page is rendered
from made-up rows here, without running a benchmark."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.report import (
    EXPLANATIONS,
    Row,
    from_json,
    merge,
    order,
    render,
    rows_of_page,
    write,
)

ROWS = [
    Row(
        "1a. commands, core only (fake transport, SQLite)",
        "974/s, p50 0.97 ms, p99 2.03 ms",
        "/start p50 0.07 ms",
        "14.40x",
        {"n": 10_000},
    ),
    Row(
        "6. poll tally, 10,000 votes over two networks, SQLite",
        "p50 14.9 ms, max 20.1 ms",
        "goal < 50 ms",
        "0.30 of goal",
        {},
    ),
]
WHEN = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
MACHINE = "x86_64, Linux 6.18, 2 cores, Python 3.11.7"


def test_the_page_holds_the_header_the_run_and_one_table_row_per_figure() -> None:
    page = render(ROWS, WHEN, MACHINE, 233.4, "benchmarks/results/bench-20310506T070809Z.json")
    lines = page.splitlines()
    assert lines[0].startswith("<!-- Written by `make bench`")
    assert lines[1] == "# Benchmarks"
    assert "This page is written by `make bench`" in page
    assert (
        "Run: 2031-05-06 07:08 UTC; machine: x86_64, Linux 6.18, 2 cores, Python 3.11.7; "
        "peak RSS of the whole run 233 MiB; "
        "raw figures: `benchmarks/results/bench-20310506T070809Z.json`." in lines
    )
    header = lines.index("| benchmark | measured | floor / goal | ratio |")
    assert lines[header + 1] == "|---|---|---|---|"
    assert lines[header + 2 : header + 5] == [
        "| 1a. commands, core only (fake transport, SQLite) | 974/s, p50 0.97 ms, p99 2.03 ms "
        "| /start p50 0.07 ms | 14.40x |",
        "| 6. poll tally, 10,000 votes over two networks, SQLite | p50 14.9 ms, max 20.1 ms "
        "| goal < 50 ms | 0.30 of goal |",
        "",
    ]
    for title, _ in EXPLANATIONS:
        assert f"**{title}.** " in page


def test_a_pipe_in_a_figure_does_not_break_the_table() -> None:
    row = Row("core_path", "FAILED: ValueError: a | b\nc", "", "", {})
    page = render([row], WHEN, MACHINE)
    assert "| core_path | FAILED: ValueError: a \\| b c |  |  |" in page.splitlines()
    assert "peak RSS" not in page


def test_the_page_is_written_again_from_a_saved_run(tmp_path: Path) -> None:
    saved = tmp_path / "bench-20310506T070809Z.json"
    payload = {
        "machine": MACHINE,
        "when": "20310506T070809Z",
        "rows": [{**vars(r)} for r in ROWS],
    }
    saved.write_text(json.dumps(payload), encoding="utf-8")
    page = write(from_json(saved), tmp_path / "docs" / "benchmarks.md")
    text = page.read_text(encoding="utf-8")
    assert text == render(ROWS, WHEN, MACHINE, None, "bench-20310506T070809Z.json")
    assert not list(page.parent.glob("*.tmp"))


async def test_the_datepoll_benchmark_recomputes_the_summary_of_500_people(
    tmp_path: Path,
) -> None:
    """The benchmark row of issue 15 runs and measures what it says (a guard against a
    blow-up, not the speed goal, which is `make bench`'s on an idle machine)."""
    from benchmarks.datepoll import summary_benchmark

    figures = await summary_benchmark(f"sqlite+aiosqlite:///{tmp_path}/dp.db", rounds=5)
    assert (figures["people"], figures["dates"]) == (500, 15)
    assert figures["answers"] == 450 * 15
    assert figures["summary_chars"] <= 4096
    assert figures["p50_ms"] < 1500, figures


def test_a_partial_run_replaces_only_its_rows_of_the_page() -> None:
    """`python -m benchmarks growth`: the page's other rows stay, in number order (9 before
    10), and a `|` in a cell survives the round trip."""
    page = render(ROWS, WHEN, MACHINE)
    published = rows_of_page(page)
    assert [(r.benchmark, r.figure, r.ratio) for r in published] == [
        (r.benchmark, r.figure, r.ratio) for r in ROWS
    ]
    fresh = [
        Row("10. growth: `/stats`, SQLite", "p50 8.0 / 9.6 ms at 1x / 100x", "goal", "1.20x", {}),
        Row("6. poll tally, 10,000 votes, SQLite", "p50 9.0 ms | max 12 ms", "", "0.18", {}),
        Row("9. grid page", "p50 3.0 ms", "", "1.1x", {}),
    ]
    merged = merge(published, fresh)
    assert [r.benchmark for r in merged] == [
        "1a. commands, core only (fake transport, SQLite)",
        "6. poll tally, 10,000 votes, SQLite",
        "9. grid page",
        "10. growth: `/stats`, SQLite",
    ]
    again = rows_of_page(render(merged, WHEN, MACHINE))
    assert again[1].figure == "p50 9.0 ms | max 12 ms"
    assert sorted([Row("10. b", "", "", "", {}), Row("9. a", "", "", "", {})], key=order)[0] == Row(
        "9. a", "", "", "", {}
    )


def test_a_rows_stage_times_are_listed_under_where_the_time_goes() -> None:
    row = Row(
        "2. commands, Matrix via Synapse",
        "p50 120.0 ms",
        "",
        "",
        {
            "n": 200,
            "bot": {"p50_ms": 120.0, "stages_p50_ms": {"sync->callback": 0.1, "send->sent": 40}},
            "bare": {"p50_ms": 118.0, "stages_p50_ms": {"callback->send": 0.004}},
        },
    )
    lines = render([row, *ROWS], WHEN, MACHINE).splitlines()
    at = lines.index("## Where the time goes")
    assert lines[at + 4 : at + 6] == [
        "- 2. commands, Matrix via Synapse, bot: sync->callback 0.10, send->sent 40.00",
        "- 2. commands, Matrix via Synapse, bare: callback->send 0.00",
    ]
    assert "## Where the time goes" not in render(ROWS, WHEN, MACHINE)
