"""The list of the bot's features: the app builds its table of commands from it."""

from __future__ import annotations

from bot.commands import Feature
from handlers import (
    admin,
    ags,
    cards,
    connect,
    help,
    join_requests,
    poll_export,
    poll_lifecycle,
    poll_results,
    poll_votes,
    polls,
    privacy,
    stats,
    survey,
    vote,
    welcome,
)
from handlers.meetings import attendance, edit, listing
from handlers.meetings import commands as meetings
from handlers.reminders import commands as reminders

FEATURES: tuple[Feature, ...] = (
    help.feature,
    ags.feature,
    join_requests.feature,
    admin.feature,
    polls.feature,
    poll_votes.feature,
    poll_lifecycle.feature,
    poll_results.feature,
    poll_export.feature,
    vote.feature,
    survey.feature,
    meetings.feature,
    edit.feature,
    listing.feature,
    reminders.feature,
    attendance.feature,
    connect.feature,
    cards.feature,
    privacy.feature,
    stats.feature,
    welcome.feature,
)
