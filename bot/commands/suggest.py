"""Which command someone probably meant when they typed one that does not exist.

In a private chat any close word is offered. In a group the unknown command may belong
to another bot (`/roll`, `/remindme`, `/stat`), so only an unmistakable miss is answered:
two neighbouring letters swapped, one letter too many, too few or wrong in a word of five
or more letters, or the same German word stem with another ending (`/termin` for
`/termine`, `/abstimmung` for `/abstimmen`) - and only when no second command is as close.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Endings German words of the same stem differ by (`ergebnis`/`ergebnisse`).
_ENDINGS = frozenset({"", "e", "n", "en", "s", "se", "es", "er", "ung", "ungen"})
_STEM_MIN = 5
# Commands of other common group bots that are one typo away from ours (`/status` and
# `/state` from `/stats`): never answered in a group.
_OTHER_BOTS = frozenset({"status", "state", "note", "notes", "links", "pool", "rolls"})


def suggest(word: str, known: Iterable[str], *, group: bool) -> str | None:
    """The known command word `word` was probably meant as, or None."""
    word = word.lower()
    names = sorted(set(known))
    close = difflib.get_close_matches(word, names, n=3, cutoff=0.75)
    if not close:
        return None
    if not group:
        return close[0]
    if word in _OTHER_BOTS:
        return None
    plain = [name for name in names if _one_typo(word, name)]
    if len(plain) == 1:
        return plain[0]
    if plain:
        return None  # `/stat`: `/stats` or `/start`? Perhaps neither: stay quiet
    stems = [name for name in close if _same_stem(word, name)]
    return stems[0] if stems else None


def _one_typo(typed: str, name: str) -> bool:
    """Two neighbouring letters swapped; or, in words of five letters or more, one
    letter inserted, dropped or replaced."""
    if typed == name:
        return False
    if len(typed) == len(name):
        diff = [i for i, (a, b) in enumerate(zip(typed, name, strict=True)) if a != b]
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            return typed[diff[0]] == name[diff[1]] and typed[diff[1]] == name[diff[0]]
        return len(diff) == 1 and len(name) >= _STEM_MIN
    short, long_ = sorted((typed, name), key=len)
    if len(long_) - len(short) != 1 or len(short) < _STEM_MIN - 1:
        return False
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _same_stem(typed: str, name: str) -> bool:
    """One stem of at least five letters, different endings (`abstimm|ung`, `abstimm|en`)."""
    common = 0
    for a, b in zip(typed, name, strict=False):
        if a != b:
            break
        common += 1
    return (
        common >= _STEM_MIN
        and typed[common:] in _ENDINGS
        and name[common:] in _ENDINGS
        and typed != name
    )
