"""Digital business cards: the table and its queries. Each function takes the caller's
session.

A card hangs off the person with ON DELETE CASCADE, so deleting a person removes it.
Visibility: the owner always sees their card. `ag`: people who share an AG with the
owner. `alliance`: every member of any AG. Admins count as alliance members
(bot/commands/rights.py `may_see_card` decides with `may_see`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, String, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from storage.models import Account, Base, Membership, utcnow
from storage.types import UtcDateTime

CARD_NAME_MAX = 80
CARD_ORG_MAX = 120
CARD_ABOUT_MAX = 500
CARD_CONTACT_MAX = 200
# Regions and topics are chosen from the survey's lists and stored joined by LIST_SEP.
CARD_LIST_MAX = 600
LIST_SEP = "\n"


class Visibility(enum.StrEnum):
    AG = "ag"  # people who share an AG with the owner
    ALLIANCE = "alliance"  # every member of any AG


class Card(Base):
    __tablename__ = "card"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(CARD_NAME_MAX), default="")
    org: Mapped[str] = mapped_column(String(CARD_ORG_MAX), default="")
    regions: Mapped[str] = mapped_column(String(CARD_LIST_MAX), default="")
    topics: Mapped[str] = mapped_column(String(CARD_LIST_MAX), default="")
    about: Mapped[str] = mapped_column(String(CARD_ABOUT_MAX), default="")
    contact: Mapped[str] = mapped_column(String(CARD_CONTACT_MAX), default="")
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.AG.value)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


async def card_of(session: AsyncSession, person_id: int) -> Card | None:
    return await session.get(Card, person_id)


async def update_card(session: AsyncSession, person_id: int, **fields: str) -> Card:
    """Set some fields of the person's card, creating it on first use."""
    card = await session.get(Card, person_id, with_for_update=True)
    if card is None:
        card = Card(
            person_id=person_id,
            name="",
            org="",
            regions="",
            topics="",
            about="",
            contact="",
            visibility=Visibility.AG.value,
        )
        session.add(card)
    for name, value in fields.items():
        setattr(card, name, value)
    card.updated_at = utcnow()
    await session.flush()
    return card


async def delete_card(session: AsyncSession, person_id: int) -> bool:
    result = await session.execute(delete(Card).where(Card.person_id == person_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def split_list(value: str) -> list[str]:
    return [item for item in value.split(LIST_SEP) if item]


def join_list(items: list[str]) -> str:
    return LIST_SEP.join(items)


async def shares_ag(session: AsyncSession, a: int, b: int) -> bool:
    mine = aliased(Membership)
    theirs = aliased(Membership)
    found = await session.scalar(
        select(mine.ag_id)
        .join(theirs, theirs.ag_id == mine.ag_id)
        .where(mine.person_id == a, theirs.person_id == b)
        .limit(1)
    )
    return found is not None


async def in_any_ag(session: AsyncSession, person_id: int) -> bool:
    found = await session.scalar(
        select(Membership.ag_id).where(Membership.person_id == person_id).limit(1)
    )
    return found is not None


async def may_see(
    session: AsyncSession,
    owner_id: int,
    card: Card | None,
    viewer_id: int | None,
    *,
    viewer_is_admin: bool,
) -> bool:
    """Whether the viewer may see the owner's card (None: that the owner has none, which
    tells as much as an `ag` card would)."""
    if viewer_id is not None and viewer_id == owner_id:
        return True
    if card is not None and card.visibility == Visibility.ALLIANCE.value:
        if viewer_is_admin:
            return True
        return viewer_id is not None and await in_any_ag(session, viewer_id)
    return viewer_id is not None and await shares_ag(session, viewer_id, owner_id)


@dataclass(frozen=True)
class CardRow:
    card: Card
    accounts: list[Account]


async def _with_accounts(session: AsyncSession, cards: list[Card]) -> list[CardRow]:
    ids = [card.person_id for card in cards]
    by_person: dict[int, list[Account]] = {}
    for account in await session.scalars(
        select(Account).where(Account.person_id.in_(ids)).order_by(Account.id)
    ):
        by_person.setdefault(account.person_id, []).append(account)
    return [CardRow(card, by_person.get(card.person_id, [])) for card in cards]


async def cards_in_ag(session: AsyncSession, ag_id: int) -> list[CardRow]:
    cards = list(
        await session.scalars(
            select(Card)
            .join(Membership, Membership.person_id == Card.person_id)
            .where(Membership.ag_id == ag_id)
            .order_by(Card.name, Card.person_id)
        )
    )
    return await _with_accounts(session, cards)


async def cards_sharing_ag(session: AsyncSession, viewer_id: int) -> list[CardRow]:
    """Cards of the people who share at least one AG with the viewer (not the viewer's)."""
    mine = aliased(Membership)
    theirs = aliased(Membership)
    people = (
        select(theirs.person_id)
        .join(mine, mine.ag_id == theirs.ag_id)
        .where(mine.person_id == viewer_id, theirs.person_id != viewer_id)
    )
    cards = list(
        await session.scalars(
            select(Card).where(Card.person_id.in_(people)).order_by(Card.name, Card.person_id)
        )
    )
    return await _with_accounts(session, cards)


async def cards_visible_to(
    session: AsyncSession, viewer_id: int, *, alliance_cards: bool
) -> list[CardRow]:
    """Cards of the people who share an AG with the viewer, and with `alliance_cards`
    also the cards opened to the whole alliance (not the viewer's own)."""
    mine = aliased(Membership)
    theirs = aliased(Membership)
    people = (
        select(theirs.person_id)
        .join(mine, mine.ag_id == theirs.ag_id)
        .where(mine.person_id == viewer_id, theirs.person_id != viewer_id)
    )
    shown: list[ColumnElement[bool]] = [Card.person_id.in_(people)]
    if alliance_cards:
        shown.append(Card.visibility == Visibility.ALLIANCE.value)
    cards = list(
        await session.scalars(
            select(Card)
            .where(or_(*shown), Card.person_id != viewer_id)
            .order_by(Card.name, Card.person_id)
        )
    )
    return await _with_accounts(session, cards)
