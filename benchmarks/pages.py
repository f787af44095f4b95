"""A Terminumfrage's grid page of 15 dates × 500 people over real HTTP: it must be served
in well under 50 ms.

`grid_benchmark(url)` fills a database (AG 2 with a lead and `people` members, each with
an account and an answer to every date, some dates left open), starts the Terminumfrage
with `/terminumfrage`, gives the lead the page with `/seite`, then times full GETs (the
link looked up, the rights checked, the grid rendered) against `GET /healthz` on the same
server (one HTTP round trip and a trivial query). `make bench` prints it; tests call it
with fewer people.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from storage.datepoll.models import DatePoll, DatePollAnswer
from storage.models import Account, Ag, Membership, Person
from tests.support.fake import BotHarness
from tests.support.meetings import Clock
from tests.support.pages import page_token
from tests.support.web import request, serve

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ANSWERS = ("yes", "maybe", "no")


def _dates(count: int) -> str:
    days = [NOW + timedelta(days=3 + i) for i in range(count)]
    return "; ".join(f"{d.day}.{d.month}. {17 + i % 4} Uhr" for i, d in enumerate(days))


async def _fill(bot: BotHarness, people: int, dates: int) -> None:
    async with bot.app.services.db.write() as session:
        ag_id = await session.scalar(select(Ag.id).where(Ag.slug == "ag2"))
        poll_id = await session.scalar(select(DatePoll.id))
        assert ag_id is not None and poll_id is not None
        await session.execute(insert(Person), [{"language": None} for _ in range(people)])
        ids = list(
            await session.scalars(select(Person.id).order_by(Person.id.desc()).limit(people))
        )
        await session.execute(
            insert(Account),
            [
                {
                    "person_id": pid,
                    "platform": "telegram" if pid % 3 else "matrix",
                    "external_id": f"bench-{pid}",
                    "display_name": f"Mitglied {pid} <&>",
                    "created_at": NOW,
                }
                for pid in ids
            ],
        )
        await session.execute(
            insert(Membership),
            [{"person_id": pid, "ag_id": ag_id, "role": "member", "joined_at": NOW} for pid in ids],
        )
        await session.execute(
            insert(DatePollAnswer),
            [
                {
                    "poll_id": poll_id,
                    "position": position,
                    "person_id": pid,
                    "answer": ANSWERS[(pid + position) % 3],
                    "platform": "telegram",
                    "answered_at": NOW,
                }
                for pid in ids
                for position in range(dates)
                if (pid + position) % 7  # some dates left open
            ],
        )


async def _times(n: int, path: str, server: Any) -> list[float]:
    out = []
    for _ in range(n):
        began = time.perf_counter()
        answer = await request(server, path)
        out.append((time.perf_counter() - began) * 1000)
        assert answer.status == 200, answer.status
    return out


async def grid_benchmark(
    url: str, people: int = 500, dates: int = 15, n: int = 50
) -> dict[str, Any]:
    bot = await BotHarness.create(url)
    bot.app.services.clock = Clock(NOW)
    server = await serve(bot)
    try:
        anna = bot.dm("anna")
        await anna.say("anna", "/join ag2")
        await bot.dm("admin").say("admin", "/lead ag2 @anna", mentions=("anna",))
        started = await anna.say("anna", f'/terminumfrage ag2 "Plenum" {_dates(dates)}')
        sid = started[0].split()[2].rstrip(":")
        await _fill(bot, people, dates)
        path = f"/seite/{page_token((await anna.say('anna', f'/seite {sid}'))[0])}"
        first = await request(server, path)
        assert first.status == 200, first.status
        await _times(3, path, server)  # warm up
        grid = await _times(n, path, server)
        floor = []
        for _ in range(n):
            began = time.perf_counter()
            await request(server, "/healthz")
            floor.append((time.perf_counter() - began) * 1000)
    finally:
        await server.stop()
        await bot.close()
    return {
        "people": people + 1,
        "dates": dates,
        "cells": first.body.count(b"<td class="),
        "bytes": len(first.body),
        "n": n,
        "p50_ms": statistics.median(grid),
        "max_ms": max(grid),
        "floor_p50_ms": statistics.median(floor),
    }
