"""The list of the bot's features: the app builds its table of commands from it."""

from __future__ import annotations

from bot.commands import Feature
from handlers.access import commands as access
from handlers.access import leaving as access_leaving
from handlers.access import requests as access_requests
from handlers.calendar import commands as calendar
from handlers.cards import commands as cards
from handlers.connect import commands as connect
from handlers.datepoll import commands as datepoll
from handlers.datepoll import notify as datepoll_notify
from handlers.datepoll import pick as datepoll_pick
from handlers.datepoll import press as datepoll_press
from handlers.help import commands as help
from handlers.meetings import attendance, edit, listing
from handlers.meetings import commands as meetings
from handlers.membership import admin, requests
from handlers.membership import commands as membership
from handlers.nudges import commands as nudges
from handlers.nudges import schedule as nudge_schedule
from handlers.pages import commands as pages
from handlers.polls import commands as polls
from handlers.polls import export as poll_export
from handlers.polls import lifecycle as poll_lifecycle
from handlers.polls import results as poll_results
from handlers.polls import votes as poll_votes
from handlers.privacy import commands as privacy
from handlers.reminders import commands as reminders
from handlers.space import commands as space
from handlers.stats import commands as stats
from handlers.survey import commands as survey
from handlers.topics import commands as topics
from handlers.vote import commands as vote
from handlers.welcome import commands as welcome

FEATURES: tuple[Feature, ...] = (
    help.feature,
    membership.feature,
    requests.feature,
    admin.feature,
    access.feature,
    access_requests.feature,
    access_leaving.feature,
    topics.feature,
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
    calendar.feature,
    pages.feature,
    reminders.feature,
    attendance.feature,
    datepoll.feature,
    datepoll_pick.feature,
    datepoll_press.feature,
    datepoll_notify.feature,
    nudges.feature,
    nudge_schedule.feature,
    connect.feature,
    cards.feature,
    privacy.feature,
    stats.feature,
    welcome.feature,
    space.feature,
)
