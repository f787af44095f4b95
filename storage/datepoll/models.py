"""Terminumfragen as rows: the poll, its dates, each person's answer per date, and the
summary messages to edit later.

An answer belongs to a person, not an account, so answers typed on Telegram, Matrix and
the console merge into one row per date and person (as poll ballots do). Times are UTC;
the poll keeps the zone it was planned in for showing its dates.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import UtcDateTime

TITLE_MAX = 200
PLACE_MAX = 200
URL_MAX = 500
OPTIONS_MIN = 2
OPTIONS_MAX = 15
SHORT_ID_MAX = 8

_ID = BigInteger().with_variant(Integer, "sqlite")


class DatePollStatus(enum.StrEnum):
    OPEN = "open"  # takes answers (until `closes_at`, when set)
    CLOSED = "closed"  # ended without a date
    PICKED = "picked"  # a date was picked and became a meeting


class Answer(enum.StrEnum):
    YES = "yes"  # ja
    MAYBE = "maybe"  # wenn nötig
    NO = "no"  # nein


class DatePoll(Base):
    __tablename__ = "date_poll"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    short_id: Mapped[str] = mapped_column(String(SHORT_ID_MAX), unique=True)
    ag_id: Mapped[int] = mapped_column(ForeignKey("ag.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    place: Mapped[str] = mapped_column(String(PLACE_MAX), default="")
    url: Mapped[str] = mapped_column(String(URL_MAX), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=DatePollStatus.OPEN.value)
    picked_position: Mapped[int | None] = mapped_column(Integer)
    # The meeting (and its one occurrence, the id people type: m12) the pick became.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_occurrence.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DatePollOption(Base):
    """One proposed date; `position` is 0-based, shown as 1, 2, 3."""

    __tablename__ = "date_poll_option"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("date_poll.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer)


class DatePollAnswer(Base):
    """A person's current answer to one date; `platform` is where it was last typed."""

    __tablename__ = "date_poll_answer"
    __table_args__ = (Index("ix_date_poll_answer_person", "person_id"),)

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("date_poll.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    answer: Mapped[str] = mapped_column(String(8))
    platform: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DatePollMessage(Base):
    """Where the summary was posted, so that a later step can edit it in place."""

    __tablename__ = "date_poll_message"
    __table_args__ = (UniqueConstraint("poll_id", "platform", "chat_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("date_poll.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(255))
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
