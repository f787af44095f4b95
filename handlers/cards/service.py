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
    """Cards of people who share an AG with the sender and name `wanted` (normalised)
    among their topics or regions."""
    async with ctx.db.read() as session:
        rows = await cards.cards_sharing_ag(session, person_id)
    return [
        row
        for row in rows
        if wanted in normalize(row.card.topics) or wanted in normalize(row.card.regions)
    ]
