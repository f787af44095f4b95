"""Every user-facing text in the code has an English translation with the same
placeholders, and the reader's language is used."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.i18n import Translator, load_catalog

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"t": None, "tn": (1, 2), "N_": None, "_": None}


def _code_messages() -> list[str | tuple[str, str]]:
    found: list[str | tuple[str, str]] = []
    for folder in ("bot", "handlers", "storage"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, tuple):
                found.append((message[0], message[1]))
            elif message:
                found.append(message)
    return found


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_the_code_has_messages_to_translate() -> None:
    assert len(_code_messages()) > 50


def test_every_message_has_an_english_translation_with_the_same_placeholders() -> None:
    catalog = load_catalog("en")
    missing, broken = [], []
    for message in _code_messages():
        if isinstance(message, tuple):
            forms = catalog.plural.get(message)
            if not forms or not all(forms):
                missing.append(message)
            elif any(_placeholders(f) != _placeholders(message[1]) for f in forms):
                broken.append(message)
            continue
        translated = catalog.singular.get(message)
        if not translated:
            missing.append(message)
        elif _placeholders(translated) != _placeholders(message):
            broken.append(message)
    assert not missing, f"untranslated (run `make i18n` and fill bot/locale/en): {missing}"
    assert not broken, f"placeholders differ: {broken}"


def test_german_is_the_source_and_english_is_loaded() -> None:
    translator = Translator()
    assert translator.languages == ["de", "en"]
    de = translator.for_language("de")
    en = translator.for_language("en")
    assert de.t("Es gibt noch keine AGs.").plain == "Es gibt noch keine AGs."
    assert en.t("Es gibt noch keine AGs.").plain == "There are no AGs yet."
    assert en.tn("{n} Mitglied", "{n} Mitglieder", 1).plain == "1 member"
    assert en.tn("{n} Mitglied", "{n} Mitglieder", 3).plain == "3 members"
    assert de.tn("{n} Mitglied", "{n} Mitglieder", 3).plain == "3 Mitglieder"
    # An unknown language falls back to German rather than failing.
    assert translator.for_language("xx").code == "de"


_MARKED = re.compile(r"""\bN_\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*\)""")


def test_every_marked_text_is_seen_by_the_extractor() -> None:
    """Babel's extractor skips an N_() nested in the arguments of a ctx.t() call; its
    text then drops out of the catalogue at the next `make i18n` and the reply falls back
    to German. A marked text has to stand where the extractor sees it (its own line)."""
    seen = {m if isinstance(m, str) else m[0] for m in _code_messages()}
    unseen = []
    for folder in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for literal in _MARKED.findall(path.read_text(encoding="utf-8")):
                text = ast.literal_eval(literal)
                if text not in seen:
                    unseen.append(f"{path.relative_to(ROOT)}: {text}")
    assert not unseen, unseen
