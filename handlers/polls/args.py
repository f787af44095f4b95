"""Reading `/poll "Frage?" "A" "B" --multi --anonymous --until 05.12.2026 18:00 --ag ag2`
and checking a poll against the networks' limits before anything is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.commands.tokens import tokenize
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import code
from bot.when import MAX_AHEAD, WhenError, parse_duration, read_when
from storage.polls.models import OPTION_MAX, OPTIONS_MAX, OPTIONS_MIN, QUESTION_MAX
from storage.text import visible

# Phones turn `--` into an en or em dash.
_UNTIL_EXAMPLE = N_("--until Freitag 18 Uhr")
_FLAG = re.compile(r"^(?:--|—|–)(\w[\w-]*)$")
FLAGS = {
    "multi": "multi",
    "mehrfach": "multi",
    "anonymous": "anonymous",
    "anonym": "anonymous",
    "until": "until",
    "bis": "until",
    "for": "for",
    "für": "for",
    "dauer": "for",
    "ag": "ag",
}
# The example of the forms `/poll` reads, in the reader's language.
EXAMPLE = N_("poll Wann treffen wir uns? Di 18 Uhr, Mi 19 Uhr")
MIN_DURATION = timedelta(minutes=1)
END_OF_DAY = time(23, 59)  # `--until Freitag`: until Friday is over


@dataclass
class PollArgs:
    words: list[str] = field(default_factory=list)  # the question and the options
    # Read by handlers/polls/question.py: whether each word was typed without quotes, its
    # index among all tokens (flags included), whether no token at all was quoted.
    bare: list[bool] = field(default_factory=list)
    at: list[int] = field(default_factory=list)
    all_bare: bool = True
    text: str = ""
    multi: bool = False
    anonymous: bool = False
    closes_at: datetime | None = None
    ag: str | None = None


def parse(ctx: Context, text: str) -> PollArgs:
    """Split the words from the options; a time after `--until`/`--for` is read here."""
    tokens = tokenize(text)
    args = PollArgs(text=text, all_bare=all(token.bare for token in tokens))
    i = 0
    while i < len(tokens):
        value, bare = tokens[i]
        flag = _FLAG.match(value) if bare else None
        if flag is None:
            args.words.append(value)
            args.bare.append(bare)
            args.at.append(i)
            i += 1
            continue
        name = FLAGS.get(flag.group(1).lower())
        i += 1
        values: list[str] = []
        while name in ("until", "for", "ag") and i < len(tokens):
            nxt, nxt_bare = tokens[i]
            if nxt_bare and _FLAG.match(nxt):
                break
            values.append(nxt)
            i += 1
            if name == "ag":
                break
        if name is None:
            raise UserError(
                ctx.t(
                    "Die Angabe {flag} kenne ich nicht. Möglich sind {flags}.",
                    flag=code(value[:30]),
                    flags=code("--multi --anonymous --until --for --ag"),
                )
            )
        if name == "multi":
            args.multi = True
        elif name == "anonymous":
            args.anonymous = True
        elif name == "ag":
            if not values:
                raise UserError(
                    ctx.t(
                        "Nach {flag} fehlt die AG, z. B. {example}.",
                        flag=code("--ag"),
                        example=code("--ag ag2"),
                    )
                )
            args.ag = values[0]
        else:
            if args.closes_at is not None:
                raise UserError(
                    ctx.t(
                        "Bitte nur eins: {until} oder {for_}.",
                        until=code("--until"),
                        for_=code("--for"),
                    )
                )
            start = i - len(values)
            taken, args.closes_at = _deadline_prefix(ctx, name, values)
            i = start + taken  # words after the deadline are the question and answers
    return args


def _deadline_prefix(ctx: Context, kind: str, values: list[str]) -> tuple[int, datetime]:
    """How many of `values` are the deadline, and the deadline. `/poll --until Freitag
    Wann? Di, Mi`: the date reader reads `Freitag` and leaves `Wann? Di, Mi`, which are
    the question and answers again. Anything else wrong after `--until` is refused."""
    raw = " ".join(values)
    try:
        return len(values), read_deadline(ctx, kind, raw)
    except UserError as refused:
        taken = _date_words(ctx, values) if kind == "until" else 0
        if not taken:
            raise refused from None
    return taken, read_deadline(ctx, kind, " ".join(values[:taken]))


def _date_words(ctx: Context, values: list[str]) -> int:
    """How many of the single words `values` the date reader reads as one point in time
    followed by other words (0: not so)."""
    if any(len(value.split()) != 1 for value in values):
        return 0
    services = ctx.services
    try:
        found = read_when(
            " ".join(values), now=services.now(), tz=services.settings.tz, default_time=END_OF_DAY
        )
    except WhenError:
        return 0
    left = found.rest.split()
    taken = len(values) - len(left)
    if found.end is not None or not left or taken <= 0 or values[taken:] != left:
        return 0
    return taken


def read_deadline(ctx: Context, kind: str, raw: str) -> datetime:
    """`--until 05.12.2026 18:00`, `--until Freitag 18 Uhr` (read as meetings read dates; a
    day alone is until its end, 23:59) or `--for 3d`."""
    now = ctx.services.now()
    tz = ctx.services.settings.tz
    if kind == "for":
        try:
            duration = parse_duration(raw)
        except WhenError:
            duration = timedelta(0)
        if not MIN_DURATION <= duration <= MAX_AHEAD:
            raise UserError(
                ctx.t(
                    "Die Dauer „{raw}“ verstehe ich nicht. Beispiele: {examples}.",
                    raw=raw[:30],
                    examples=code("--for 3d")
                    + ", "
                    + code("--for 12h")
                    + ", "
                    + code("--for 2 Tage"),
                )
            )
        return now + duration
    try:
        found = read_when(raw, now=now, tz=tz, default_time=END_OF_DAY)
    except WhenError as exc:
        raise UserError(exc.message(ctx.lang)) from None
    if found.end is not None:
        raise UserError(
            ctx.t(
                "Nach {flag} bitte nur ein Zeitpunkt, kein Zeitraum. Beispiel: {example}.",
                flag=code("--until"),
                example=code(ctx.lang.gettext(_UNTIL_EXAMPLE)),
            )
        )
    when, rest = found.start, found.rest
    if rest.strip():
        raise UserError(
            ctx.t(
                "Nach {flag} verstehe ich „{rest}“ nicht. Beispiel: {example}.",
                flag=code("--until"),
                rest=rest[:40],
                example=code("--until 05.12.2026 18:00"),
            )
        )
    return when


clean = visible  # one line of visible text; HTML stays text, the transports escape it


def checked(ctx: Context, question: str, options: list[str]) -> tuple[str, list[str]]:
    """The cleaned question and options, or a UserError naming the first broken limit.

    The limits are the strictest of the networks (Telegram), so one poll fits all chats.
    """
    question = clean(question)
    options = [clean(o) for o in options]
    if not question:
        raise UserError(ctx.t("Die Umfrage braucht eine Frage."))
    if len(question) > QUESTION_MAX:
        raise UserError(
            ctx.t(
                "Die Frage ist {n} Zeichen lang; erlaubt sind höchstens {max}.",
                n=len(question),
                max=QUESTION_MAX,
            )
        )
    if len(options) < OPTIONS_MIN:
        raise UserError(
            ctx.t(
                "Eine Umfrage braucht mindestens {min} Antworten. Beispiel: {example}",
                min=OPTIONS_MIN,
                example=code(ctx.example(EXAMPLE)),
            )
        )
    if len(options) > OPTIONS_MAX:
        raise UserError(
            ctx.t(
                "Das sind {n} Antworten; Telegram erlaubt höchstens {max}.",
                n=len(options),
                max=OPTIONS_MAX,
            )
        )
    for number, option in enumerate(options, 1):
        if not option:
            raise UserError(ctx.t("Antwort {number} ist leer.", number=number))
        if len(option) > OPTION_MAX:
            raise UserError(
                ctx.t(
                    "Antwort {number} ist {n} Zeichen lang; erlaubt sind höchstens {max}.",
                    number=number,
                    n=len(option),
                    max=OPTION_MAX,
                )
            )
    seen: dict[str, int] = {}
    for number, option in enumerate(options, 1):
        key = option.casefold()
        if key in seen:
            raise UserError(
                ctx.t(
                    "Antwort {number} ist dieselbe wie Antwort {first}: „{option}“. Jede Antwort nur einmal, bitte.",
                    number=number,
                    first=seen[key],
                    option=option,
                )
            )
        seen[key] = number
    return question, options
