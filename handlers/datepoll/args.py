"""Reading `/terminumfrage ag2 "Plenum im Januar" 12.1. 19 Uhr; 13.1. 18:30 --ort …`
and the answers of `/termin k3f7 1 ja 2 nein 3 vielleicht`.

Dates are read by bot/when.py as /meeting reads them, one per `;` (or line); a range gives
the length, else the meeting default. Each error names the date it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, code
from bot.when import WhenError, read_when
from handlers.datepoll.render import ANSWER_EXAMPLE
from handlers.meetings.args import checked_place, clean, require_ag
from handlers.meetings.text import DEFAULT_MINUTES
from handlers.polls.args import read_deadline
from storage.datepoll.models import OPTIONS_MAX, OPTIONS_MIN, TITLE_MAX, URL_MAX, Answer
from storage.datepoll.polls import Proposed
from storage.models import Ag

EXAMPLE = N_('datepoll ag2 "Plenum im Januar" 12.1. 19 Uhr; 13.1. 18:30')
_DATE_EXAMPLE = N_("12.1. 19 Uhr")
MAX_MINUTES = 24 * 60
# Phones turn `--` into a dash; `—ort` is meant as `--ort`.
_OPTION = re.compile(r"(?:^|\s)(?:--|—|–)(ort|place|link|url|bis|until)(?=\s|$)", re.I)
_CANONICAL = {"place": "ort", "url": "link", "until": "bis"}
_TITLE = re.compile(r'^\s*["„“”»«]([^"„“”»«]+)["“”«»]\s*(.*)$', re.S)
_URL = re.compile(r"^https?://\S+$", re.I)


@dataclass(frozen=True)
class Draft:
    """A Terminumfrage as typed, checked, not yet stored."""

    ag: Ag
    title: str
    dates: list[Proposed]
    place: str
    url: str
    closes_at: datetime | None


async def read_draft(ctx: Context, raw: str) -> Draft:
    """`convert=` of `/terminumfrage`'s text (the AG first, so rights can be checked)."""
    ag, rest = await require_ag(ctx, raw, ctx.lang.gettext(EXAMPLE))
    rest, options = _split_options(ctx, rest)
    title_match = _TITLE.match(rest)
    if title_match is None or not clean(title_match.group(1)):
        raise UserError(
            ctx.t(
                "Schreib den Titel in Anführungszeichen vor die Termine, z. B. {example}.",
                example=code(ctx.example(EXAMPLE)),
            )
        )
    title = clean(title_match.group(1))
    if len(title) > TITLE_MAX:
        raise UserError(ctx.t("Der Titel ist zu lang (höchstens {max} Zeichen).", max=TITLE_MAX))
    url = options.get("link", "")
    if url and (not _URL.match(url) or len(url) > URL_MAX):
        raise UserError(ctx.t("Nach {flag} bitte einen Link (https://…).", flag=code("--link")))
    closes_at = read_deadline(ctx, "until", options["bis"]) if "bis" in options else None
    dates = read_dates(ctx, title_match.group(2))
    if closes_at is not None and closes_at >= max(date.start for date in dates):
        # Answers (and the nudge a day before) after every date would come too late.
        raise UserError(
            ctx.t("Die Frist ({flag}) muss vor dem letzten Termin liegen.", flag=code("--bis"))
        )
    return Draft(ag, title, dates, checked_place(ctx, options.get("ort")) or "", url, closes_at)


def _split_options(ctx: Context, text: str) -> tuple[str, dict[str, str]]:
    """Cut `--ort …`, `--link …`, `--bis …` out; each takes the words up to the next."""
    found = list(_OPTION.finditer(text))
    if not found:
        return text, {}
    options: dict[str, str] = {}
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        name = match.group(1).lower()
        value = text[match.end() : end].strip()
        if not value:
            raise UserError(ctx.t("Nach {option} fehlt der Wert.", option=code("--" + name)))
        options[_CANONICAL.get(name, name)] = value
    return text[: found[0].start()], options


def read_dates(ctx: Context, text: str) -> list[Proposed]:
    """The dates, separated by `;` or lines; 2 to 15, each in the future, none twice."""
    parts = [p.strip() for p in re.split(r"[;\n]", text) if p.strip()]
    if len(parts) < OPTIONS_MIN:
        raise UserError(
            ctx.t(
                "Bitte mindestens {min} Termine, getrennt mit „;“, z. B. {example}.",
                min=OPTIONS_MIN,
                example=code(ctx.example(EXAMPLE)),
            )
        )
    if len(parts) > OPTIONS_MAX:
        raise UserError(
            ctx.t(
                "Höchstens {max} Termine, du hast {n} geschrieben.", max=OPTIONS_MAX, n=len(parts)
            )
        )
    now, tz = ctx.services.now(), ctx.services.settings.tz
    dates: list[Proposed] = []
    for number, part in enumerate(parts, 1):
        try:
            found = read_when(part, now=now, tz=tz)
        except WhenError as exc:
            raise UserError(
                ctx.t("Termin {n} („{text}“): ", n=number, text=part[:40]) + exc.message(ctx.lang)
            ) from None
        if found.rest.strip():
            raise UserError(
                ctx.t(
                    "Termin {n}: „{rest}“ verstehe ich nicht. Nur Datum und Uhrzeit, z. B. {example}.",
                    n=number,
                    rest=found.rest.strip()[:40],
                    example=code(ctx.lang.gettext(_DATE_EXAMPLE)),
                )
            )
        minutes = DEFAULT_MINUTES
        if found.end is not None:
            minutes = int(
                (found.end.astimezone(UTC) - found.start.astimezone(UTC)).total_seconds() // 60
            )
        if not 5 <= minutes <= MAX_MINUTES:
            raise UserError(
                ctx.t("Termin {n}: Ein Treffen dauert zwischen 5 Minuten und 24 Stunden.", n=number)
            )
        for earlier, date in enumerate(dates, 1):
            if date.start == found.start:
                raise UserError(
                    ctx.t(
                        "Termin {n} ist derselbe wie Termin {earlier}.", n=number, earlier=earlier
                    )
                )
        dates.append(Proposed(found.start, minutes))
    return dates


# --- answers ----------------------------------------------------------------------------

_WORDS = {
    **dict.fromkeys(("ja", "j", "yes", "y", "+"), Answer.YES),
    **dict.fromkeys(
        ("vielleicht", "maybe", "?", "wenn-nötig", "wenn-noetig", "evtl", "if-need-be"),
        Answer.MAYBE,
    ),
    **dict.fromkeys(("nein", "n", "no", "-"), Answer.NO),
}
_WENN_NOETIG = re.compile(r"\bwenn\s+n(?:ö|oe)tig\b")
_IF_NEED_BE = re.compile(r"\bif\s+need\s+be\b")
_NUMBERS = re.compile(r"^\d{1,2}(?:,\d{1,2})*$")


def read_answers(ctx: Context, text: str, count: int) -> dict[int, Answer]:
    """`1 ja 2 nein 3 wenn nötig`, `1,2 ja 3 ?`, `alle ja`: position (0-based) -> answer."""
    joined = _WENN_NOETIG.sub("wenn-nötig", text.lower())
    words = _IF_NEED_BE.sub("if-need-be", joined).split()
    answers: dict[int, Answer] = {}
    pending: list[int] = []
    for word in words:
        if word in ("alle", "all"):
            pending = list(range(1, count + 1))
        elif _NUMBERS.match(word):
            for number in (int(n) for n in word.split(",")):
                if not 1 <= number <= count:
                    raise UserError(
                        ctx.t(
                            "Einen Termin {n} gibt es nicht; die Terminumfrage hat {count}.",
                            n=number,
                            count=count,
                        )
                    )
                pending.append(number)
        elif word in _WORDS:
            if not pending:
                raise UserError(_how(ctx))
            for number in pending:
                answers[number - 1] = _WORDS[word]
            pending = []
        else:
            raise UserError(ctx.t("„{word}“ verstehe ich nicht.", word=word[:30]) + " " + _how(ctx))
    if pending:
        raise UserError(
            ctx.t(
                "Zu Termin {n} fehlt die Antwort: ja, wenn nötig oder nein.",
                n=", ".join(str(n) for n in pending),
            )
        )
    return answers


def _how(ctx: Context) -> Rich:
    return ctx.t(
        "Schreib je Termin die Nummer und ja, wenn nötig oder nein, z. B. {example}.",
        example=code(ctx.lang.gettext(ANSWER_EXAMPLE)),
    )
