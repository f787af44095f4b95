"""Reminder benchmarks for `make bench`; each function returns a dict of figures.

- `rebuild`: start-up with 100,000 planned reminders: time to rebuild the scheduler from
  the rows and the peak memory (tracemalloc) of doing so; once spread over 60 days (the
  normal case: only the next window becomes jobs) and once all due within the window
  (the worst case: a batch of jobs at once).
- `lag`: 200 reminders falling due over one minute, sent through a fake network that
  notes the time of each send: how late after its due time each went out. Really waits
  about a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bot.core import ChatRef, SentRef
from bot.rich import Rich
from handlers.reminders.engine import WINDOW, engine
from storage import repo
from storage.meetings.models import Meeting, Occurrence, Reminder
from tests.support.fake import BotHarness, FakeTransport


@dataclass
class TimedTransport(FakeTransport):
    """Notes when each reminder was handed to the network (wall clock, seconds)."""

    sent_at: dict[str, float] = field(default_factory=dict)
    expected: int = 0
    all_sent: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        if key is not None:
            self.sent_at.setdefault(key, time.time())
        if len(self.sent_at) >= self.expected:
            self.all_sent.set()
        return SentRef(chat, key)


async def _harness(tmp: str, transport: FakeTransport | None = None) -> BotHarness:
    bot = await BotHarness.create(f"sqlite+aiosqlite:///{tmp}/bench.db")
    if transport is not None:
        bot.app.services.transports[transport.platform] = transport
        bot.transport = transport
    return bot


async def _plant(
    bot: BotHarness, dues: list[datetime], *, chats: int = 1, per_occurrence: int = 2
) -> None:
    """Rows as /meeting would leave them: meetings, occurrences and pending reminders with
    the given due times, in AG 2 with `chats` linked chats. Bulk inserts, not the ORM."""
    now = datetime.now(UTC)
    async with bot.app.services.db.write() as session:
        ag = await repo.ag_by_slug(session, "ag2")
        assert ag is not None
        for i in range(chats):
            chat = await repo.ensure_chat(session, "fake", f"bench-{i}", f"Bench {i}", False)
            await repo.link(session, ag.id, chat.id)
        meeting = Meeting(
            ag_id=ag.id, title="Bench", timezone="Europe/Berlin", start_at=now, rrule=None
        )
        session.add(meeting)
        await session.flush()
        occurrences = []
        for index in range(0, len(dues), per_occurrence):
            start = max(dues[index : index + per_occurrence]) + timedelta(hours=1)
            occurrences.append(
                {
                    "meeting_id": meeting.id,
                    "original_start": start + timedelta(microseconds=index),
                    "start_at": start,
                    "status": "scheduled",
                    "revision": 0,
                    "created_at": now,
                }
            )
        await session.execute(insert(Occurrence), occurrences)
        ids = list(await session.scalars(select(Occurrence.id).order_by(Occurrence.id)))
        rows = [
            {
                "occurrence_id": ids[i // per_occurrence],
                "revision": 0,
                "offset_seconds": 3600 + i % per_occurrence,
                "due_at": due,
                "status": "pending",
                "late": False,
            }
            for i, due in enumerate(dues)
        ]
        for chunk in range(0, len(rows), 10_000):
            await session.execute(insert(Reminder), rows[chunk : chunk + 10_000])


async def _rebuild_once(dues_from_now: list[timedelta]) -> dict[str, Any]:
    """Plant the rows once, then start twice on them: timed, and under tracemalloc
    (which slows Python down several times, so it does not share the timed run)."""
    with tempfile.TemporaryDirectory() as tmp:
        planter = await _harness(tmp)
        now = datetime.now(UTC)
        await _plant(planter, [now + d for d in dues_from_now])
        await planter.close()
        figures: dict[str, Any] = {}
        for traced in (False, True):
            bot = await _harness(tmp)
            services = bot.app.services
            services.timers.start()
            if traced:
                tracemalloc.start()
            started = time.perf_counter()
            await engine(services).start()
            seconds = time.perf_counter() - started
            if traced:
                _current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                figures["peak_mib"] = round(peak / 2**20, 1)
            else:
                figures["seconds"] = round(seconds, 3)
                figures["jobs"] = len(services.timers.ids())
            await services.timers.stop()
            await bot.close()
    return figures


async def rebuild(n: int = 100_000) -> dict[str, Any]:
    """Start-up with `n` pending reminders in the database."""
    spread = [timedelta(minutes=10) + timedelta(days=60) * i / n for i in range(n)]
    crowded = [timedelta(minutes=10) + (WINDOW - timedelta(minutes=20)) * i / n for i in range(n)]
    return {
        "reminders": n,
        "spread_over_60_days": await _rebuild_once(spread),
        "all_within_the_window": await _rebuild_once(crowded),
    }


async def lag(n: int = 200, over: float = 60.0, lead_in: float = 3.0) -> dict[str, Any]:
    """`n` reminders due evenly over `over` seconds: seconds from due time to send."""
    with tempfile.TemporaryDirectory() as tmp:
        transport = TimedTransport(expected=n)
        bot = await _harness(tmp, transport)
        services = bot.app.services
        first = datetime.now(UTC) + timedelta(seconds=lead_in)
        dues = [first + timedelta(seconds=over * i / n) for i in range(n)]
        await _plant(bot, dues, per_occurrence=1)
        services.timers.start()
        await engine(services).start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(transport.all_sent.wait(), lead_in + over + 10)
        await engine(services).wait_idle()
        await services.timers.stop()
        async with services.db.read() as session:
            ids = list(await session.scalars(select(Reminder.id).order_by(Reminder.id)))
        await bot.close()
    by_id = dict(zip(ids, dues, strict=True))
    lags = sorted(
        sent - by_id[int(key.split(":")[1])].timestamp() for key, sent in transport.sent_at.items()
    )
    return {
        "reminders": n,
        "sent": len(lags),
        "p50_ms": round(statistics.median(lags) * 1000, 1),
        "p95_ms": round(lags[int(0.95 * (len(lags) - 1))] * 1000, 1),
        "p99_ms": round(lags[int(0.99 * (len(lags) - 1))] * 1000, 1),
        "max_ms": round(lags[-1] * 1000, 1),
        "within_1s": sum(1 for x in lags if x < 1.0),
    }


if __name__ == "__main__":
    print(asyncio.run(rebuild()))
    print(asyncio.run(lag()))
