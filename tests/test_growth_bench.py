"""The growth benchmark (benchmarks/growth.py) at small scales: the seed writes an alliance
whose measured AG is the same at every scale, every command answers as expected (each
round checks its reply), and the table gets one row per command."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from benchmarks.growth import COMMANDS, growth, rows
from benchmarks.growth_rows import Scale
from benchmarks.growth_seed import JOINERS, seed
from storage.db import Database
from storage.meetings.models import Meeting, ReminderDelivery
from storage.models import Ag, Membership, Person


async def test_the_seed_grows_the_alliance_but_not_the_measured_ag(tmp_path: Path) -> None:
    sizes = {}
    for factor in (1, 3):
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/seed{factor}.db")
        try:
            await db.upgrade()
            seeded = await seed(db, Scale(factor))
            async with db.read() as session:
                g0 = await session.scalar(select(Ag.id).where(Ag.slug == "g0"))
                sizes[factor] = (
                    await session.scalar(select(func.count()).select_from(Person)),
                    await session.scalar(select(func.count()).where(Membership.ag_id == g0)),
                    await session.scalar(select(func.count()).where(Meeting.ag_id == g0)),
                    await session.scalar(select(func.count()).select_from(ReminderDelivery)),
                    len(seeded.reminders),
                )
        finally:
            await db.dispose()
    # people, members of g0, meetings of g0, deliveries (100 past meetings x 21), g0's reminders
    assert sizes[1] == (200 + JOINERS, 100, 100, 2_100, 50)
    assert sizes[3] == (600 + JOINERS, 100, 100, 6_300, 50)


async def test_every_command_is_timed_at_every_scale(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/g{{}}.db"
    result = await growth("SQLite", url.format, (1, 2), rounds=3)
    assert [run["factor"] for run in result["runs"]] == [1, 2]
    assert sorted(result["ratio"]) == sorted(COMMANDS)
    table = rows(result)
    assert [r.benchmark for r in table][:2] == [
        "10. growth: `/join`, SQLite",
        "10. growth: `/members`, SQLite",
    ]
    assert table[-1].benchmark == "10. growth: reminder fan-out claim, SQLite"
    assert table[0].figure.endswith("ms at 1x / 2x")
