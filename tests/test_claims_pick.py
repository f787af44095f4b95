"""`/festlegen` in one transaction (issue 17): a crash while the meeting is planned (the
process dies: nothing after the failure runs) leaves the Terminumfrage open, not
"being decided" for good; a second `/festlegen` picks the date."""

from __future__ import annotations

from typing import Any

import pytest

from storage.datepoll import polls
from storage.meetings import plans
from tests.support.fake import BotHarness
from tests.support.meetings import ag2_with_lead
from tests.test_datepoll import start

SORRY = "Da ist bei mir etwas schiefgegangen. Bitte versuch es gleich noch einmal."


class Crash(Exception):
    """The process dies here."""


async def test_a_pick_cut_short_leaves_the_poll_open_for_a_second_pick(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await ag2.anna.say("anna", f"/termin {sid} 1 ja")

    async def crash(*_args: Any, **_kwargs: Any) -> Any:
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(plans, "plan_meeting", crash)  # dies while planning the meeting ...
        patched.setattr(polls, "unclaim", crash, raising=False)  # ... so nothing after runs
        assert await ag2.anna.say("anna", f"/festlegen {sid} 1") == [SORRY]
    async with bot.app.services.db.read() as session:
        poll = await polls.by_short_id(session, sid)
    assert poll is not None and (poll.status, poll.meeting_id) == ("open", None)
    [picked, *_] = await ag2.anna.say("anna", f"/festlegen {sid} 1")
    assert picked.startswith(f"Festgelegt: Termin 1 der Terminumfrage {sid}, ")
