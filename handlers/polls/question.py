"""Which words of a `/poll` are the question and which the answers, in the forms people
type them, and a question back where the words leave it open.

- Quoted: `/poll "Wann treffen wir uns?" "Di 18 Uhr" "Mi 19 Uhr"`; words before the first
  quote are the question (`/poll Wann treffen wir uns? "Di 18 Uhr" "Mi 19 Uhr"`).
- Lines: the first line is the question, each further line one answer (a leading `-`, `•`
  or `*` is a list bullet, not part of the answer).
- One line: the question ends with the first word ending in "?"; the answers after it are
  separated by commas, or without commas each word is one (`/poll Wann Plenum? Di Mi Do`)
  unless a number or a small word such as "der" or "Uhr" shows that answers have several
  words (`/poll Wo? Haus der Vereine Café Rosa`, `/poll Wann? Di 18 Uhr Mi 19 Uhr`): unclear.
  Without "?", commas separate the question and the answers (`/poll Essen, Pizza, Pasta`).
- Anything else of more than one word (`/poll Wann Plenum Di Mi Do`) is unclear: the
  answer asks how it was meant, with an example, instead of guessing.
"""

from __future__ import annotations

import re

from bot.context import Context, UserError
from bot.rich import code
from handlers.polls.args import EXAMPLE, PollArgs

_BULLET = re.compile(r"[-•*–]\s+")  # one match at the start of a line: linear


def question_and_options(ctx: Context, args: PollArgs) -> tuple[str, list[str]]:
    """The question and the answers as typed (cleaned and checked later)."""
    if not args.words:
        raise UserError(ctx.t("Die Umfrage braucht eine Frage."))
    if not args.all_bare:
        return _quoted(args)
    lines = _content_lines(args)
    if len(lines) > 1:
        return " ".join(lines[0]), [_unbullet(" ".join(line)) for line in lines[1:]]
    words = lines[0]
    for index, word in enumerate(words):
        if word.endswith("?"):
            answers = _answers(words[index + 1 :])
            if answers is not None:
                return " ".join(words[: index + 1]), answers
            break
    else:
        text = " ".join(words)
        if "," in text:
            first, *rest = _commas(text)
            return first, rest
        if len(words) == 1:
            return words[0], []
    raise UserError(
        ctx.t(
            "Wo hört die Frage auf? Schreib ein Fragezeichen dahinter und die Antworten "
            "danach, mit Kommas getrennt: {example}. Oder die Frage in die erste Zeile und "
            "jede Antwort in eine eigene Zeile.",
            example=code(ctx.cmd(ctx.lang.gettext(EXAMPLE))),
        )
    )


def _quoted(args: PollArgs) -> tuple[str, list[str]]:
    """Each quoted phrase is one item; bare words before the first quote, the question."""
    first_quoted = args.bare.index(False) if False in args.bare else len(args.words)
    if first_quoted == 0:
        return args.words[0], args.words[1:]
    return " ".join(args.words[:first_quoted]), args.words[first_quoted:]


def _content_lines(args: PollArgs) -> list[list[str]]:
    """The words that are not flags, line by line (empty lines left out). Without any
    quote the tokens are exactly the text's blank-separated words, in order."""
    wanted = set(args.at)
    lines: list[list[str]] = []
    index = 0
    for line in args.text.splitlines():
        words = []
        for word in line.split():
            if index in wanted:
                words.append(word)
            index += 1
        if words:
            lines.append(words)
    return lines


# Words that are never a whole answer on their own: they glue words of one answer.
_GLUE = frozenset(
    [
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einem",
        "einer",
        "am",
        "an",
        "auf",
        "aus",
        "bei",
        "im",
        "in",
        "mit",
        "nach",
        "von",
        "vor",
        "zu",
        "zum",
        "zur",
        "um",
        "uhr",
        "und",
        "oder",
        "the",
        "a",
        "an",
        "at",
        "on",
        "of",
        "in",
        "and",
        "or",
        "to",
        "pm",
    ]
)


def _answers(words: list[str]) -> list[str] | None:
    """The answers after the question; None where words without commas cannot each be
    one answer (a number, `der`, `Uhr`: answers of several words)."""
    text = " ".join(words)
    if "," in text:
        return _commas(text)
    if any(word.casefold() in _GLUE or any(ch.isdigit() for ch in word) for word in words):
        return None
    return words


def _commas(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _unbullet(line: str) -> str:
    bullet = _BULLET.match(line)
    return line[bullet.end() :] if bullet else line
