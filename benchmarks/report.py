"""docs/benchmarks.md, written by `make bench` after every run, so the published figures are
always those of a real run and nobody copies them by hand.

`render` is a pure function of the rows and the run's facts (tested without a run);
`python -m benchmarks.report [results.json]` writes the page again from a saved run (by
default the newest in benchmarks/results/).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
PAGE = ROOT / "docs" / "benchmarks.md"
STAMP = "%Y%m%dT%H%M%SZ"


@dataclass
class Row:
    """One line of the table: a figure beside the floor or goal it is held to."""

    benchmark: str
    figure: str
    floor_or_goal: str
    ratio: str
    details: dict[str, Any]


EXPLANATIONS: tuple[tuple[str, str], ...] = (
    (
        "1a. Commands, core only",
        "10,000 `/join ag2` and `/leave ag2` from 100 people through the dispatcher, its "
        "checks, the SQLite write and the reply, on the recording fake transport. The floor "
        "is `/start` through the same dispatcher, which touches no database.",
    ),
    (
        "1b. Commands through python-telegram-bot",
        "The same commands as Bot API updates through python-telegram-bot's own "
        "`Application` and the whole bot, on a fake Bot API that answers from memory, against "
        "a bare python-telegram-bot handler that only echoes, in the same process. The ratio "
        "shows what the bot adds on top of python-telegram-bot: dispatch, rights, the "
        "database write and the rendered reply. The goal is a p50 within 2x of a bare "
        "handler and 1,000 commands a second. A bare handler stores nothing; every `/join` "
        'writes one row and must commit it before it can answer "Willkommen" or "schon '
        'drin". A single bare write through aiosqlite (WAL, `synchronous=NORMAL`, as the '
        "bot) costs about as much as the whole echo handler (two hand-offs to its thread), "
        "so the table also gives the ratio to echo + one write, the least any bot that "
        "stores its commands on SQLite pays here. Earlier cuts on this path (from 274/s, "
        "p50 3.2 ms): the AG list and the sender are cached (`storage/cache.py`, dropped on "
        "every write to their tables), join and leave are one prebuilt statement each, "
        'private chats no longer write "reachable" at every command, and SQLite '
        "connections skip the pool's extra rollback.",
    ),
    (
        "2. Commands through a real Synapse",
        "`!join ag2` / `!leave ag2` round trips, human to human: the human's client sends "
        "the command and its own sync sees the bot's notice; that is what a person feels. "
        "The whole bot (App, Matrix transport, SQLite, `config/ags.toml`) runs against a "
        "bare matrix-nio echo bot (no store, no encryption, no database) on the same "
        "Synapse, asked by the same human in two rooms made the same way (private, "
        "unencrypted, two members). The two sides take turns in blocks, so a busy machine "
        "hits both alike. Goal: the bot's median within 1.10x of the echo bot's; most of "
        "each round trip is the homeserver's own time.",
    ),
    (
        "3. Start-up with 100,000 future reminders",
        "The time to rebuild the scheduler from the reminder rows at start, and the peak "
        "memory (tracemalloc) of doing so: once spread over 60 days (the normal case: only "
        "the reminders due within the next 6 hours become scheduler jobs) and once with "
        "5,000 due within that window (the worst case: a batch of jobs at once). Goal: "
        "under 5 s and 300 MB.",
    ),
    (
        "4. 1,000 private reminders through Telegram's limits",
        "One reminder fanned out to 1,000 private chats as in production: the bot on "
        "SQLite with the Telegram transport and its real rate limiter, through a fake Bot "
        "API that enforces Telegram's flood limits, fired as the scheduler fires it "
        "(claim, one delivery row per person, at most `parallel_sends` sends at once). "
        "The floor is what the limits allow: at most 30 messages in any second, so N "
        "messages take at least (ceil(N / 30) - 1) seconds from the first to the last. "
        "The time runs from firing until the reminder is recorded as sent, so the bot's "
        "own work counts against it. Any `RetryAfter` the bot provokes is counted; the "
        "goal is none.",
    ),
    (
        "5. Lag of 200 reminders due over one minute",
        "200 reminders falling due evenly over a minute, sent through a fake network that "
        "notes the time of each send: how late after its due time each one went out. "
        "Really waits about a minute. Goal: p99 under 1 s.",
    ),
    (
        "6. Poll tally, 10,000 votes",
        "A multi-answer poll with 10,000 named votes (10,000 people on Telegram or Matrix, "
        "a fifth of them on two options), then the same tally `/results` runs, computed in "
        "the database (`GROUP BY`), on SQLite and on PostgreSQL. Goal: under 50 ms.",
    ),
    (
        "7. Terminumfrage summary per answer",
        "A Terminumfrage of 15 dates in an AG of 500 members, nine in ten of whom have "
        "answered every date; then 50 answers, each followed by what `/termin` and the live "
        "summary do: store the answer (`set_answers`), read the poll with all its answers "
        "and the AG's members, and render the summary text. The floor, measured in the "
        "same run, is the answer's write alone. Goal: well under 50 ms at p50; the p95 "
        "carries Python's garbage collections of the whole process.",
    ),
    (
        "8. Calendar feed of an AG with 500 meetings",
        "An AG with 450 single meetings (a tenth cancelled) and 50 weekly series (each with a "
        "moved and a cancelled date), its feed fetched over HTTP from the bot's own web "
        "server on SQLite: the whole feed (200, rendered) and a repeat with `If-None-Match` "
        "(304, no rendering), against `GET /healthz` on the same server in the same run (one "
        "HTTP round trip and a trivial query). Goal: well under 50 ms.",
    ),
    (
        "9. Terminumfrage grid page, 15 dates × 500 people",
        "A Terminumfrage of 15 dates in an AG of 501 members who answered most dates, its "
        "page (`/seite`) fetched over HTTP from the bot's own web server on SQLite: the link "
        "looked up, the rights checked, 7,515 cells rendered and escaped, against `GET "
        "/healthz` on the same server in the same run. Goal: well under 50 ms.",
    ),
    (
        "10. Failover",
        "Two real bot processes (`python -m bot run`) on one PostgreSQL database, Telegram "
        "offline (the test's Bot API over HTTP). The leader has a reminder to 20 people "
        "planned and is killed with SIGKILL the moment it falls due; measured from the "
        "kill until the standby's first reminder reaches the Bot API, and until a command "
        "sent right after the kill is answered, over three runs. The standby tries for "
        "the leader lock every second, so it waits up to 1 s (half of it on average); "
        "the rest is the new leader starting its duties (long polling, the scheduler, "
        "the start-up steps). Goal: under a minute.",
    ),
)

NOISE = (
    "Figures of the command path move by up to 50 % between runs on a small shared VM "
    "(thread wake-ups are cheaper when the machine is busy); the ratios, measured side by "
    "side, move less. Where there is a floor it is measured in the same run on the same "
    "machine, so a busy machine shifts both sides."
)


def _cell(text: str) -> str:
    """A table cell: a `|` would end the cell, a line break the row."""
    return text.replace("|", "\\|").replace("\n", " ")


def render(
    rows: list[Row],
    when: datetime,
    machine: str,
    peak_rss_mib: float | None = None,
    source: str | None = None,
) -> str:
    """The whole page as Markdown; depends on nothing but its arguments."""
    facts = [f"Run: {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC", f"machine: {machine}"]
    if peak_rss_mib is not None:
        facts.append(f"peak RSS of the whole run {peak_rss_mib:.0f} MiB")
    if source:
        facts.append(f"raw figures: `{source}`")
    lines = [
        "<!-- Written by `make bench` (benchmarks/report.py). Do not edit: the next run "
        "overwrites it. -->",
        "# Benchmarks",
        "",
        "This page is written by `make bench` at the end of every run (about 3 minutes); "
        "change its text in `benchmarks/report.py`. The run also prints the table and saves "
        "it as JSON in `benchmarks/results/`; `python -m benchmarks.report` writes this page "
        "again from the newest saved run. Each figure stands beside a floor measured in the "
        "same run or the goal it is held to.",
        "",
        "; ".join(facts) + ".",
        "",
        "| benchmark | measured | floor / goal | ratio |",
        "|---|---|---|---|",
    ]
    for r in rows:
        cells = (r.benchmark, r.figure, r.floor_or_goal, r.ratio)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "## What each benchmark measures", ""]
    for title, text in EXPLANATIONS:
        lines += [f"**{title}.** {text}", ""]
    lines += ["## Reading the figures", "", NOISE, ""]
    return "\n".join(lines)


def write(text: str, page: Path = PAGE) -> Path:
    """Replace the page in one step, so a reader never sees half of it."""
    page.parent.mkdir(parents=True, exist_ok=True)
    tmp = page.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(page)
    return page


def from_json(path: Path) -> str:
    """The page for a run saved by `make bench`."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    rows = [Row(**r) for r in payload["rows"]]
    when = datetime.strptime(payload["when"], STAMP).replace(tzinfo=UTC)
    try:
        source = str(path.resolve().relative_to(ROOT))
    except ValueError:
        source = path.name
    return render(rows, when, payload["machine"], payload.get("peak_rss_mib"), source)


def main(argv: list[str]) -> int:
    if argv:
        path = Path(argv[0])
    else:
        saved = sorted(RESULTS.glob("bench-*.json"))
        if not saved:
            print("no saved run in benchmarks/results/: run `make bench`", file=sys.stderr)
            return 1
        path = saved[-1]
    print(f"written: {write(from_json(path)).relative_to(ROOT)} (from {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
