"""Reading what follows a meeting command: `--name value` options, the title and link,
the place, an AG named by the first word, a meeting's short id (`m12`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.commands import Converter
from bot.commands.convert import chat_ag, match_ag
from bot.context import Context, UserError
from bot.rich import code
from storage.meetings.models import MEETING_PLACE_MAX, MEETING_TITLE_MAX, MEETING_URL_MAX
from storage.models import Ag
from storage.text import visible

# Options and how many words each takes: 0, 1, "?" (one if it fits), "*" (up to the next option).
_OPTIONS: dict[str, int | str] = {
    "weekly": 0, "wöchentlich": 0, "woechentlich": 0,
    "every": 1, "alle": 1,
    "monthly": "?", "monatlich": "?",
    "until": 1, "bis": 1,
    "count": 1, "anzahl": 1, "mal": 1,
    "duration": 1, "dauer": 1,
    "place": "*", "ort": "*",
    "title": "*", "titel": "*",
    "all": 0, "alle-termine": 0, "serie": 0, "series": 0,
    "missed": 0, "verpasst": 0,
}  # fmt: skip
_CANONICAL = {
    "wöchentlich": "weekly", "woechentlich": "weekly", "alle": "every", "monatlich": "monthly",
    "bis": "until", "anzahl": "count", "mal": "count", "dauer": "duration", "ort": "place", "titel": "title",
    "alle-termine": "all", "serie": "all", "series": "all", "verpasst": "missed",
}  # fmt: skip
RECURRENCE = ("weekly", "every", "monthly", "until", "count")
_MONTHLY_VALUE = re.compile(
    r"^(-1|[1-4]|erste[rn]?|zweite[rn]?|dritte[rn]?|vierte[rn]?|letzte[rn]?|first|second|third|"
    r"fourth|last)\.?[a-zäöü]*$",
    re.I,
)
# Phones turn `--` into a dash; `—weekly` is meant as `--weekly`.
_DASHED = re.compile(r"^(?:--|—|–)(?=[a-zA-Zäöü])")
_WEEKS = re.compile(r"^(?:w|wo|wochen?|weeks?)\.?$", re.I)
_SHORT_ID = re.compile(r"^[#mM]?(\d{1,12})$")
_URL = re.compile(r"^https?://\S+$", re.I)


clean = visible  # one line of visible text (storage/text.py)


def split_options(ctx: Context, text: str) -> tuple[str, dict[str, str | None]]:
    """Cut `--name [value]` options out of the text; the rest keeps its order."""
    words = text.split()
    rest: list[str] = []
    options: dict[str, str | None] = {}
    i = 0
    while i < len(words):
        word = words[i]
        dashed = _DASHED.match(word)
        if not dashed:
            rest.append(word)
            i += 1
            continue
        name = word[dashed.end() :].lower()
        arity = _OPTIONS.get(name)
        if arity is None:
            raise UserError(ctx.t("Die Option {option} kenne ich nicht.", option=code("--" + name)))
        i += 1
        following: list[str] = []
        while i < len(words) and not _DASHED.match(words[i]):
            following.append(words[i])
            i += 1
        take = {0: 0, 1: 1, "?": 1 if following and _MONTHLY_VALUE.match(following[0]) else 0}
        count = len(following) if arity == "*" else take[arity]
        if name in ("every", "alle") and len(following) > 1 and _WEEKS.match(following[1]):
            count = 2  # `--alle 2 Wochen`, as people write it
        if arity == 1 and not following:
            raise UserError(ctx.t("Nach {option} fehlt der Wert.", option=code("--" + name)))
        options[_CANONICAL.get(name, name)] = " ".join(following[:count]) or None
        rest.extend(following[count:])
    return " ".join(rest), options


def title_and_url(ctx: Context, text: str) -> tuple[str, str]:
    """The title, with the first web link taken out of it as the meeting's link."""
    words, url = [], ""
    for word in text.split():
        if not url and _URL.match(word):
            url = word
        else:
            words.append(word)
    title = clean(" ".join(words))
    if len(title) > MEETING_TITLE_MAX:
        raise UserError(
            ctx.t("Der Titel ist zu lang (höchstens {max} Zeichen).", max=MEETING_TITLE_MAX)
        )
    if len(url) > MEETING_URL_MAX:
        raise UserError(
            ctx.t("Der Link ist zu lang (höchstens {max} Zeichen).", max=MEETING_URL_MAX)
        )
    return title, url


def checked_place(ctx: Context, value: str | None) -> str | None:
    if value is None:
        return None
    place = clean(value)
    if len(place) > MEETING_PLACE_MAX:
        raise UserError(
            ctx.t("Der Ort ist zu lang (höchstens {max} Zeichen).", max=MEETING_PLACE_MAX)
        )
    return place


async def split_ag(ctx: Context, text: str) -> tuple[Ag | None, str]:
    """An AG named by the first word (`ag2`, `AG 2`, `2`), else the chat's linked AG."""
    words = text.split()
    if words:
        ags = await ctx.services.ags.all()
        for used in (2, 1):
            if len(words) >= used and (used == 1 or words[0].lower() == "ag"):
                hits = match_ag(" ".join(words[:used]), ags)
                if len(hits) == 1 and (used == 2 or _looks_like_ag(words[0])):
                    return hits[0], " ".join(words[used:])
    return await chat_ag(ctx), text.strip()


def _looks_like_ag(word: str) -> bool:
    """A first word that names an AG, not a date: `ag2`, `transparenz` (never `3`)."""
    return not word.isdigit() and not re.match(r"^\d", word)


async def require_ag(ctx: Context, text: str, example: str) -> tuple[Ag, str]:
    ag, rest = await split_ag(ctx, text)
    if ag is None:
        raise UserError(
            ctx.t("Welche AG? Schreib sie dazu, z. B. {example}.", example=code(ctx.cmd(example)))
        )
    return ag, rest


def parse_id(ctx: Context, raw: str) -> int:
    match = _SHORT_ID.match(raw.strip())
    if not match:
        raise UserError(
            ctx.t(
                "„{raw}“ ist keine Kennung eines Treffens (z. B. {example}). {list} zeigt sie.",
                raw=raw[:40],
                example=code("m12"),
                list=code(ctx.cmd("meetings")),
            )
        )
    return int(match.group(1))


@dataclass(frozen=True)
class AgText:
    """A command's text with the AG it names first (or the chat's AG) taken out."""

    ag: Ag
    rest: str


def ag_text(example: str) -> Converter:
    """`convert=` of a text parameter that starts with an AG; `example` shows how, when
    there is none."""

    async def convert(ctx: Context, raw: str) -> AgText:
        ag, rest = await require_ag(ctx, raw, example)
        return AgText(ag, rest)

    return convert
