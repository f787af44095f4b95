"""tests/support/cells.py: every case a fresh bot on a fresh copy of the prepared database,
sharing only the engine; so no case sees another's writes, and within a case the caches
still see every write (their listeners are on the shared engine's twin of this bot)."""

from __future__ import annotations

from pathlib import Path

from tests.support.cells import Cells
from tests.support.fake import BotHarness


async def test_each_case_starts_from_the_template_and_sees_its_own_writes(
    tmp_path: Path, sqlite_url: str
) -> None:
    template = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    prepared = await BotHarness.create(sqlite_url)
    await prepared.dm("anna").say("anna", "/join ag2")
    await prepared.close()
    cells = Cells(template, tmp_path / "case.db")
    try:
        for _case in range(3):
            bot = await cells.bot()
            try:
                ben = bot.dm("ben")
                [joined] = await ben.say("ben", "/join ag2")
                assert joined.startswith("Willkommen in der AG"), joined
                [members] = await ben.say("ben", "/members ag2")
                assert members.splitlines()[0].startswith("2 Mitglieder"), members
                [again] = await ben.say("ben", "/join ag2")
                assert "schon" in again, again
            finally:
                await bot.close()
    finally:
        await cells.close()
