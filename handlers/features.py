"""The list of the bot's features: the app builds its table of commands from it."""

from __future__ import annotations

from bot.commands import Feature
from handlers import (
    attendance,
    cards,
    connect,
    meeting_edit,
    meeting_list,
    meetings,
    poll_export,
    poll_lifecycle,
    poll_results,
    poll_votes,
    polls,
    privacy,
    reminders,
    survey,
    vote,
)
from handlers.help import commands as help
from handlers.membership import admin, requests
from handlers.membership import commands as membership
from handlers.stats import commands as stats
from handlers.welcome import commands as welcome

FEATURES: tuple[Feature, ...] = (
    help.feature,
    membership.feature,
    requests.feature,
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
