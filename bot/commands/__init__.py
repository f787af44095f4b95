"""Commands: how features declare them (declare.py), and how the kernel reads, checks and
runs them (convert, tokens, rights, ratelimit, run, dispatch, menus).

This package re-exports the declaration API only, so `from bot import commands as c` and
`c.Feature`, `c.Right`, `c.ag(...)` read as one vocabulary; importing it runs nothing else.
"""

from bot.commands.declare import (
    ButtonHandler,
    Command,
    Converter,
    EventHandler,
    Feature,
    HandlerArgs,
    Kind,
    Param,
    Registry,
    Right,
    Scope,
    StartHook,
    Where,
    ag,
    text,
    user,
    word,
)

__all__ = [
    "ButtonHandler",
    "Command",
    "Converter",
    "EventHandler",
    "Feature",
    "HandlerArgs",
    "Kind",
    "Param",
    "Registry",
    "Right",
    "Scope",
    "StartHook",
    "Where",
    "ag",
    "text",
    "user",
    "word",
]
