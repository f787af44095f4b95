"""No command of the growth benchmark (benchmarks/growth.py) issues more statements when
the data grows: `/join`, `/members`, `/results`, `/stats`, `/meetings` and `/mydata`, with
one and with five members, polls, votes, meetings and answers, send the same number of
statements to the database (counted with SQLAlchemy's `before_cursor_execute`). A query
per row (N+1) shows as a count that grows with n."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from tests.conftest import fresh_sqlite
from tests.support.fake import BotHarness
from tests.support.meetings import Clock
from tests.support.poll_chat import setup_ag, start_poll

Ask = Callable[[], Awaitable[list[str]]]


async def _world(bot: BotHarness, n: int) -> dict[str, str]:
    """AG 2 with the lead lena and n members (each voting in every poll and answering
    every meeting), n polls, n past and n coming meetings; lena is also in ag1 and ag3
    when n > 1 (memberships for /mydata and /meetings). Returns the first poll's id."""
    clock = Clock()
    bot.app.services.clock = clock
    members = tuple(f"m{i}" for i in range(n))
    group = await setup_ag(bot, lead="lena", members=members)
    for slug in ("ag1", "ag3")[: n - 1]:
        [joined] = await bot.dm("lena").say("lena", f"/join {slug}")
        assert joined.startswith("Willkommen"), joined
    polls = [await start_poll(group, "lena", f'/poll "Frage {i}?" "Ja" "Nein"') for i in range(n)]
    for day in (*range(1, n + 1), *range(11, n + 11)):  # n before "now", n after
        await bot.dm("lena").say("lena", f"/meeting ag2 {day:02}.12.2026 18:00 Treffen {day}")
    for who in ("lena", *members):
        for short_id in polls:
            await bot.dm(who).say(who, f"/vote {short_id} 1")
        for i in range(2 * n):
            await bot.dm(who).say(who, f"/rsvp m{i + 1} ja")
    clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    return {"p": polls[0]}


async def _statements(bot: BotHarness, ask: Ask) -> tuple[int, list[str]]:
    engine = bot.app.services.db.engine.sync_engine
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    await ask()  # warm the caches (the sender, the AG list): the second run is measured
    event.listen(engine, "before_cursor_execute", count)
    try:
        replies = await ask()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert replies or bot.transport.files
    return len(statements), statements


# Asked by lena in her private chat; `/join ag2` by newcomers is counted apart.
COMMANDS = ("/members ag2", "/results {p}", "/stats ag2", "/meetings", "/meetings ag2", "/mydata")


async def _counts(url: str, n: int) -> dict[str, tuple[int, list[str]]]:
    bot = await BotHarness.create(url)
    try:
        ids = await _world(bot, n)
        found = {}
        for text in COMMANDS:
            command = text.format(**ids)
            found[text] = await _statements(
                bot, functools.partial(bot.dm("lena").say, "lena", command)
            )
        newcomers = iter(("neu1", "neu2"))

        async def join() -> list[str]:
            who = next(newcomers)
            return await bot.dm(who).say(who, "/join ag2")

        found["/join ag2"] = await _statements(bot, join)
        return found
    finally:
        await bot.close()


async def test_statements_do_not_grow_with_the_data(tmp_path: Path, migrated_sqlite: Path) -> None:
    (tmp_path / "few").mkdir()
    (tmp_path / "many").mkdir()
    few = await _counts(fresh_sqlite(migrated_sqlite, tmp_path / "few"), 1)
    many = await _counts(fresh_sqlite(migrated_sqlite, tmp_path / "many"), 5)
    grown = {
        text: f"{few[text][0]} -> {many[text][0]}: " + "; ".join(many[text][1])
        for text in few
        if many[text][0] != few[text][0]
    }
    assert grown == {}


async def test_mydata_still_lists_every_answer(bot: BotHarness) -> None:
    """The votes of /mydata, now read in one query: each ballot with its own answers."""
    bot.app.services.clock = Clock()
    group = await setup_ag(bot, lead="lena", members=())
    first = await start_poll(group, "lena", '/poll "Wann?" "Di" "Mi" "Do" --mehrfach')
    second = await start_poll(group, "lena", '/poll "Wo?" "Hier" "Dort"')
    await bot.dm("lena").say("lena", f"/vote {first} 1 3")
    await bot.dm("lena").say("lena", f"/vote {second} 2")
    await bot.dm("lena").say("lena", "/mydata")
    votes = json.loads(bot.transport.files[-1].data)["votes"]
    assert [(v["poll"], v["answers"]) for v in votes] == [
        (first, ["Di", "Do"]),
        (second, ["Dort"]),
    ]


# Tables that grow with the alliance (people, their accounts, votes, meetings, reminders);
# a full SCAN of one of them makes a command cost more the more the alliance has done.
GROWING = frozenset(
    {
        "person",
        "account",
        "membership",
        "poll",
        "poll_ballot",
        "poll_choice",
        "meeting",
        "meeting_occurrence",
        "meeting_rsvp",
        "reminder",
        "reminder_delivery",
        "date_poll",
        "date_poll_answer",
        "notice",
    }
)


async def test_no_command_scans_a_growing_table(bot: BotHarness) -> None:
    """SQLite's plan for every statement of these commands finds rows by an index, never by
    reading a whole table that grows with the alliance (SQLite plans the same without
    statistics however large the tables are, so a small database shows it)."""
    ids = await _world(bot, 2)
    engine = bot.app.services.db.engine.sync_engine
    caught: list[tuple[str, object]] = []

    def catch(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            caught.append((statement, params))

    scans: list[str] = []
    for text in [*COMMANDS, "/join ag2"]:
        caught.clear()
        event.listen(engine, "before_cursor_execute", catch)
        try:
            await bot.dm("lena").say("lena", text.format(**ids))
        finally:
            event.remove(engine, "before_cursor_execute", catch)
        async with bot.app.services.db.engine.connect() as conn:
            for statement, params in caught:
                raw = (await conn.get_raw_connection()).driver_connection
                cursor = await raw.execute(f"EXPLAIN QUERY PLAN {statement}", params)
                for row in await cursor.fetchall():
                    words = str(row[3]).split()
                    if words[0] == "SCAN" and words[1] in GROWING:
                        scans.append(f"{text}: {row[3]} in {' '.join(statement.split())[:160]}")
    assert scans == []
