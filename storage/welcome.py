"""The welcome for people entering a chat linked to an AG: the per-chat setting and who
was greeted already, and their queries.

Who was greeted is kept as a keyed hash of their network account (see
handlers/welcome/service.py), not as an account or person: greeting someone creates no profile
of them, and a copy of the database alone does not tell who entered which chat. Both
tables go with their chat (ON DELETE CASCADE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage import repo
from storage.models import Ag, Base, utcnow
from storage.types import UtcDateTime

WELCOME_KEY_LENGTH = 64  # hex of HMAC-SHA256


class WelcomeSetting(Base):
    """`/welcome on|off` in a chat; without a row the chat's size decides."""

    __tablename__ = "welcome_setting"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chat.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class WelcomeSeen(Base):
    """Someone was greeted in a chat (`who`: the keyed hash of their account)."""

    __tablename__ = "welcome_seen"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chat.id", ondelete="CASCADE"), primary_key=True
    )
    # A keyed hash of an account: /mydata shows and /forget deletes it (storage/privacy/mydata.py).
    who: Mapped[str] = mapped_column(
        String(WELCOME_KEY_LENGTH), primary_key=True, index=True, info={"account_hash": True}
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


@dataclass(frozen=True)
class ChatWelcome:
    """A chat as the welcome sees it: its row id, its linked AGs, its language and its
    setting (None: the chat's size decides)."""

    chat_id: int
    ags: list[Ag]
    language: str | None
    enabled: bool | None


async def chat_welcome(
    session: AsyncSession, platform: str, external_id: str
) -> ChatWelcome | None:
    """The chat's welcome state; None when the chat is unknown or linked to no AG."""
    ags = await repo.linked_ags(session, platform, external_id)
    row = await repo.find_chat(session, platform, external_id)
    if not ags or row is None:
        return None
    setting = await session.get(WelcomeSetting, row.id)
    return ChatWelcome(row.id, ags, row.language, setting.enabled if setting else None)


async def first_time(session: AsyncSession, chat_id: int, who: str, at: datetime) -> bool:
    """Record that `who` was greeted in the chat; False when they had been already."""
    seen = await session.scalar(
        select(WelcomeSeen.who).where(WelcomeSeen.chat_id == chat_id, WelcomeSeen.who == who)
    )
    if seen is not None:
        return False
    session.add(WelcomeSeen(chat_id=chat_id, who=who, at=at))
    return True


async def set_enabled(session: AsyncSession, chat_id: int, enabled: bool, at: datetime) -> None:
    """`/welcome on|off` for the chat."""
    found = await session.get(WelcomeSetting, chat_id)
    if found is None:
        session.add(WelcomeSetting(chat_id=chat_id, enabled=enabled, updated_at=at))
    else:
        found.enabled, found.updated_at = enabled, at


async def forget(session: AsyncSession, keys: list[str]) -> None:
    """Remove every record of having greeted these accounts (by their keyed hashes)."""
    if keys:
        await session.execute(delete(WelcomeSeen).where(WelcomeSeen.who.in_(keys)))
