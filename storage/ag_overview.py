"""What `/ags` shows beside each AG: its leads, its next meeting and its linked chats,
read for all AGs at once (three queries, however many AGs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from storage.models import Account, AgChat, Chat, Membership, Role


@dataclass
class AgOverview:
    leads: list[Account] = field(default_factory=list)  # each lead's first account
    next_start: datetime | None = None
    next_title: str = ""
    next_id: int | None = None
    chats: list[Chat] = field(default_factory=list)  # by network, then as linked


async def overview(
    session: AsyncSession, ag_ids: Sequence[int], now: datetime
) -> dict[int, AgOverview]:
    found = {ag_id: AgOverview() for ag_id in ag_ids}
    if not ag_ids:
        return found
    first_account = (
        select(Account.person_id, func.min(Account.id).label("account_id"))
        .group_by(Account.person_id)
        .subquery()
    )
    leads = await session.execute(
        select(Membership.ag_id, Account)
        .join(first_account, first_account.c.person_id == Membership.person_id)
        .join(Account, Account.id == first_account.c.account_id)
        .where(Membership.ag_id.in_(ag_ids), Membership.role == Role.LEAD.value)
        .order_by(Membership.ag_id, Membership.joined_at, Membership.person_id)
    )
    for ag_id, account in leads.all():
        found[ag_id].leads.append(account)

    # The soonest scheduled occurrence of an active meeting, per AG.
    soonest = (
        select(Meeting.ag_id, func.min(Occurrence.start_at).label("start_at"))
        .join(Meeting, Meeting.id == Occurrence.meeting_id)
        .where(
            Meeting.ag_id.in_(ag_ids),
            Meeting.status == MeetingStatus.ACTIVE.value,
            Occurrence.status == OccurrenceStatus.SCHEDULED.value,
            Occurrence.start_at > now,
        )
        .group_by(Meeting.ag_id)
        .subquery()
    )
    nexts = await session.execute(
        select(Meeting.ag_id, Occurrence, Meeting.title)
        .join(Meeting, Meeting.id == Occurrence.meeting_id)
        .join(
            soonest,
            (soonest.c.ag_id == Meeting.ag_id) & (soonest.c.start_at == Occurrence.start_at),
        )
        .where(
            Meeting.status == MeetingStatus.ACTIVE.value,
            Occurrence.status == OccurrenceStatus.SCHEDULED.value,
        )
        .order_by(Meeting.ag_id, Occurrence.id)
    )
    for ag_id, occurrence, title in nexts.all():
        entry = found[ag_id]
        if entry.next_id is None:
            entry.next_start = occurrence.start_at
            entry.next_title = occurrence.title if occurrence.title is not None else title
            entry.next_id = occurrence.id

    chats = await session.execute(
        select(AgChat.ag_id, Chat)
        .join(Chat, Chat.id == AgChat.chat_id)
        .where(AgChat.ag_id.in_(ag_ids))
        .order_by(AgChat.ag_id, Chat.platform, AgChat.linked_at, Chat.id)
    )
    for ag_id, chat in chats.all():
        found[ag_id].chats.append(chat)
    return found
