"""Meetings, their occurrences, reminders and each reminder's delivery to each target.

Every due item is a row with a status, so the scheduler's jobs can be rebuilt from the
tables at start-up and nothing is lost or repeated silently:

    meeting 1--n occurrence 1--n reminder 1--n reminder_delivery

A `sending` reminder and a `sending` delivery also carry a lease (`lease_owner`,
`lease_until`: storage/leases.py): the process sending it, and until when the others
keep their hands off (storage/meetings/deliveries.py).

Times are stored in UTC (`UtcDateTime` hands back aware datetimes on SQLite too); the
meeting keeps the IANA zone it was planned in, so a weekly 18:00 stays 18:00 local time
across daylight saving changes.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.leases import Leased
from storage.models import Base, utcnow
from storage.types import UtcDateTime

MEETING_TITLE_MAX = 200
MEETING_PLACE_MAX = 200
MEETING_URL_MAX = 500
ERROR_MAX = 200

_ID = BigInteger().with_variant(Integer, "sqlite")


class MeetingStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class OccurrenceStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its due time
    SENDING = "sending"  # fired: deliveries exist and are being sent (by the lease holder)
    SENT = "sent"  # every delivery finished, on time
    LATE_SENT = "late-sent"  # finished, but fired after the bot was down over the due time
    MISSED = "missed"  # not sent: the meeting had begun when the bot could send it
    CANCELLED = "cancelled"  # the occurrence was cancelled or moved, or the offset removed


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # certainly not sent yet
    SENDING = "sending"  # handed to the network; may have arrived (resent with the same key)
    SENT = "sent"
    MISSED = "missed"  # the meeting began before it could be delivered
    FAILED = "failed"  # the target is gone or its network is not running
    UNREACHABLE = "unreachable"  # a person who cannot be written to privately
    CANCELLED = "cancelled"  # the occurrence was cancelled while the reminder went out


FINISHED_DELIVERIES = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.MISSED,
        DeliveryStatus.FAILED,
        DeliveryStatus.UNREACHABLE,
        DeliveryStatus.CANCELLED,
    }
)


class Meeting(Base):
    """A meeting or a series (`rrule` set): what, where, when first, in which zone."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    ag_id: Mapped[int] = mapped_column(ForeignKey("ag.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(MEETING_TITLE_MAX), default="")
    place: Mapped[str] = mapped_column(String(MEETING_PLACE_MAX), default="")
    url: Mapped[str] = mapped_column(String(MEETING_URL_MAX), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    rrule: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.ACTIVE.value)
    # Occurrences exist as rows up to here; extended daily (the horizon).
    materialised_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Calendar feeds: raised with every change of the meeting or one of its dates (the
    # iCalendar SEQUENCE, so calendar apps replace their copy), and when that was.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Occurrence(Base):
    """One dated instance. `original_start` is its slot in the series (its deterministic
    key); `start_at` is when it takes place (differs once moved with /edit)."""

    __tablename__ = "meeting_occurrence"
    __table_args__ = (
        UniqueConstraint("meeting_id", "original_start"),
        Index("ix_meeting_occurrence_start_at", "start_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    original_start: Mapped[datetime] = mapped_column(UtcDateTime())
    start_at: Mapped[datetime] = mapped_column(UtcDateTime())
    title: Mapped[str | None] = mapped_column(String(MEETING_TITLE_MAX))  # set by /edit
    status: Mapped[str] = mapped_column(String(16), default=OccurrenceStatus.SCHEDULED.value)
    # Bumped on every move, so the reminders of the new time are new rows.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Reminder(Leased, Base):
    """One reminder of one occurrence, `offset_seconds` before its start."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "revision", "offset_seconds"),
        Index("ix_reminder_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_occurrence.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=0)
    offset_seconds: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), default=ReminderStatus.PENDING.value)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ReminderDelivery(Leased, Base):
    """One reminder to one target: a chat (`chat:<id>`) or a person (`person:<id>`).

    The send key `reminder:<reminder id>:<target>` is derived from this row, so a resend
    after a crash carries the same key (Matrix drops the duplicate by transaction id).
    """

    __tablename__ = "reminder_delivery"
    __table_args__ = (UniqueConstraint("reminder_id", "target"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminder.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(40))
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chat.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Rsvp(Base):
    """A person's answer for one occurrence: yes, no or maybe."""

    __tablename__ = "meeting_rsvp"

    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_occurrence.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    answer: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AgReminderSettings(Base):
    """Per-AG reminder offsets (seconds, comma-separated); no row means the config default."""

    __tablename__ = "ag_reminder_settings"

    ag_id: Mapped[int] = mapped_column(ForeignKey("ag.id", ondelete="CASCADE"), primary_key=True)
    offsets: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReminderPreference(Base):
    """Whether a person wants reminders privately too (`/remind on|off`)."""

    __tablename__ = "reminder_preference"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    direct: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last private reminder that could not be delivered (shown by `/remind`).
    unreachable_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
