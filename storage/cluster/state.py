"""Named values all processes share (`bot_state`): read one, write one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.cluster.models import BotState
from storage.models import utcnow


async def get(session: AsyncSession, name: str) -> str | None:
    return await session.scalar(select(BotState.value).where(BotState.name == name))


async def put(session: AsyncSession, name: str, value: str) -> None:
    """Set the value (insert or overwrite)."""
    row = await session.get(BotState, name)
    if row is None:
        session.add(BotState(name=name, value=value, updated_at=utcnow()))
    else:
        row.value = value
        row.updated_at = utcnow()


async def put_first(session: AsyncSession, name: str, value: str) -> str:
    """Set the value unless one is there; the value that holds afterwards."""
    current = await get(session, name)
    if current is not None:
        return current
    session.add(BotState(name=name, value=value, updated_at=utcnow()))
    await session.flush()
    return value
