"""The `notice` table: one private message the bot owes a person, with a key.

A notice is a delivery like a reminder's: written `pending` when it becomes due, claimed
(`pending` -> `sending`) in one statement that only one process can win, marked `sent`
after the network call. The unique (kind, subject, person) makes "at most once per poll and
person" a property of the database, not of the code that decides to send: writing the same
notice twice finds the row already there.

`subject` names what the notice is about: `poll:<id>` or `datepoll:<id>` (database ids).
The send key `notice:<id>` makes a resend after a crash idempotent where the network allows
(Matrix transaction ids), as with reminders.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.leases import Leased
from storage.models import Base, utcnow
from storage.types import UtcDateTime

KIND_MAX = 16
SUBJECT_MAX = 32

_ID = BigInteger().with_variant(Integer, "sqlite")


class NoticeKind(enum.StrEnum):
    NUDGE = "nudge"  # "you have not answered yet" before a deadline
    ALL_ANSWERED = "all_answered"  # to the lead: every member has answered
    CLOSED = "closed"  # to the lead: the deadline passed (Terminumfrage: pick a date now)
    PICKED = "picked"  # to a member: the date a Terminumfrage became, with its .ics


class NoticeStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed; a crash here is resumed at the next start
    SENT = "sent"
    SKIPPED = "skipped"  # no longer wanted when its turn came (answered meanwhile, DMs off)
    FAILED = "failed"  # the person cannot be written to privately


class Notice(Leased, Base):
    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("kind", "subject", "person_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=NoticeStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


def subject_of(kind: str, poll_id: int) -> str:
    """`poll:12` / `datepoll:4`."""
    return f"{kind}:{poll_id}"
