"""What a name or title the bot stores or shows may contain: the one cleaning function for
display names, chat titles, AG names, poll questions and answers, meeting titles and places,
and card fields.

Removed: control characters (Unicode category Cc; NUL cannot even be stored in PostgreSQL)
and format characters (Cf): the right-to-left override U+202E and the other bidi controls
(U+202A-U+202E, U+2066-U+2069, U+200E/U+200F) that make a name read backwards or drag the
text after it along; zero-width spaces and joiners (U+200B-U+200D, U+2060, U+FEFF) that
make two names that look the same differ; soft hyphens; tag characters.

Kept: everything visible, umlauts and emoji included, and the zero-width joiner U+200D
where it glues two emoji into one (👩‍💻, 🏳️‍🌈): between an emoji (a symbol, a skin tone or
the emoji variation selector) and a symbol. Anywhere else it is dropped. Emoji flags made
of tag characters (England, Scotland, Wales) lose their tags and show as a black flag: a
small loss for not letting invisible text through. Unassigned code points stay (emoji
newer than Python's Unicode tables are unassigned to it).

Blanks: runs of white space become one space, the ends are trimmed; with `multiline`,
line breaks are kept (at most one empty line in a row).
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"
_EMOJI_VARIATION = "\ufe0f"
_SKIN_TONES = range(0x1F3FB, 0x1F400)


def visible(value: str, *, multiline: bool = False) -> str:
    """`value` without control and format characters, blanks squashed (see above)."""
    value = unicodedata.normalize("NFC", value)
    kept: list[str] = []
    for index, ch in enumerate(value):
        if ch == "\n" and multiline:
            kept.append(ch)
        elif ch in "\t\r\n\v\f":
            kept.append(" ")
        elif ch == ZWJ:
            after = value[index + 1 : index + 2]
            if kept and _emoji(kept[-1]) and after and unicodedata.category(after) == "So":
                kept.append(ch)
        elif unicodedata.category(ch) not in ("Cc", "Cf"):
            kept.append(ch)
    if not multiline:
        return " ".join("".join(kept).split())
    out = "\n".join(" ".join(line.split()) for line in "".join(kept).split("\n"))
    while "\n\n\n" in out:
        out = out.replace("\n\n\n", "\n\n")
    return out.strip()


def _emoji(ch: str) -> bool:
    return ch == _EMOJI_VARIATION or ord(ch) in _SKIN_TONES or unicodedata.category(ch) == "So"
