"""Who may see a page, decided again on every request from the link owner's standing
now: the same rights as the chat commands, for a person without a chat (no "follower
through a linked chat" here: a page has no chat, so it needs membership)."""

from __future__ import annotations

from bot.commands.rights import admin_now, leads_now
from bot.context import Services
from bot.i18n import Lang
from bot.settings import Settings
from storage import repo
from storage.repo import Session


async def is_member(session: Session, person_id: int, ag_id: int) -> bool:
    return await repo.membership(session, person_id, ag_id) is not None


async def may_read(settings: Settings, session: Session, person_id: int, ag_id: int | None) -> bool:
    """A poll's result, a Terminumfrage's grid: members of the AG and admins (things of
    no AG: everyone with the link)."""
    if ag_id is None or await is_member(session, person_id, ag_id):
        return True
    return await admin_now(settings, session, person_id)


async def may_lead(settings: Settings, session: Session, person_id: int, ag_id: int) -> bool:
    """The AG overview: its leads now, and admins."""
    return await leads_now(settings, session, person_id, ag_id)


async def lang_of(services: Services, session: Session, person_id: int) -> Lang:
    language = await repo.person_language(session, person_id) or services.settings.language
    return services.translator.for_language(language)
