"""One-time codes that link two accounts of one person (`/connect`).

Only a keyed hash of a code is stored: the database alone does not let anyone redeem it.
A code belongs to the account that asked for it, is valid until `expires_at` and works once.
Typing it only shows what a link would do and reserves the code for that account
(`claimed_by`); the link is made when the same account confirms before `expires_at`.

`ConnectMiss` notes when an account typed a code that does not exist, so that guessing
stops after a few tries (kept for an hour). `ConnectShare` remembers what each side brought into a link (AG memberships with their
role, the card), so `/disconnect` can give it back to the account it came from.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import UtcDateTime

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
    # The account that typed the code and was shown the summary: only it may confirm.
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), nullable=True, default=None
    )


class ShareKind(enum.StrEnum):
    MEMBERSHIP = "membership"
    CARD = "card"


class ConnectShare(Base):
    """Something the side of `account_id` brought into its link: a membership of `ag_id`
    with `role` as it was then, or the card that the linked person kept."""

    __tablename__ = "connect_share"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    ag_id: Mapped[int | None] = mapped_column(
        ForeignKey("ag.id", ondelete="CASCADE"), nullable=True, default=None
    )
    role: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    # As in `membership.joined_at`, so it is copied back unchanged.
    joined_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, default=None
    )


class ConnectMiss(Base):
    """An account typed a code that does not exist (kept only while it counts)."""

    __tablename__ = "connect_miss"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime())
