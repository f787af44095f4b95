"""The transactions of membership that go beyond one row of storage/repo.py: leaving
(and whether that took the last lead), the join policy and the requests waiting for a
lead's answer, creating and editing AGs, naming leads, binding chats to AGs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.db import Database
from storage.models import Account, Ag, JoinPolicy, JoinRequest, Membership, Role

# --- joining and leaving -------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A request as a lead sees it: the AG, the person and their accounts."""

    ag: Ag
    person_id: int
    accounts: list[Account]
    requested_at: datetime


# What people do most, each a transaction of one statement (`Database.statement`: on
# SQLite one trip to the writer's thread, shared with the commands of the same moment).
_MEMBERSHIP: Table = Membership.__table__  # type: ignore[assignment]
_MEMBER_LEAVES = delete(_MEMBERSHIP).where(
    and_(
        _MEMBERSHIP.c.person_id == bindparam("person"),
        _MEMBERSHIP.c.ag_id == bindparam("ag"),
        _MEMBERSHIP.c.role != Role.LEAD.value,
    )
)


async def join_alone(db: Database, person_id: int, ag_id: int, at: datetime) -> bool:
    """`repo.join` as a transaction of its own: False if the person was in the AG."""
    stmt = repo.join_statement(db.engine.dialect.name)
    params = {"person": person_id, "ag": ag_id, "at": at}
    return (await db.statement(stmt, params)).rowcount > 0


async def leave_as_member(db: Database, person_id: int, ag_id: int) -> bool:
    """A member who does not lead the AG leaves, as a transaction of its own; False
    when the person is no such member (not in the AG, or a lead: `leave` then)."""
    return (await db.statement(_MEMBER_LEAVES, {"person": person_id, "ag": ag_id})).rowcount > 0


async def leave(session: AsyncSession, person_id: int, ag_id: int) -> tuple[bool, bool]:
    """Leave the AG: whether the person was in it, and whether that took its last lead."""
    role = await repo.leave(session, person_id, ag_id)
    if role is None:
        return False, False
    return True, role == Role.LEAD.value and await repo.count_leads(session, ag_id) == 0


async def ask_to_join(
    session: AsyncSession, person_id: int, ag_id: int, at: datetime
) -> bool | None:
    """Record a request: None when the person is a member already, False when one waits."""
    if await repo.membership(session, person_id, ag_id) is not None:
        return None
    return await ask(session, person_id, ag_id, at)


async def answer(
    session: AsyncSession, person_id: int, ag_id: int, accept: bool
) -> tuple[bool, list[Account]]:
    """Answer a waiting request (accepted: the person joins): whether one was waiting,
    and the person's accounts."""
    answered = await withdraw(session, person_id, ag_id)
    if answered and accept:
        await repo.join(session, person_id, ag_id)
    return answered, await repo.accounts_of(session, person_id)


# --- the join policy and requests ----------------------------------------------------


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


# --- AGs, leads and chats ------------------------------------------------------------


async def create_ag(session: AsyncSession, slug: str, name: str, description: str) -> Ag | None:
    """A new AG; None when the slug is taken."""
    if await repo.ag_by_slug(session, slug) is not None:
        return None
    ag = Ag(slug=slug, name=name, description=description)
    session.add(ag)
    await session.flush()
    return ag


async def update_ag(session: AsyncSession, ag_id: int, **values: Any) -> Ag:
    """Change the AG's columns (`name=`, `description=`, `archived=`)."""
    row = await session.get(Ag, ag_id)
    if row is None:
        raise LookupError(f"AG {ag_id} vanished")
    for attr, new in values.items():
        setattr(row, attr, new)
    return row


async def change_role(session: AsyncSession, person_id: int, ag_id: int, role: Role) -> bool:
    """Make someone lead (joining them if needed) or a plain member again; demoting
    someone outside the AG does not make them a member. False when nothing changed."""
    if role is Role.MEMBER and await repo.membership(session, person_id, ag_id) is None:
        return False
    return await repo.set_role(session, person_id, ag_id, role)


async def link_chat(
    session: AsyncSession,
    ag_id: int,
    platform: str,
    external_id: str,
    title: str | None,
    is_direct: bool,
) -> bool:
    """Bind the chat to the AG; False when it already was."""
    row = await repo.ensure_chat(session, platform, external_id, title, is_direct)
    return await repo.link(session, ag_id, row.id)


async def unlink_chat(session: AsyncSession, ag_id: int, platform: str, external_id: str) -> bool:
    """Release the chat from the AG; False when it was not bound to it."""
    row = await repo.find_chat(session, platform, external_id)
    return row is not None and await repo.unlink(session, ag_id, row.id)
