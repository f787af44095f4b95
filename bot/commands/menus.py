"""Command menus for networks that show them (Telegram's "/" menu), per scope and
language, generated from the command declarations."""

from __future__ import annotations

from bot.commands.declare import Registry
from bot.commands.rights import offered
from bot.core import MenuEntry
from bot.i18n import Translator

SCOPES = ("direct", "group", "group_admin")


def build_menus(
    registry: Registry, translator: Translator
) -> dict[tuple[str, str], list[MenuEntry]]:
    """{(scope, language): entries}. Scopes: private chats, groups, group admins."""
    menus: dict[tuple[str, str], list[MenuEntry]] = {}
    for language in translator.languages:
        lang = translator.for_language(language)
        for scope in SCOPES:
            entries: list[MenuEntry] = []
            seen: set[str] = set()
            for cmd in registry.unique():
                word = cmd.words[0]
                if not cmd.menu or word in seen:
                    continue
                # Menus are the same for everyone in a scope: no admin commands; lead
                # commands in private chats and for group admins (the AGs' leads).
                lead = scope != "group"
                if not offered(cmd, direct=scope == "direct", admin=False, lead=lead):
                    continue
                seen.add(word)
                entries.append(MenuEntry(word, lang.gettext(cmd.help)[:256]))
            menus[(scope, language)] = entries
    return menus
