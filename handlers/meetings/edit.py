"""Moving and renaming meetings: /edit (for AG leads and admins).

A new time moves the reminders along (the old ones are cancelled, new ones planned) and
tells the AG's chats; a time alone keeps the meeting's day, text without a date is a
new title.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import commands as c
from bot.context import Context, UserError
from bot.i18n import N_, Lang
from bot.rich import Rich, bold, code, join
from bot.when import WEEKDAYS, WhenError, parse_when
from bot.when_text import format_full
from handlers.meetings.args import checked_place, split_options, title_and_url
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

_DAY_WORDS = {"heute", "today", "morgen", "tomorrow", "übermorgen", "uebermorgen", "am", "on"}
_TIME_FIRST = re.compile(r"^\s*\d{1,2}(?::\d{2})?(?:\s*uhr|h\d{0,2}|\s*[ap]\.?m\.?)?(?=\s|$)", re.I)


@feature.command(
    "edit",
    help=N_("Ein Treffen verschieben oder umbenennen (die Erinnerungen ziehen mit)"),
    params=(
        c.word("id", N_("Kennung"), convert=meeting_ref),
        c.text("change", N_("neues Datum, Uhrzeit und/oder Titel")),
    ),
    right=c.Right.LEAD,
    scope=meeting_ag,
    examples=("edit m12 04.12.2026 19:00", "edit m12 19:30", N_("edit m12 Plenum mit Gästen")),
    aliases=("ändern", "verschieben"),
)
async def edit(ctx: Context, id: MeetingRef, change: str) -> None:
    view = await id.load(ctx)
    text, options = split_options(ctx, change)
    if options.keys() - {"all", "place"}:
        raise UserError(ctx.t("Diese Option passt nicht zu {cmd}.", cmd=code(ctx.cmd("edit"))))
    series = "all" in options and view.meeting.rrule is not None
    now = ctx.services.now()
    if view.cancelled or view.meeting.status == MeetingStatus.CANCELLED.value:
        raise UserError(ctx.t("{id} ist abgesagt.", id=code(short_id(view.id))))
    if view.start <= now:
        raise UserError(
            ctx.t("{id} hat schon begonnen oder ist vorbei.", id=code(short_id(view.id)))
        )
    new_start, rest = _new_start(ctx, text, local(view), now)
    if new_start is not None and series:
        raise UserError(
            ctx.t(
                "Eine ganze Reihe verschiebe ich nicht. Sag sie mit {cancel} ab und plane sie neu.",
                cancel=code(ctx.cmd(f"cancel {short_id(view.id)} --all")),
            )
        )
    title, url = title_and_url(ctx, rest)
    place = checked_place(ctx, options.get("place"))
    if new_start is None and not title and not url and place is None:
        raise UserError(
            ctx.t("So geht's: {usage}", usage=code(ctx.cmd("edit m12 19:30 Neuer Titel")))
        )
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


def _new_start(
    ctx: Context, text: str, current: datetime, now: datetime
) -> tuple[datetime | None, str]:
    """The new start, if the text begins with one, and the rest (a new title).

    A time alone (`19:30`) keeps the meeting's day; text without a date is a title only.
    """
    tz = current.tzinfo
    assert isinstance(tz, ZoneInfo)
    try:
        if (m := _TIME_FIRST.match(text)) and not _day_follows(text[m.end() :]):
            midnight = current.replace(hour=0, minute=0, second=0, microsecond=0)
            start, rest = parse_when(text, now=midnight, tz=tz, allow_past=True)
            if start <= now:
                raise WhenError("past", when=start, suggestion=start + timedelta(days=1))
        else:
            start, rest = parse_when(text, now=now, tz=tz)
    except WhenError as exc:
        if exc.code == "unparsable" and exc.reason == "" and not text[:1].isdigit():
            return None, text
        raise UserError(exc.message(ctx.lang)) from None
    return start.astimezone(UTC), rest


def _day_follows(rest: str) -> bool:
    words = rest.split()
    if not words:
        return False
    first = words[0].lower().rstrip(".,")
    return first in _DAY_WORDS or first in WEEKDAYS or first[:1].isdigit()
