"""One-time codes that link two accounts of one person (`/connect`).

Only a keyed hash of a code is stored: the database alone does not let anyone redeem it.
A code belongs to the account that asked for it, is valid until `expires_at` and works once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.meeting_models import UtcDateTime
from storage.models import Base, utcnow

_ID = BigInteger().with_variant(Integer, "sqlite")


class ConnectCode(Base):
    __tablename__ = "connect_code"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
