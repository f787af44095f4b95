"""The welcome for people entering a chat linked to an AG: the per-chat setting and who
was greeted already.

Who was greeted is kept as a keyed hash of their network account (see
handlers/welcome.py), not as an account or person: greeting someone creates no profile
of them, and a copy of the database alone does not tell who entered which chat. Both
tables go with their chat (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
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
    # A keyed hash of an account: /mydata shows and /forget deletes it (storage/mydata_repo.py).
    who: Mapped[str] = mapped_column(
        String(WELCOME_KEY_LENGTH), primary_key=True, index=True, info={"account_hash": True}
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
