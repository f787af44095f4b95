"""Rows for a Terminumfrage's grid page, read through the Core connection: a grid of
15 dates × 500 people is 7,500 answers and 500 names, plain rows that need no ORM
objects (benchmarks/pages.py holds the page to well under 50 ms)."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datepoll.models import DatePoll, DatePollAnswer, DatePollOption
from storage.datepoll.polls import DatePollView
from storage.models import Account, Membership, Role


async def view(session: AsyncSession, poll: DatePoll) -> DatePollView:
    """As storage/datepoll/polls.py `view`, with the answers as plain rows."""
    options = list(
        await session.scalars(
            select(DatePollOption)
            .where(DatePollOption.poll_id == poll.id)
            .order_by(DatePollOption.position)
        )
    )
    found = DatePollView(poll, options, {o.position: {} for o in options})
    answer = DatePollAnswer.__table__.c
    connection = await session.connection()
    rows = await connection.execute(
        select(answer.position, answer.person_id, answer.answer).where(answer.poll_id == poll.id)
    )
    answers = found.answers
    for position, person_id, given in rows:
        answers.setdefault(position, {})[person_id] = given
    return found


async def member_names(session: AsyncSession, ag_id: int) -> list[tuple[int, str]]:
    """(person, the name of their first account) of the AG's members, in the order of
    storage/repo.py `members_of`: leads first, then by name."""
    member, account = Membership.__table__.c, Account.__table__.c
    leads_first = case((member.role == Role.LEAD.value, 0), else_=1)
    connection = await session.connection()
    rows = await connection.execute(
        select(member.person_id, account.display_name)
        .join_from(Membership.__table__, Account.__table__, account.person_id == member.person_id)
        .where(member.ag_id == ag_id)
        .order_by(leads_first, func.lower(account.display_name), account.id)
    )
    names: dict[int, str] = {}
    for person_id, name in rows:
        names.setdefault(person_id, name)
    return list(names.items())
