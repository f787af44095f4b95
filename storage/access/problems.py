"""Rights the bot found missing in a chat: noted when an action fails for want of one,
cleared when an action that needs it succeeds, shown to admins by `/ag info`."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.access.models import ChatProblem
from storage.models import Chat


async def note_missing(
    session: AsyncSession, platform: str, external_id: str, title: str | None, right: str
) -> bool:
    """Note that the bot lacks `right` in the chat; True if this is news (not noted yet)."""
    chat = await repo.ensure_chat(session, platform, external_id, title, False)
    if await session.get(ChatProblem, (chat.id, right)) is not None:
        return False
    session.add(ChatProblem(chat_id=chat.id, right=right))
    await session.flush()
    return True


async def clear_missing(session: AsyncSession, platform: str, external_id: str, right: str) -> None:
    """The bot has `right` in the chat (an action needing it just worked)."""
    chat_id = select(Chat.id).where(Chat.platform == platform, Chat.external_id == external_id)
    await session.execute(
        delete(ChatProblem).where(
            ChatProblem.chat_id.in_(chat_id.scalar_subquery()), ChatProblem.right == right
        )
    )


async def missing_rights(session: AsyncSession, chat_ids: list[int]) -> dict[int, list[str]]:
    """The rights noted missing per chat row id (for `/ag info`)."""
    if not chat_ids:
        return {}
    rows = await session.execute(
        select(ChatProblem.chat_id, ChatProblem.right)
        .where(ChatProblem.chat_id.in_(chat_ids))
        .order_by(ChatProblem.chat_id, ChatProblem.right)
    )
    found: dict[int, list[str]] = {}
    for chat_id, right in rows:
        found.setdefault(chat_id, []).append(right)
    return found
