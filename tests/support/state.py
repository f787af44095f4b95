"""Looking into the bot's database from a chat test: what a reply claims must also be stored."""

from __future__ import annotations

from storage import repo
from storage.models import Ag
from tests.support.fake import BotHarness


async def roles_of(bot: BotHarness, who: str) -> dict[str, str]:
    """{ag slug: role} of a person of the fake network, {} if the bot never stored them."""
    async with bot.app.services.db.read() as session:
        account = await repo.find_account(session, "fake", who)
        if account is None:
            return {}
        return {ag.slug: role for ag, role in await repo.memberships_of(session, account.person_id)}


async def knows(bot: BotHarness, who: str) -> bool:
    """Whether the bot has stored anything about this person."""
    async with bot.app.services.db.read() as session:
        return await repo.find_account(session, "fake", who) is not None


async def ag(bot: BotHarness, slug: str) -> Ag | None:
    async with bot.app.services.db.read() as session:
        return await repo.ag_by_slug(session, slug)


async def ag_slugs(bot: BotHarness) -> list[str]:
    """Every AG, archived ones included."""
    async with bot.app.services.db.read() as session:
        return [a.slug for a in await repo.all_ags(session, include_archived=True)]


async def linked(bot: BotHarness, chat_id: str) -> list[str]:
    """Slugs of the (active) AGs a chat of the fake network is linked to."""
    async with bot.app.services.db.read() as session:
        return [a.slug for a in await repo.linked_ags(session, "fake", chat_id)]
