"""Queries of the join policy: AGs that take members on request, and the requests
waiting for a lead's answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Account, Ag, JoinPolicy, JoinRequest, Membership, Role


@dataclass(frozen=True)
class Pending:
    """A request as a lead sees it: the AG, the person and their accounts."""

    ag: Ag
    person_id: int
    accounts: list[Account]
    requested_at: datetime


async def set_policy(session: AsyncSession, ag_id: int, policy: JoinPolicy) -> bool:
    """Set the AG's policy; False when it already was that."""
    result = await session.execute(
        update(Ag)
        .where(Ag.id == ag_id, Ag.join_policy != policy.value)
        .values(join_policy=policy.value)
    )
    return bool(getattr(result, "rowcount", 0))


async def ask(session: AsyncSession, person_id: int, ag_id: int, at: datetime) -> bool:
    """Record a request; False when one is already waiting."""
    if await session.get(JoinRequest, (person_id, ag_id)) is not None:
        return False
    session.add(JoinRequest(person_id=person_id, ag_id=ag_id, requested_at=at))
    await session.flush()
    return True


async def withdraw(session: AsyncSession, person_id: int, ag_id: int) -> bool:
    """Drop a waiting request (answered, or taken back); False when there was none."""
    result = await session.execute(
        delete(JoinRequest).where(JoinRequest.person_id == person_id, JoinRequest.ag_id == ag_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def pending(session: AsyncSession, ag_ids: list[int]) -> list[Pending]:
    """The waiting requests of these AGs, oldest first."""
    if not ag_ids:
        return []
    rows = (
        await session.execute(
            select(JoinRequest, Ag)
            .join(Ag, Ag.id == JoinRequest.ag_id)
            .where(JoinRequest.ag_id.in_(ag_ids))
            .order_by(JoinRequest.requested_at, JoinRequest.person_id)
        )
    ).all()
    return [
        Pending(
            ag,
            request.person_id,
            await repo.accounts_of(session, request.person_id),
            request.requested_at,
        )
        for request, ag in rows
    ]


async def led_by(session: AsyncSession, person_id: int) -> list[int]:
    """The AGs the person leads."""
    return list(
        await session.scalars(
            select(Membership.ag_id).where(
                Membership.person_id == person_id, Membership.role == Role.LEAD.value
            )
        )
    )


async def leads_of(session: AsyncSession, ag_id: int) -> list[int]:
    """The people who lead the AG."""
    return list(
        await session.scalars(
            select(Membership.person_id).where(
                Membership.ag_id == ag_id, Membership.role == Role.LEAD.value
            )
        )
    )


async def merge(session: AsyncSession, keep: int, absorb: int) -> None:
    """Two people become one (`/connect`): the absorbed person's requests move over,
    except for AGs the kept person already asked for or belongs to."""
    taken = set(
        await session.scalars(select(JoinRequest.ag_id).where(JoinRequest.person_id == keep))
    ) | set(await session.scalars(select(Membership.ag_id).where(Membership.person_id == keep)))
    if taken:
        await session.execute(
            delete(JoinRequest).where(
                JoinRequest.person_id == absorb, JoinRequest.ag_id.in_(list(taken))
            )
        )
    await session.execute(
        update(JoinRequest).where(JoinRequest.person_id == absorb).values(person_id=keep)
    )
