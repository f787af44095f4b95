"""The bot's state: people, their accounts, AGs, memberships and chats.

Platform ids are strings: Telegram ids exceed 32 bits and change when a group becomes
a supergroup; Matrix ids are strings anyway.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Length limits, enforced before anything is written (see handlers/validate.py).
AG_SLUG_MAX = 16
AG_NAME_MAX = 80
NUDGE_DEFAULT_MINUTES = 24 * 60  # nudges a day before a deadline, unless the AG says otherwise
AG_DESCRIPTION_MAX = 300
DISPLAY_NAME_MAX = 120
CHAT_TITLE_MAX = 200


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(enum.StrEnum):
    MEMBER = "member"
    LEAD = "lead"


class JoinPolicy(enum.StrEnum):
    """How people get into an AG: at once (`/join`), or after a lead approved them."""

    OPEN = "open"
    REQUEST = "request"


class Strangers(enum.StrEnum):
    """A join request to an AG chat from someone who is not a member of the AG: left to
    the chat's admins, or declined by the bot."""

    ADMINS = "admins"
    DECLINE = "decline"


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # The database deletes a person's accounts (ON DELETE CASCADE); without passive_deletes
    # the ORM would first try to set their person_id to NULL and fail.
    accounts: Mapped[list[Account]] = relationship(back_populates="person", passive_deletes=True)


class Account(Base):
    """One network identity of a person (a person may later have several)."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX))
    username: Mapped[str | None] = mapped_column(String(255), index=True)
    # Telegram: the person has started the bot, so private messages can reach them.
    direct_reachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="accounts")


class Ag(Base):
    __tablename__ = "ag"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    slug: Mapped[str] = mapped_column(String(AG_SLUG_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(AG_NAME_MAX))
    description: Mapped[str] = mapped_column(String(AG_DESCRIPTION_MAX), default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    join_policy: Mapped[str] = mapped_column(
        String(16), default=JoinPolicy.OPEN.value, server_default=JoinPolicy.OPEN.value
    )
    # `/leave` also removes the person from the AG's chats (off: they stay until they go).
    leave_removes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # What happens to a Telegram join request from someone who is not in the AG.
    strangers: Mapped[str] = mapped_column(
        String(16), default=Strangers.ADMINS.value, server_default=Strangers.ADMINS.value
    )
    # Minutes before a poll's or Terminumfrage's deadline that members who have not answered
    # are nudged privately; None: the default (`NUDGE_DEFAULT_MINUTES`), 0: no nudges.
    nudge_minutes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Membership(Base):
    __tablename__ = "membership"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    ag_id: Mapped[int] = mapped_column(
        ForeignKey("ag.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER.value)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JoinRequest(Base):
    """Someone asked to join an AG that takes members on request; not a member (and
    shown nothing of the AG) until a lead approves."""

    __tablename__ = "join_request"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    ag_id: Mapped[int] = mapped_column(
        ForeignKey("ag.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Chat(Base):
    __tablename__ = "chat"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(CHAT_TITLE_MAX))
    is_direct: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(8))
    # The chat's invite link that creates join requests (Telegram), made once and reused.
    invite_link: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AgChat(Base):
    """A chat bound to an AG; later features post the AG's news to all of them."""

    __tablename__ = "ag_chat"

    ag_id: Mapped[int] = mapped_column(ForeignKey("ag.id", ondelete="CASCADE"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chat.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
