"""Translations: German source strings, gettext catalogs (.po) per further language.

Messages are written in German in the code (the alliance's language) and marked with
`_`/`N_`/`t`/`tn` so that `pybabel extract` finds them; `bot/locale/<lang>/LC_MESSAGES/
buendnisbot.po` holds the translations. Placeholders (`{ag}`) are filled with `Rich`
values or plain strings, so user data is never mixed into markup.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from babel.messages.pofile import read_po

from bot.rich import Rich, as_rich

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "buendnisbot"
SOURCE_LANGUAGE = "de"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where the reader is known."""
    return message


@dataclass(frozen=True)
class Catalog:
    language: str
    # Read-only: one parsed catalog is shared by every App of the process.
    singular: Mapping[str, str]
    plural: Mapping[tuple[str, str], tuple[str, ...]]

    def gettext(self, message: str) -> str:
        return self.singular.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self.plural.get((singular, plural))
        # German and English share the plural rule n != 1.
        index = 0 if n == 1 else 1
        if forms and len(forms) > index and forms[index]:
            return forms[index]
        return singular if n == 1 else plural


def load_catalog(language: str) -> Catalog:
    if language == SOURCE_LANGUAGE:
        return Catalog(language, MappingProxyType({}), MappingProxyType({}))
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    # Parsing the .po file takes ~20 ms; every App (one per test, too) reads the same
    # files. Keyed by the file's change time, so an edited catalog is read again.
    return _parse(language, path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _parse(language: str, path: Path, _mtime_ns: int) -> Catalog:
    with path.open("rb") as fh:
        po = read_po(fh, locale=language)
    singular: dict[str, str] = {}
    plural: dict[tuple[str, str], tuple[str, ...]] = {}
    for msg in po:
        if not msg.id or msg.fuzzy:
            continue
        if isinstance(msg.id, tuple | list):
            plural[(msg.id[0], msg.id[1])] = tuple(msg.string or ())
        elif isinstance(msg.string, str) and msg.string:
            singular[msg.id] = msg.string
    return Catalog(language, MappingProxyType(singular), MappingProxyType(plural))


def available_languages() -> list[str]:
    found = [p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").exists()]
    return sorted({SOURCE_LANGUAGE, *found})


def fill(template: str, values: dict[str, Rich | str | int]) -> Rich:
    """Substitute `{name}` placeholders; unknown placeholders stay visible, never crash."""
    out = Rich()
    pos = 0
    for match in _PLACEHOLDER.finditer(template):
        out += template[pos : match.start()]
        key = match.group(1)
        value = values.get(key)
        out += (
            match.group(0)
            if value is None
            else as_rich(str(value) if isinstance(value, int) else value)
        )
        pos = match.end()
    return out + template[pos:]


class Translator:
    """All catalogs, loaded once at start-up."""

    def __init__(self, languages: list[str] | None = None) -> None:
        self.catalogs = {lang: load_catalog(lang) for lang in (languages or available_languages())}

    @property
    def languages(self) -> list[str]:
        return sorted(self.catalogs)

    def supports(self, language: str) -> bool:
        return language in self.catalogs

    def for_language(self, language: str) -> Lang:
        return Lang(self.catalogs.get(language) or self.catalogs[SOURCE_LANGUAGE])


@dataclass(frozen=True)
class Lang:
    """Translation functions bound to one reader's language."""

    catalog: Catalog

    @property
    def code(self) -> str:
        return self.catalog.language

    def gettext(self, message: str) -> str:
        return self.catalog.gettext(message)

    def t(self, message: str, **values: Rich | str | int) -> Rich:
        return fill(self.catalog.gettext(message), values)

    def tn(self, singular: str, plural: str, n: int, **values: Rich | str | int) -> Rich:
        return fill(self.catalog.ngettext(singular, plural, n), {"n": n, **values})
