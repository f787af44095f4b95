"""A poll as the features read it: the row, its option texts and its AG, loaded in one
place so that commands, votes and the lifecycle see the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ag
from storage.polls.models import Poll, PollKind
from storage.polls.polls import options_of, poll_by_short_id, polls_of_ags, utc


@dataclass(frozen=True)
class PollView:
    """A poll with its option texts and its AG (None for the standing survey polls)."""

    poll: Poll
    options: list[str]
    ag: Ag | None

    @property
    def short_id(self) -> str:
        return self.poll.short_id

    @property
    def is_open(self) -> bool:
        return self.poll.closed_at is None

    @property
    def is_survey(self) -> bool:
        return self.poll.kind == PollKind.SURVEY.value

    @property
    def closes_at(self) -> datetime | None:
        return utc(self.poll.closes_at)

    def accepts_at(self, at: datetime) -> bool:
        """Whether an answer given at `at` still counts: open, and before the deadline."""
        closes_at = self.closes_at
        return self.is_open and (closes_at is None or at < closes_at)


async def read_view(session: AsyncSession, poll: Poll) -> PollView:
    options = await options_of(session, poll.id)
    ag = await session.get(Ag, poll.ag_id) if poll.ag_id is not None else None
    return PollView(poll, options, ag)


async def view_by_short_id(session: AsyncSession, short_id: str) -> PollView | None:
    poll = await poll_by_short_id(session, short_id)
    return await read_view(session, poll) if poll is not None else None


async def view_by_id(session: AsyncSession, poll_id: int) -> PollView | None:
    poll = await session.get(Poll, poll_id)
    return await read_view(session, poll) if poll is not None else None


async def newest_view(session: AsyncSession, ag_ids: list[int]) -> PollView | None:
    """The newest poll of these AGs (open ones first)."""
    polls = await polls_of_ags(session, ag_ids, limit=1)
    return await read_view(session, polls[0]) if polls else None


async def the_open_view(
    session: AsyncSession, ag_ids: list[int]
) -> tuple[PollView | None, list[Poll]]:
    """The one open poll of these AGs, if there is exactly one; and all their open polls."""
    polls = await polls_of_ags(session, ag_ids, open_only=True)
    if len(polls) == 1:
        return await read_view(session, polls[0]), polls
    return None, polls
