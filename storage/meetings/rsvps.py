"""Who comes to an occurrence: yes, no or maybe per person."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.meetings.models import Rsvp
from storage.models import Account, utcnow


async def set_rsvp(session: AsyncSession, occurrence_id: int, person_id: int, answer: str) -> bool:
    """Store the answer; False if it was already that."""
    row = await session.get(Rsvp, (occurrence_id, person_id))
    if row is None:
        session.add(Rsvp(occurrence_id=occurrence_id, person_id=person_id, answer=answer))
        return True
    if row.answer == answer:
        return False
    row.answer, row.answered_at = answer, utcnow()
    return True


async def rsvps(session: AsyncSession, occurrence_id: int) -> dict[str, list[list[Account]]]:
    """{answer: [accounts of each person]} in the order people answered."""
    rows = (
        await session.execute(
            select(Rsvp.person_id, Rsvp.answer, Account)
            .join(Account, Account.person_id == Rsvp.person_id)
            .where(Rsvp.occurrence_id == occurrence_id)
            .order_by(Rsvp.answered_at, Rsvp.person_id, Account.id)
        )
    ).all()
    people: dict[int, tuple[str, list[Account]]] = {}
    for person_id, answer, account in rows:
        people.setdefault(person_id, (answer, []))[1].append(account)
    out: dict[str, list[list[Account]]] = {}
    for answer, accounts in people.values():
        out.setdefault(answer, []).append(accounts)
    return out


async def rsvp_counts(session: AsyncSession, occurrence_ids: Sequence[int]) -> dict[int, int]:
    """Yes-answers per occurrence."""
    if not occurrence_ids:
        return {}
    rows = await session.execute(
        select(Rsvp.occurrence_id, func.count())
        .where(Rsvp.occurrence_id.in_(occurrence_ids), Rsvp.answer == "yes")
        .group_by(Rsvp.occurrence_id)
    )
    return {oid: int(n) for oid, n in rows.all()}


async def answer_counts(
    session: AsyncSession, occurrence_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Per occurrence, how many answered yes, maybe and no (those without an answer are
    not counted)."""
    if not occurrence_ids:
        return {}
    rows = await session.execute(
        select(Rsvp.occurrence_id, Rsvp.answer, func.count())
        .where(Rsvp.occurrence_id.in_(occurrence_ids))
        .group_by(Rsvp.occurrence_id, Rsvp.answer)
    )
    found: dict[int, dict[str, int]] = {}
    for oid, answer, n in rows.all():
        found.setdefault(oid, {})[answer] = int(n)
    return found
