"""Alliance-wide values an admin sets in a chat (`bot_setting`): for now the Matrix Space
(`/space`), which wins over the configuration file's `[matrix] space`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.access.models import BotSetting
from storage.models import utcnow

MATRIX_SPACE = "matrix_space"


async def get_setting(session: AsyncSession, key: str) -> str | None:
    row = await session.get(BotSetting, key)
    return row.value if row is not None else None


async def set_setting(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(BotSetting, key)
    if row is None:
        session.add(BotSetting(key=key, value=value))
    else:
        row.value = value
        row.changed_at = utcnow()
    await session.flush()
