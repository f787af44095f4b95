"""The pick of a Terminumfrage in one transaction: the poll remembers the meeting it
became, and its ja / wenn nötig answers become RSVPs "Dabei" / "Vielleicht"."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datepoll.models import Answer
from storage.datepoll.polls import mark_picked
from storage.meetings.models import Occurrence
from storage.meetings.rsvps import set_rsvp

# A Terminumfrage answer -> the RSVP it becomes ("nein" is no RSVP: they were not asked
# about this meeting, only about a date).
_RSVP = {Answer.YES.value: "yes", Answer.MAYBE.value: "maybe"}


async def picked(
    session: AsyncSession,
    poll_id: int,
    occurrence_id: int,
    answers: Mapping[int, str],
) -> None:
    meeting_id = await session.scalar(
        select(Occurrence.meeting_id).where(Occurrence.id == occurrence_id)
    )
    assert meeting_id is not None
    await mark_picked(session, poll_id, meeting_id, occurrence_id)
    for person_id, answer in answers.items():
        if answer in _RSVP:
            await set_rsvp(session, occurrence_id, person_id, _RSVP[answer])
    await session.flush()
