"""A calendar feed of an AG with 500 meetings over real HTTP: it must be served in well
under 50 ms.

`feed_benchmark(url)` fills a database (AG 2 with a lead; 450 single meetings, a tenth
of them cancelled, and 50 weekly series, each with a moved and a cancelled date), gives
the lead the AG's feed with `/kalender ag2`, then times full GETs (200, the whole feed
rendered), repeats with `If-None-Match` (304) and, as the floor in the same run on the
same server, `GET /healthz` (one HTTP round trip and a trivial query).
`make bench` prints it; tests call it with fewer meetings.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from storage.meetings.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from storage.models import Ag
from tests.support.fake import BotHarness
from tests.support.meetings import Clock
from tests.support.web import feed_token, request, serve

START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


async def _fill(bot: BotHarness, meetings: int) -> None:
    series = meetings // 10
    async with bot.app.services.db.write() as session:
        ag_id = await session.scalar(select(Ag.id).where(Ag.slug == "ag2"))
        assert ag_id is not None
        rows = [
            {
                "ag_id": ag_id,
                "title": f"Treffen {i}",
                "place": "Haus der Vereine, Saal 2",
                "url": "https://meet.example/ag2",
                "timezone": "Europe/Berlin",
                "start_at": START + timedelta(days=i % 120, hours=i % 5),
                "duration_minutes": 90,
                "rrule": "FREQ=WEEKLY" if i < series else None,
                "status": MeetingStatus.ACTIVE.value,
                "created_at": START,
                "changed_at": START,
                "sequence": i % 3,
            }
            for i in range(meetings)
        ]
        await session.execute(insert(Meeting), rows)
        found = list(await session.execute(select(Meeting.id, Meeting.start_at, Meeting.rrule)))
        dates = []
        for meeting_id, start, rule in found:
            weeks = 8 if rule else 1
            for week in range(weeks):
                slot = start + timedelta(weeks=week)
                moved = rule is not None and week == 2
                dates.append(
                    {
                        "meeting_id": meeting_id,
                        "original_start": slot,
                        "start_at": slot + timedelta(hours=1) if moved else slot,
                        "status": OccurrenceStatus.CANCELLED.value
                        if (rule and week == 3) or (not rule and meeting_id % 10 == 0)
                        else OccurrenceStatus.SCHEDULED.value,
                        "revision": 0,
                        "created_at": START,
                    }
                )
        await session.execute(insert(Occurrence), dates)
        await session.execute(
            update(Meeting).where(Meeting.rrule.is_(None), Meeting.id % 10 == 0)
            .values(status=MeetingStatus.CANCELLED.value)
        )  # fmt: skip


async def _times(n: int, one: Any) -> list[float]:
    out = []
    for _ in range(n):
        began = time.perf_counter()
        await one()
        out.append((time.perf_counter() - began) * 1000)
    return out


async def feed_benchmark(url: str, meetings: int = 500, n: int = 50) -> dict[str, Any]:
    bot = await BotHarness.create(url)
    bot.app.services.clock = Clock(START - timedelta(days=3))
    server = await serve(bot)
    try:
        await bot.dm("admin").say("admin", "/lead ag2 @anna", mentions=("anna",))
        await bot.dm("anna").say("anna", "/join ag2")
        await bot.dm("admin").say("admin", "/lead ag2 @anna", mentions=("anna",))
        await _fill(bot, meetings)
        token = feed_token((await bot.dm("anna").say("anna", "/kalender ag2"))[0])
        path = f"/kalender/{token}.ics"
        first = await request(server, path)
        assert first.status == 200, first.status
        etag = first.headers["ETag"]

        async def full() -> None:
            assert (await request(server, path)).status == 200

        async def repeat() -> None:
            assert (await request(server, path, headers={"If-None-Match": etag})).status == 304

        async def health() -> None:
            assert (await request(server, "/healthz")).status in (200, 503)

        await full()
        feed, not_modified, floor = await _times(n, full), await _times(n, repeat), []
        floor = await _times(n, health)
    finally:
        await server.stop()
        await bot.close()
    return {
        "meetings": meetings,
        "events": first.body.count(b"BEGIN:VEVENT"),
        "bytes": len(first.body),
        "n": n,
        "p50_ms": statistics.median(feed),
        "max_ms": max(feed),
        "p50_304_ms": statistics.median(not_modified),
        "floor_p50_ms": statistics.median(floor),
    }
