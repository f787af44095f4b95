"""How far ahead a series exists as rows, its dates between two instants, and what
meetings need of the reminder engine.

The engine (handlers/reminders/engine.py) extends the horizon with `starts_between`;
meetings tell it about reminders they planned or withdrew through `scheduler(services)`,
so this feature does not import the reminders feature (that one imports this).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from bot.context import Services
from handlers.meetings.recurrence import Rule, occurrences
from storage.meetings.models import Meeting
from storage.meetings.reminders import ReminderChanges

HORIZON = timedelta(days=60)  # occurrences of a series exist as rows this far ahead


def starts_between(meeting: Meeting, after: datetime, until: datetime) -> list[datetime]:
    """The meeting's starts in `after <= start < until`, by its rule, in its zone."""
    tz = ZoneInfo(meeting.timezone)
    rule = Rule.from_rrule(meeting.rrule, tz) if meeting.rrule else None
    return occurrences(meeting.start_at, rule, after=after, until=until, tz=tz)


@runtime_checkable
class Scheduler(Protocol):
    """The part of the reminder engine meetings use: after a committed change, tell it
    which reminders are new (with their due time) and which are withdrawn."""

    def apply(self, changes: ReminderChanges) -> None: ...


def scheduler(services: Services) -> Scheduler:
    """The running bot's reminder engine (the app builds it)."""
    assert isinstance(services.reminders, Scheduler), "the app builds the reminder engine"
    return services.reminders


def default_offsets(services: Services) -> list[timedelta]:
    """The configured reminder offsets, for AGs without their own."""
    return list(services.settings.reminder_offsets)
