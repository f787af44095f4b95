"""docs/benchmarks.md, written by `make bench` after every run, so the published figures are
always those of a real run and nobody copies them by hand.

`render` is a pure function of the rows and the run's facts (tested without a run);
`python -m benchmarks.report [results.json]` writes the page again from a saved run (by
default the newest in benchmarks/results/).
"""

from __future__ import annotations

import json
import re
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
        "`Application` and the whole bot, on a fake Bot API that answers from memory, in one "
        "process beside three floors: a bare python-telegram-bot handler that only echoes; "
        "one write through aiosqlite alone (WAL, `synchronous=NORMAL`, as the bot); and the "
        "echo handler writing first (the sender's row inserted or deleted and committed "
        "through aiosqlite, then the echo), the least any bot that stores its commands "
        "pays. The four sides take turns, 200 commands each, in an order that rotates, so a "
        "busy moment of the machine falls on all alike. Goal (issue 18): a p50 within 2x of "
        "echo + one write, and 1,500 commands a second. The ratio is given both to the sum "
        "of the first two floors' p50s and to the writing echo: the write alone runs in a "
        "tight loop, where aiosqlite's thread never falls asleep, so the sum leaves out the "
        "wake-up of a sleeping thread that every bot with a write pays once per command "
        "(on a busy two-core VM the write alone takes 0.07 ms, the writing echo 0.2 ms more "
        "than the echo). Commands a second: in bursts of 100 updates as long polling hands "
        "them over (each given to PTB without waiting for the one before to be answered; "
        "the dispatcher runs them as tasks, one person's in order), and one at a time. "
        "Cuts on this path: the AG list and the sender are cached (`storage/cache.py`), "
        "join and leave are one prebuilt statement each, a statement is one trip to "
        "aiosqlite's thread (tests/test_sqlite_handoffs.py counts them), and, issue 18, a "
        "known member's `/join` and a member's `/leave` are transactions of one statement "
        "that go to SQLite's one writer (storage/sqlite_writer.py): its own thread and "
        "connection, the statement compiled once so that the thread runs sqlite3 alone, "
        "the statements of one moment committed together (group commit), each caller "
        "answered only after the COMMIT, in the same turn of the loop as the thread's "
        "answer. That took `/join` from 1.9 ms to about 0.65 ms at p50 and the burst from "
        "about 800 to about 2,000 commands a second. The row's stages come from a second "
        "pass of 2,000 commands with the stage log on: the update before "
        "python-telegram-bot parses it, the transport's conversion, the dispatcher, the "
        "handler (for `/join` handler->reply is its transaction), the send through the "
        "fake Bot API, and the handler's end.",
    ),
    (
        "2. Commands through a real Synapse, each bot its own process",
        "`!my` round trips as a person feels them: a human's matrix-nio client in the "
        "benchmark's process sends `!my`, and the round trip ends when its own sync has the "
        "answer. Three bots on one local Synapse, each in its own process started with the "
        "venv's python: the whole bot (`python -m bot run`, a config on SQLite, the rate "
        "limit off), a bare nio echo bot (no store, no encryption) and the same echo bot "
        "with nio's encryption on (store, keys uploaded; `benchmarks/echo_bot.py`). Each "
        "has its own two-member unencrypted room; the turns go bot, bare, E2E, the order "
        "rotating every round, 500 per side after 20 of warm-up (`.venv/bin/python -m "
        "benchmarks matrix_path` runs this row alone, two to four minutes; with 200 a side "
        "the p95, the tenth-slowest, moved by 5 % from run to run, as much as the goal "
        "allows). Goal: the bot's median and p95 within 1.05x of both echoes'. Every process logs monotonic stage "
        "times (`BUENDNISBOT_STAGE_LOG`, bot/stages.py; one clock for all processes of the "
        "machine), listed under \"Where the time goes\": the human's send until the bot's "
        "sync response arrives (the homeserver), nio's handling up to the callback, the "
        "dispatcher and its task, the sender's context, the handler until its reply, the "
        "send, and the homeserver until the human's sync sees the answer (callback->nio_done "
        "and callback->after_sync_done: the rest of the sync's handling). Issue 18 cut the "
        "bot's own part, from the sync's arrival to the send, from about 9 ms to about 1 ms "
        "(medians of one run with the old bot as a fourth side): nio saved the set of newly "
        "encrypted rooms after every sync even when empty, a blocking SQLite query on the "
        "event loop of about 1 ms, twice per command (the command's sync and the one with "
        "the bot's own answer; `QuietStore` skips an empty set), and `!my` read the "
        "person's AGs in a trip to SQLite's thread, which on a busy two-core machine waits "
        "for the scheduler twice (about 6 ms; now cached between writes of memberships and "
        "AGs, `storage/membership_cache.py`). Where the remaining ~10 ms (1.13x) went was "
        "then found with experiments that change one thing, every side in the same run "
        "(medians over 3-10 runs of 80-100 round trips a side, as the difference to the bare "
        "echo): all processes make the same requests per command (one send, two syncs, "
        "with the same parameters and sizes; Synapse's access log), and the set-up is alike "
        "(one room and one device each, the same rate limits, all joined on invite); saving "
        "the sync position to the database made no difference. Two things did. The bot's "
        "next sync went out while its reply was being sent (the handler runs as a task): "
        "an echo sending from a task took +3.3 ms send->sent (4 runs). Now the next sync "
        "waits for the commands of the last one, at most 0.25 s and not for a command that "
        "waits for a sync itself, as a bare nio bot awaiting its callback does "
        "(bot/transports/matrix/sync.py; tests/test_matrix_sync_hold.py counts the requests "
        "of a command and checks that no sync runs beside its reply). And the content: an "
        "echo sending the bot's exact notice took +3.0 ms send->seen (10 runs); of its "
        "parts `m.mentions` alone +4.2 ms send->sent, the HTML +0.3 and the longer body "
        "+0.5 (3 runs each): Synapse validates `m.mentions` with `jsonschema.validate`, "
        "which checks the schema itself at every event (0.8-1.3 ms of its CPU, measured "
        "alone). In a room of three or more the bot keeps `m.mentions`, also when empty: "
        "without it clients fall back to matching names in the text, so a `!members` list "
        "would ping everyone in it. In a private room (the bot and one person, checked "
        "before every send) a notice that mentions nobody now goes without it: the one "
        "reader is whom every message there is for (`notice_content`). Three runs after "
        "the sync hold and the frozen heap, before this: 1.05-1.09x of the bare echo at "
        "p50; two runs after: 1.01x and 1.03x (p95 1.00x and 1.05x), the E2E echo "
        "1.01-1.02x (p95 0.99-1.03x); a third, 0.99x at p50 and 1.07x at p95; with 500 a "
        "side 1.02x and 1.02x (the E2E echo 1.01x and 1.01x). "
        "Send->seen, difference to the bare echo: the old bot +5.7 ms (7 runs), the bot "
        "now +3.7 (6 runs), about the content's share. And the bot's process is twice an "
        "echo's size (about 110 against 52 MB), all of which Python's full garbage "
        "collections walk: `bot run` now freezes what start-up built out of the collector "
        "(bot/app.py `settle_heap`); against the same bot without it, p95 -12 ms and p50 "
        "-2 ms (medians of 4 runs; the p95 lower in all four). Six runs of this row (200 a "
        "side) with the old bot as a fourth side, the last three with the frozen heap too: "
        "the bot's p50 1.00-1.11x of the bare echo's (median 1.04) and 0.96-1.05x of the "
        "E2E echo's (0.99), p95 0.90-1.10x (0.99) and 0.96-1.04x (0.99); the goal was missed "
        "in one run (1.11x/1.10x of the bare echo, on a machine so busy that the two echoes "
        "differed by 15 %); the old bot 1.07-1.17x of the bare echo at p50 and 1.03-1.09x "
        "of the new bot in the same runs. Stage medians (ms, median of the six runs), old "
        "bot -> bot (bare echo): human_send->sync 43.4 -> 41.0 (41.7), sync arrival to send "
        "0.9 -> 0.6 (0.05), send->sent 30.8 -> 29.3 (26.5), sent->seen 6.4 -> 8.3 (8.0; a "
        "sync beside the send had delayed the bot's `sent`, not the person's view). The "
        "noise of a shared machine stays: medians move by 10-40 % between runs, p95s more.",
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
        "10. Growth: the same commands with 1x, 10x and 100x the data",
        "The alliance's data written straight into the tables (benchmarks/growth_seed.py): "
        "1x is 200 people in 2 AGs with 50 polls (20 named votes each) and 200 meetings (10 "
        "answers each; the past ones' reminders sent to the AG's chat and 20 people "
        "privately, the future ones' pending); 100x is 20,000 people, 200 AGs, 5,000 polls "
        "and 20,000 meetings. Every AG looks alike at every scale (100-150 members), so "
        "only the rest of the alliance grows. The lead of one AG (100 members, in two AGs) "
        "runs `/join` (each round a new person), `/members`, `/results`, `/stats`, "
        "`/meetings` and `/mydata` through the dispatcher and the recording fake network, "
        "and one reminder of that AG is claimed as the sender claims it (one delivery row "
        "for its chat and each of its 100 members who want reminders privately). p50 of 25 "
        "rounds after 3 warm-up rounds, on SQLite and on PostgreSQL (after `ANALYZE`, as "
        "autovacuum would run it). Goal: p50 at 100x within 2x of p50 at 1x. A query per "
        "row, or a statement that reads a whole table (tests/test_growth_queries.py), "
        "shows here as a ratio that grows with the data; migration 0015 added the indexes "
        "`/mydata` lacked (on PostgreSQL it took 1.85x-2.1x before). Growth left below the "
        "goal: on PostgreSQL, `/meetings` and `/stats` walk the index of occurrence start "
        "times across all AGs (the planner's choice, also with an index on meeting and "
        "start; ~2 ms for 10,000 coming dates), and `/members`, `/stats` and `/results` "
        "hash-join the whole account table (~1 ms per 10,000 accounts).",
    ),
    (
        "11. Failover",
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
    note: str | None = None,
) -> str:
    """The whole page as Markdown; depends on nothing but its arguments."""
    facts = [f"Run: {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC", f"machine: {machine}"]
    if peak_rss_mib is not None:
        facts.append(f"peak RSS of the whole run {peak_rss_mib:.0f} MiB")
    if source:
        facts.append(f"raw figures: `{source}`")
    if note:
        facts.append(note)
    lines = [
        "<!-- Written by `make bench` (benchmarks/report.py). Do not edit: the next run "
        "overwrites it. -->",
        "# Benchmarks",
        "",
        "This page is written by `make bench` at the end of every run (about 6 minutes); "
        "change its text in `benchmarks/report.py`. The run also prints the table and saves "
        "it as JSON in `benchmarks/results/`; `python -m benchmarks.report` writes this page "
        "again from the newest saved run; `python -m benchmarks growth` runs one benchmark "
        "and replaces only its rows here. Each figure stands beside a floor measured in the "
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
    lines += _stage_lines(rows)
    lines += ["", "## What each benchmark measures", ""]
    for title, text in EXPLANATIONS:
        lines += [f"**{title}.** {text}", ""]
    lines += ["## Reading the figures", "", NOISE, ""]
    return "\n".join(lines)


def _stage_lines(rows: list[Row]) -> list[str]:
    """Where a command's time goes, for rows that logged their stages (bot/stages.py):
    a side's `stages_p50_ms` in the row's details."""
    found = [
        f"- {r.benchmark}, {side}: "
        + ", ".join(f"{step} {ms:.2f}" for step, ms in value["stages_p50_ms"].items())
        for r in rows
        for side, value in r.details.items()
        if isinstance(value, dict) and isinstance(value.get("stages_p50_ms"), dict)
    ]
    if not found:
        return []
    intro = (
        "Median milliseconds from each stage of a command to the next, as the processes "
        "logged them (`BUENDNISBOT_STAGE_LOG`, bot/stages.py):"
    )
    return ["", "## Where the time goes", "", intro, "", *found]


def write(text: str, page: Path = PAGE) -> Path:
    """Replace the page in one step, so a reader never sees half of it."""
    page.parent.mkdir(parents=True, exist_ok=True)
    tmp = page.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(page)
    return page


def order(row: Row) -> tuple[int, str]:
    """Rows by their number (`9.` before `10.`), then by name."""
    number = re.match(r"\d+", row.benchmark)
    return (int(number.group()) if number else 10**6, row.benchmark)


def _number(row: Row) -> str:
    return row.benchmark.split(".", 1)[0]


def merge(published: list[Row], fresh: list[Row]) -> list[Row]:
    """The published rows with those of the benchmarks run again replaced (by number)."""
    again = {_number(r) for r in fresh}
    return sorted([r for r in published if _number(r) not in again] + fresh, key=order)


def rows_of_page(page: str) -> list[Row]:
    """The table rows of a page written by `render` (their figures, not their details)."""
    out = []
    for line in page.splitlines():
        if not line.startswith("| ") or line.startswith(("| benchmark |", "|---")):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4:
            out.append(Row(*cells, details={}))
    return out


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
