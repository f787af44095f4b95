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
    privacy,
    stats,
    welcome,
)
from handlers.meetings import attendance, edit, listing
from handlers.meetings import commands as meetings
from handlers.polls import commands as polls
from handlers.polls import export as poll_export
from handlers.polls import lifecycle as poll_lifecycle
from handlers.polls import results as poll_results
from handlers.polls import votes as poll_votes
from handlers.reminders import commands as reminders
from handlers.survey import commands as survey
from handlers.vote import commands as vote

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
