"""Telegram's "/" command menu, per scope (private chats, groups, group admins) and
language, filled from the menus the core builds out of the command declarations."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)
from telegram.ext import ExtBot

from bot.core import MenuEntry

log = logging.getLogger(__name__)

MENU_SCOPES: Mapping[str, BotCommandScope] = {
    "direct": BotCommandScopeAllPrivateChats(),
    "group": BotCommandScopeAllGroupChats(),
    "group_admin": BotCommandScopeAllChatAdministrators(),
}
# The alliance's language: its menu is also shown to everyone whose language has none.
DEFAULT_MENU_LANGUAGE = "de"
_MENU_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


async def publish_menus(
    bot: ExtBot[int],
    menus: Mapping[tuple[str, str], Sequence[MenuEntry]],
    default_language: str = DEFAULT_MENU_LANGUAGE,
) -> None:
    """Fill the menu per scope and language; `default_language` is also the default for
    users whose app language has no menu of its own."""
    for (scope, language), entries in sorted(menus.items()):
        telegram_scope = MENU_SCOPES.get(scope)
        if telegram_scope is None:
            continue
        commands = [
            BotCommand(entry.command, entry.description or entry.command)
            for entry in entries
            if _MENU_COMMAND.match(entry.command)
        ][:100]
        languages: list[str | None] = [language]
        if language == default_language:
            languages.insert(0, None)
        for code in languages:
            await bot.set_my_commands(commands, scope=telegram_scope, language_code=code)
    log.info("telegram: command menus published")
