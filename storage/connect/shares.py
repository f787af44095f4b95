"""What each side brought into a link of two people, and giving it back on `/disconnect`.

`record` runs in `storage.connect.merge.merge` before anything moves: for every account of each
side it writes that side's AG memberships (with the role they had then) and, if the
linked person keeps that side's card, a card row. `give_back` runs when an account is
split off: the new person of that account gets back the memberships its side brought
(never a stronger role than the linked person holds now), and the linked person keeps
only what the remaining side brought or gained after the link. Votes, RSVPs, reminder
settings and what was created stay with the linked person.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.connect.models import ConnectShare, ShareKind
from storage.models import Account, Base, Membership, Role


def _weaker(a: str, b: str) -> str:
    return Role.LEAD.value if a == b == Role.LEAD.value else Role.MEMBER.value


async def _accounts(session: AsyncSession, person_id: int) -> list[int]:
    return list(await session.scalars(select(Account.id).where(Account.person_id == person_id)))


async def record(session: AsyncSession, keep: int, absorb: int, card_from: int | None) -> None:
    """Write what `keep` and `absorb` each bring; `card_from` is the person whose card the
    linked person keeps (None: no card)."""
    for person_id in (keep, absorb):
        accounts = await _accounts(session, person_id)
        await session.execute(delete(ConnectShare).where(ConnectShare.account_id.in_(accounts)))
        memberships = list(
            await session.scalars(select(Membership).where(Membership.person_id == person_id))
        )
        for account_id in accounts:
            session.add_all(
                ConnectShare(
                    account_id=account_id,
                    kind=ShareKind.MEMBERSHIP.value,
                    ag_id=m.ag_id,
                    role=m.role,
                    joined_at=m.joined_at,
                )
                for m in memberships
            )
            if card_from == person_id:
                session.add(ConnectShare(account_id=account_id, kind=ShareKind.CARD.value))
    await session.flush()


async def give_back(session: AsyncSession, account_id: int, old: int, new: int) -> None:
    """The account moves from person `old` to the fresh person `new`: hand over what its
    side brought into the link, and take it from `old` unless the other side brought it
    too. Call before the account's `person_id` changes."""
    others = [a for a in await _accounts(session, old) if a != account_id]
    shares = list(
        await session.scalars(select(ConnectShare).where(ConnectShare.account_id == account_id))
    )
    kept_roles: dict[int, str] = {}
    for share in await session.scalars(
        select(ConnectShare).where(
            ConnectShare.account_id.in_(others),
            ConnectShare.kind == ShareKind.MEMBERSHIP.value,
        )
    ):
        if share.ag_id is not None and share.role is not None:
            kept_roles[share.ag_id] = share.role
    current = {
        m.ag_id: m
        for m in await session.scalars(select(Membership).where(Membership.person_id == old))
    }
    for share in shares:
        if share.kind == ShareKind.CARD.value:
            await _move_card(session, old, new)
            continue
        mine = current.get(share.ag_id) if share.ag_id is not None else None
        if mine is None or share.ag_id is None or share.role is None:
            continue  # left the AG since the link
        session.add(
            Membership(
                person_id=new,
                ag_id=share.ag_id,
                role=_weaker(mine.role, share.role),
                joined_at=share.joined_at,
            )
        )
        theirs = kept_roles.get(share.ag_id)
        if theirs is None:
            await session.delete(mine)
        elif share.role == Role.LEAD.value and theirs != Role.LEAD.value:
            mine.role = theirs  # the lead role came with the account that leaves
    await session.execute(delete(ConnectShare).where(ConnectShare.account_id == account_id))
    if len(others) < 2:
        await session.execute(delete(ConnectShare).where(ConnectShare.account_id.in_(others)))
    await session.flush()


async def _move_card(session: AsyncSession, old: int, new: int) -> None:
    card = Base.metadata.tables.get("card")
    if card is not None:
        await session.execute(card.update().where(card.c.person_id == old).values(person_id=new))
