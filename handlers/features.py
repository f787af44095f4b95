"""The list of the bot's features: the app builds its table of commands from it."""

from __future__ import annotations

from bot.commands import Feature
from handlers import (
    admin,
    ags,
    attendance,
    help,
    join_requests,
    meeting_edit,
    meeting_list,
    meetings,
    poll_export,
    poll_lifecycle,
    poll_results,
    poll_votes,
    polls,
    reminders,
    stats,
    survey,
    vote,
    welcome,
)
from handlers.cards import commands as cards
from handlers.connect import commands as connect
from handlers.privacy import commands as privacy

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
    meeting_edit.feature,
    meeting_list.feature,
    reminders.feature,
    attendance.feature,
    connect.feature,
    cards.feature,
    privacy.feature,
    stats.feature,
    welcome.feature,
)
