"""Polls as rows: the poll, its options, where it was posted, and the ballots.

A ballot is one voter's current answer to one poll; its choices are rows so that the
tally is a GROUP BY in the database. The voter is the network account: one account has
at most one ballot per poll, and so has one person (a person may hold several accounts).
Anonymous polls keep ballots without any identity: `token` is a keyed hash of the
account that only lets the bot replace an earlier ballot while the poll is open, and is
erased when the poll closes.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.leases import Leased
from storage.models import Base, utcnow

# The strictest limits of the networks (Telegram: 12 options, 300/100 characters;
# Element shows at most 20 answers), checked before anything is sent or stored.
QUESTION_MAX = 300
OPTION_MAX = 100
OPTIONS_MAX = 12
OPTIONS_MIN = 2
SHORT_ID_MAX = 8
SURVEY_KEY_MAX = 64

_ID = BigInteger().with_variant(Integer, "sqlite")


class PollKind(enum.StrEnum):
    POLL = "poll"  # launched by a lead in an AG's chats
    SURVEY = "survey"  # a founding-survey question answered through /survey run


class Poll(Base):
    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    short_id: Mapped[str] = mapped_column(String(SHORT_ID_MAX), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=PollKind.POLL.value)
    # None for the standing survey polls, which belong to the whole alliance.
    ag_id: Mapped[int | None] = mapped_column(ForeignKey("ag.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    question: Mapped[str] = mapped_column(String(QUESTION_MAX))
    multi: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # The survey template a poll was launched from ("interesse", "strukturwandel.2").
    survey_key: Mapped[str | None] = mapped_column(String(SURVEY_KEY_MAX))
    # Set only on the one standing poll of a survey question: keeps it unique.
    standing_key: Mapped[str | None] = mapped_column(String(SURVEY_KEY_MAX), unique=True)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PollOption(Base):
    __tablename__ = "poll_option"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0-based
    text: Mapped[str] = mapped_column(String(OPTION_MAX))


class PollMessage(Leased, Base):
    """Where a poll was posted: one row per chat, native or as text.

    Votes on native polls arrive with the network's poll id only (a Telegram
    `poll_answer` has no chat), so `(platform, native_id)` finds the poll.
    """

    __tablename__ = "poll_message"
    __table_args__ = (
        UniqueConstraint("platform", "native_id"),
        UniqueConstraint("poll_id", "platform", "chat_id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(255))
    native_id: Mapped[str | None] = mapped_column(String(255))
    # Anonymous native polls: the network's own count of voters (Telegram `poll` updates).
    native_voters: Mapped[int | None] = mapped_column(Integer)
    network_closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PollNativeCount(Base):
    """Totals per option of an anonymous native poll, as the network last reported them."""

    __tablename__ = "poll_native_count"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("poll_message.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class PollBallot(Base):
    """One voter's current answer; no choices means a retracted vote (kept so that an
    older answer arriving late cannot come back).

    Named polls: `person_id`, `account_id` (the account that cast it, one of the
    person's), `platform`, `cast_at`; the database holds one ballot per poll and person
    and one per poll and account. Anonymous polls: only `token` (a keyed hash of the
    account, see handlers/polls/secret.py), and only while the poll is open. A ballot
    without any of them is an answer whose voter was forgotten after the poll closed: it
    still counts, and nobody can change it.
    """

    __tablename__ = "poll_ballot"
    __table_args__ = (
        UniqueConstraint("poll_id", "person_id", name="uq_poll_ballot_person"),
        UniqueConstraint("poll_id", "account_id", name="uq_poll_ballot_account"),
        UniqueConstraint("poll_id", "token", name="uq_poll_ballot_token"),
        CheckConstraint("person_id IS NULL OR token IS NULL", name="one_identity"),
        CheckConstraint("account_id IS NULL OR token IS NULL", name="account_or_token"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True
    )
    token: Mapped[str | None] = mapped_column(String(64), info={"account_hash": True})
    platform: Mapped[str | None] = mapped_column(String(16))
    # Whether the voter was a member of the poll's AG when casting this answer.
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    cast_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PollChoice(Base):
    """One chosen option of a ballot; `poll_id` is repeated for the tally's GROUP BY."""

    __tablename__ = "poll_choice"
    __table_args__ = (Index("ix_poll_choice_poll_position", "poll_id", "position"),)

    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("poll_ballot.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))


class SurveyRun(Base):
    """Where one person is in `/survey run`: the next question to answer."""

    __tablename__ = "survey_run"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
