"""The table of commands. Handler modules add themselves with `@commands.command(...)`;
`load()` imports them all so the table is complete."""

from __future__ import annotations

import importlib

from bot.commands import Registry

commands = Registry()

MODULES = (
    "handlers.help",
    "handlers.ags",
    "handlers.join_requests",
    "handlers.admin",
    "handlers.polls",
    "handlers.poll_votes",
    "handlers.poll_lifecycle",
    "handlers.poll_results",
    "handlers.poll_export",
    "handlers.vote",
    "handlers.survey",
    "handlers.meetings",
    "handlers.meeting_edit",
    "handlers.meeting_list",
    "handlers.reminders",
    "handlers.attendance",
    "handlers.connect",
    "handlers.cards",
    "handlers.privacy",
    "handlers.stats",
    "handlers.welcome",
)


def load() -> Registry:
    for module in MODULES:
        importlib.import_module(module)
    return commands
