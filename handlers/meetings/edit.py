"""Moving and renaming meetings: /edit (for AG leads and admins).

A new time moves the reminders along (the old ones are cancelled, new ones planned) and
tells the AG's chats; a time alone keeps the meeting's day. A new title is given with
`--titel` (or quoted, or as plain words that cannot be a date); text that starts like a
date but cannot be read is refused, never taken as the title.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import commands as c
from bot.commands.tokens import unquote
from bot.context import Context, UserError
from bot.i18n import N_, Lang
from bot.rich import Rich, bold, code, join
from bot.when import WEEKDAYS, WhenError, read_when
from bot.when_text import format_full, format_time
from handlers.meetings.args import checked_place, split_options, title_and_url
from handlers.meetings.rule_errors import flag
from handlers.meetings.service import (
    MeetingRef,
    linked_chats,
    meeting_ag,
    meeting_ref,
    tell_chats,
)
from handlers.meetings.service import (
    edit as edit_occurrence,
)
from handlers.meetings.text import local, meeting_title, short_id
from storage.meetings.models import MeetingStatus
from storage.meetings.plans import Change

feature = c.Feature("meeting_edit")

# First words that say "a date or time follows": such text is never taken as a title.
_DATE_WORDS = frozenset(
    [
        "heute",
        "morgen",
        "übermorgen",
        "uebermorgen",
        "gestern",
        "vorgestern",
        "nächste",
        "nächsten",
        "nächster",
        "nächstes",
        "naechste",
        "naechsten",
        "kommende",
        "kommenden",
        "kommender",
        "kommendes",
        "diese",
        "diesen",
        "dieser",
        "dieses",
        "am",
        "um",
        "ab",
        "bis",
        "ende",
        "anfang",
        "mitte",
        "woche",
        "wochenende",
        "abend",
        "abends",
        "morgens",
        "mittags",
        "nachmittags",
        "vormittags",
        "uhr",
        "today",
        "tomorrow",
        "yesterday",
        "tonight",
        "next",
        "this",
        "coming",
        "on",
        "at",
        "januar",
        "jan",
        "februar",
        "feb",
        "märz",
        "mär",
        "maerz",
        "april",
        "apr",
        "mai",
        "juni",
        "jun",
        "juli",
        "jul",
        "august",
        "aug",
        "september",
        "sep",
        "sept",
        "oktober",
        "okt",
        "november",
        "nov",
        "dezember",
        "dez",
        "january",
        "february",
        "march",
        "may",
        "june",
        "july",
        "october",
        "december",
    ]
)
_WEEKDAY_START = re.compile(
    "(" + "|".join(sorted((w for w in WEEKDAYS if len(w) > 3), key=len, reverse=True)) + ")",
    re.I,
)
_IN_AMOUNT = re.compile(r"^in\s+(\d|ein|eine|einer|zwei|drei|vier|a\s|an\s|one|two|three)", re.I)
_TIME_FIRST = re.compile(r"^\s*\d{1,2}(?::\d{2})?(?:\s*uhr|h\d{0,2}|\s*[ap]\.?m\.?)?(?=\s|$)", re.I)


@feature.command(
    "edit",
    help=N_("Ein Treffen verschieben oder umbenennen (die Erinnerungen ziehen mit)"),
    params=(
        c.word("id", N_("Kennung"), convert=meeting_ref),
        c.text("change", N_("neue Zeit und/oder --titel, --ort, Link")),
    ),
    right=c.Right.LEAD,
    scope=meeting_ag,
    examples=(
        "edit m12 04.12.2026 19:00",
        "edit m12 19:30",
        N_("edit m12 --titel Plenum mit Gästen"),
        N_("edit m12 --ort Haus der Vereine"),
    ),
    aliases=("ändern", "verschieben"),
)
async def edit(ctx: Context, id: MeetingRef, change: str) -> None:
    view = await id.load(ctx)
    text, options = split_options(ctx, change)
    if options.keys() - {"all", "place", "title"}:
        raise UserError(ctx.t("Diese Option passt nicht zu {cmd}.", cmd=code(ctx.cmd("edit"))))
    series = "all" in options and view.meeting.rrule is not None
    now = ctx.services.now()
    if view.cancelled or view.meeting.status == MeetingStatus.CANCELLED.value:
        raise UserError(ctx.t("{id} ist abgesagt.", id=code(short_id(view.id))))
    if view.start <= now:
        raise UserError(
            ctx.t("{id} hat schon begonnen oder ist vorbei.", id=code(short_id(view.id)))
        )
    quoted = unquote(text)
    if quoted != text:
        new_start, rest = None, quoted  # `/edit m1 "Treffen am Montag"`: a title, said so
    else:
        new_start, rest = _new_start(ctx, text, local(view), now, short_id(view.id))
    if new_start == view.start:
        new_start = None  # the same time again: nothing moves
    if new_start is not None and series:
        raise UserError(
            ctx.t(
                "Eine ganze Reihe verschiebe ich nicht. Sag sie mit {cancel} ab und plane sie neu.",
                cancel=code(ctx.cmd(f"cancel {short_id(view.id)} {flag(ctx.lang.code, 'all')}")),
            )
        )
    title, url = title_and_url(ctx, rest)
    if "title" in options:
        if title:
            raise UserError(_usage(ctx, view.id))
        title = title_and_url(ctx, options["title"] or "")[0]
        if not title:
            raise UserError(_usage(ctx, view.id))
    place = checked_place(ctx, options.get("place"))
    if new_start is None and not title and not url and place is None:
        if text.strip():
            raise UserError(
                ctx.t(
                    "{id} liegt schon am {when}; ich habe nichts geändert.",
                    id=code(short_id(view.id)),
                    when=format_full(local(view), ctx.lang.code),
                )
            )
        raise UserError(_usage(ctx, view.id))
    await edit_occurrence(ctx, view, Change(new_start, title, url, place, series), now)
    shown = meeting_title(ctx.lang, title or view.title)
    when = new_start.astimezone(ZoneInfo(view.meeting.timezone)) if new_start else local(view)
    rows: list[Rich] = [
        ctx.t(
            "Geändert: {title} ({id}), {when}.",
            title=bold(shown),
            id=code(short_id(view.id)),
            when=format_full(when, ctx.lang.code),
        )
    ]
    if place:
        rows.append(ctx.t("Ort: {place}", place=place) + ".")
    if new_start is not None:
        rows.append(ctx.t("Die Erinnerungen kommen zur neuen Zeit."))
    await ctx.reply(join(rows, " "))
    if new_start is None:
        return
    old = local(view)

    def text_for(lang: Lang, _prefix: str, _buttons: bool) -> Rich:
        return "🔁 " + lang.t(
            "Verschoben: {title} (AG {ag}) ist jetzt am {when} (statt {old}).",
            title=bold(meeting_title(lang, title or view.title)),
            ag=view.ag.name,
            when=format_full(when, lang.code),
            old=format_full(old, lang.code),
        )

    await tell_chats(
        ctx,
        await linked_chats(ctx, view.ag),
        f"move:{view.id}:{view.occurrence.revision + 1}",
        text_for,
    )


def _usage(ctx: Context, occurrence_id: int) -> Rich:
    short = short_id(occurrence_id)
    return ctx.t(
        "So geht's: {time}, {title} oder {place}.",
        time=code(ctx.cmd(f"edit {short} 19:30")),
        title=code(ctx.cmd(f"edit {short} {flag(ctx.lang.code, 'title')} {_new_title(ctx)}")),
        place=code(ctx.cmd(f"edit {short} {flag(ctx.lang.code, 'place')} Haus der Vereine")),
    )


# Refusals of text that may have been meant as a title: they get the `--titel` hint.
_UNPLACED = frozenset({"", "week_day", "missing_time", "twice", "too_many"})


def _new_title(ctx: Context) -> str:
    return ctx.lang.gettext("Neuer Titel")


def _new_start(
    ctx: Context, text: str, current: datetime, now: datetime, short: str
) -> tuple[datetime | None, str]:
    """The new start, if the text begins with one, and the rest (a new title).

    A time alone (`19:30`) keeps the meeting's day. Text that starts like a date or time
    but cannot be read is refused (never taken as the title); other plain words are a
    title, as before `--titel` existed.
    """
    if not text.strip():
        return None, ""
    tz = current.tzinfo
    assert isinstance(tz, ZoneInfo)
    try:
        if (m := _TIME_FIRST.match(text)) and not _day_follows(text[m.end() :]):
            midnight = current.replace(hour=0, minute=0, second=0, microsecond=0)
            found = read_when(text, now=midnight, tz=tz, allow_past=True)
            if found.start <= now:
                raise WhenError(
                    "past", when=found.start, suggestion=found.start + timedelta(days=1)
                )
        else:
            found = read_when(text, now=now, tz=tz)
    except WhenError as exc:
        unparsable = exc.code == "unparsable"
        if unparsable and not exc.reason and not looks_like_date(text):
            return None, text
        if not unparsable or exc.reason not in _UNPLACED:
            raise UserError(exc.message(ctx.lang)) from None
        hint = ctx.t(
            "Nur den Titel ändern: {example}.",
            example=code(ctx.cmd(f"edit {short} {flag(ctx.lang.code, 'title')} {_new_title(ctx)}")),
        )
        raise UserError(join([exc.message(ctx.lang), hint], " ")) from None
    if found.end is not None:
        raise UserError(
            ctx.t(
                "Mit {cmd} verschiebe ich nur den Beginn; die Dauer bleibt. "
                "Schreib nur die neue Anfangszeit, z. B. {example}.",
                cmd=code(ctx.cmd("edit")),
                example=code(ctx.cmd(f"edit {short} {format_time(found.start)}")),
            )
        )
    start, rest = found.start, found.rest
    return start.astimezone(UTC), rest


def looks_like_date(text: str) -> bool:
    """Whether `text` starts like a date or time (`nächste Woche`, `gestern 18 Uhr`,
    `Montagabend`, `in 2 Wochen`, `3.12.`), so that it is no title."""
    words = text.split()
    if not words:
        return False
    first = words[0].lower().strip(".,;:")
    return (
        first[:1].isdigit()
        or first in _DATE_WORDS
        or first in WEEKDAYS
        or _WEEKDAY_START.match(first) is not None
        or _IN_AMOUNT.match(text.strip()) is not None
    )


def _day_follows(rest: str) -> bool:
    words = rest.split()
    if not words:
        return False
    first = words[0].lower().rstrip(".,")
    return first in _DAY_WORDS or first in WEEKDAYS or first[:1].isdigit()


_DAY_WORDS = {"heute", "today", "morgen", "tomorrow", "übermorgen", "uebermorgen", "am", "on"}
