"""Command menus for networks that show them (Telegram's "/" menu), per scope and
language, generated from the command declarations."""

from __future__ import annotations

from bot.commands import Registry, Right, Where
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
                if not cmd.menu or word in seen or cmd.right is Right.ADMIN:
                    continue
                if scope == "direct" and cmd.where is Where.GROUP:
                    continue
                if scope != "direct" and cmd.where is Where.DIRECT:
                    continue
                if scope == "group" and cmd.right is Right.LEAD:
                    continue
                seen.add(word)
                entries.append(MenuEntry(word, lang.gettext(cmd.help)[:256]))
            menus[(scope, language)] = entries
    return menus
