"""The tables of several bot processes on one database.

- `bot_state`: small named values all processes share: the bot's secret key (keyed hashes
  of anonymous ballots, `/connect` codes, link tokens, log pseudonyms), created once by
  whichever process comes first, so every process uses the same one; the Matrix sync
  position, so a new leader goes on where the old one stopped.
- `rate_bucket`: the spam protection's token buckets, shared by the processes that take
  Telegram updates in webhook mode.
- `outbox_message`: a message a process that is not the leader wants sent on a network
  only the leader is connected to (Matrix); the leader takes each row with a lease and
  sends it once, with the row's send key.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.leases import Leased
from storage.models import Base, utcnow
from storage.types import UtcDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")
STATE_NAME_MAX = 64
BUCKET_KEY_MAX = 300
SEND_KEY_MAX = 200
ERROR_MAX = 300


class BotState(Base):
    __tablename__ = "bot_state"

    name: Mapped[str] = mapped_column(String(STATE_NAME_MAX), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class RateBucket(Base):
    __tablename__ = "rate_bucket"

    key: Mapped[str] = mapped_column(String(BUCKET_KEY_MAX), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    warned: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # taken by the leader (see its lease)
    SENT = "sent"
    FAILED = "failed"  # given up (the network refused it for good)


class OutboxMessage(Leased, Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # What to send and where, as JSON (bot/outbox_queue.py writes and reads it).
    payload: Mapped[str] = mapped_column(Text)
    send_key: Mapped[str | None] = mapped_column(String(SEND_KEY_MAX), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
