"""Where a Terminumfrage's summary was posted, for keeping it current by editing it
(handlers/datepoll/live.py): the messages of a poll, when each was last edited, and the
open polls whose summaries are older than their newest answer (after a restart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datepoll.models import DatePoll, DatePollAnswer, DatePollMessage, DatePollStatus


async def of_poll(session: AsyncSession, poll_id: int) -> list[DatePollMessage]:
    return list(
        await session.scalars(
            select(DatePollMessage)
            .where(DatePollMessage.poll_id == poll_id)
            .order_by(DatePollMessage.id)
        )
    )


async def mark_edited(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    if ids:
        await session.execute(
            update(DatePollMessage).where(DatePollMessage.id.in_(ids)).values(edited_at=now)
        )


async def behind(session: AsyncSession) -> list[int]:
    """Open polls with a summary message that shows less than the newest answer (an edit
    was still to come when the bot stopped)."""
    newest = (
        select(DatePollAnswer.poll_id, func.max(DatePollAnswer.answered_at).label("at"))
        .group_by(DatePollAnswer.poll_id)
        .subquery()
    )
    shown = func.coalesce(DatePollMessage.edited_at, DatePollMessage.posted_at)
    rows = await session.scalars(
        select(DatePollMessage.poll_id)
        .join(newest, newest.c.poll_id == DatePollMessage.poll_id)
        .join(DatePoll, DatePoll.id == DatePollMessage.poll_id)
        .where(
            DatePoll.status == DatePollStatus.OPEN.value,
            DatePollMessage.message_id.is_not(None),
            newest.c.at > shown,
        )
        .distinct()
    )
    return sorted(rows)
