"""The open Terminumfragen of some AGs, for `/terminumfrage` without arguments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datepoll.models import DatePoll, DatePollAnswer, DatePollStatus


async def open_polls(
    session: AsyncSession, ag_ids: Sequence[int], now: datetime, limit: int
) -> list[DatePoll]:
    """Open and before their deadline, newest first, at most `limit`."""
    if not ag_ids:
        return []
    return list(
        await session.scalars(
            select(DatePoll)
            .where(
                DatePoll.ag_id.in_(ag_ids),
                DatePoll.status == DatePollStatus.OPEN.value,
                or_(DatePoll.closes_at.is_(None), DatePoll.closes_at > now),
            )
            .order_by(DatePoll.created_at.desc(), DatePoll.id.desc())
            .limit(limit)
        )
    )


async def answered_by(session: AsyncSession, person_id: int, poll_ids: Sequence[int]) -> set[int]:
    """Which of the polls the person has answered (any date)."""
    if not poll_ids:
        return set()
    return set(
        await session.scalars(
            select(DatePollAnswer.poll_id)
            .where(DatePollAnswer.person_id == person_id, DatePollAnswer.poll_id.in_(poll_ids))
            .distinct()
        )
    )
