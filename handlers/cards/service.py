"""Reading and writing cards; who may see one is decided in bot/commands/rights.py."""

from __future__ import annotations

from bot.commands import rights
from bot.commands.convert import normalize
from bot.context import Context
from storage import cards, repo
from storage.cards import Card, CardRow
from storage.models import Account, Ag


async def card_with_accounts(ctx: Context, person_id: int) -> tuple[Card | None, list[Account]]:
    async with ctx.db.read() as session:
        return await cards.card_of(session, person_id), await repo.accounts_of(session, person_id)


async def save(ctx: Context, person_id: int, **fields: str) -> None:
    """Set some fields of the person's card, creating it on first use."""
    await ctx.db.run(lambda s: cards.update_card(s, person_id, **fields))


async def visible_in_ag(ctx: Context, ag: Ag) -> list[CardRow]:
    """The cards of the AG's members that the sender may see."""
    async with ctx.db.read() as session:
        rows = await cards.cards_in_ag(session, ag.id)
    return [row for row in rows if await rights.may_see_card(ctx, row.card.person_id, row.card)]


async def search(ctx: Context, person_id: int, wanted: str) -> list[CardRow]:
    """The cards the sender may see (see rights.may_see_card) that name `wanted`
    (normalised) in any field: name, organisation, regions, topics, about, contact."""
    alliance_cards = await rights.sees_alliance_cards(ctx)
    async with ctx.db.read() as session:
        rows = await cards.cards_visible_to(session, person_id, alliance_cards=alliance_cards)
    hits = [row for row in rows if any(wanted in normalize(v) for v in searched(row.card))]
    return [row for row in hits if await rights.may_see_card(ctx, row.card.person_id, row.card)]


def searched(card: Card) -> tuple[str, ...]:
    """Every field of a card that its viewers see."""
    return (card.name, card.org, card.regions, card.topics, card.about, card.contact)
