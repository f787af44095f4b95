"""Tables of the way into an AG's chats.

`ChatProblem` notes a right the bot found missing in a chat (to invite, approve join
requests, remove people, manage topics): `/ag info` shows it to admins until an action
that needs it succeeds again. `BotSetting` holds the few alliance-wide values an admin sets
in a chat rather than in the configuration file (the alliance's Matrix Space).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import UtcDateTime

RIGHT_MAX = 32
SETTING_KEY_MAX = 64
SETTING_VALUE_MAX = 1024


class ChatProblem(Base):
    __tablename__ = "chat_problem"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chat.id", ondelete="CASCADE"), primary_key=True
    )
    right: Mapped[str] = mapped_column(String(RIGHT_MAX), primary_key=True)
    noticed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class BotSetting(Base):
    __tablename__ = "bot_setting"

    key: Mapped[str] = mapped_column(String(SETTING_KEY_MAX), primary_key=True)
    value: Mapped[str] = mapped_column(String(SETTING_VALUE_MAX))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
