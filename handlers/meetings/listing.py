"""Looking at meetings: /meetings (also the missed reminders, for leads) and /ics."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import commands as c
from bot.commands import rights
from bot.commands.convert import convert_ag
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, bold, code, lines
from bot.when_text import format_duration, format_short
from handlers.meetings.args import split_ag, split_options
from handlers.meetings.ics import IcsEvent, calendar
from handlers.meetings.recurrence import Rule, describe
from handlers.meetings.text import answer_words, meeting_title, short_id
from storage import repo
from storage.meetings import occurrences as occ
from storage.meetings import reminders as rem
from storage.meetings import rsvps
from storage.meetings.models import Meeting, Occurrence, OccurrenceStatus, ReminderStatus
from storage.models import Ag

feature = c.Feature("meeting_list")

LIST_LIMIT = 20


async def _named(ctx: Context, spec: str | None) -> tuple[Ag | None, bool]:
    """The AG named, else the chat's AG; and whether `--missed` was asked for."""
    text, options = split_options(ctx, spec or "")
    if options.keys() - {"missed"}:
        raise UserError(ctx.t("Diese Option passt nicht zu {cmd}.", cmd=code(ctx.cmd("meetings"))))
    ag, rest = await split_ag(ctx, text)
    if rest:
        ag = await convert_ag(ctx, rest)  # raises with the list of valid AGs
    return ag, "missed" in options


async def _scope(ctx: Context, args: Mapping[str, Any]) -> Any:
    """An AG named (or the chat's): its followers may see its meetings. Without one the
    asker's own AGs are listed: no right needed."""
    ag, _missed = await _named(ctx, args.get("spec"))
    return ag if ag is not None else rights.OPEN


@feature.command(
    "meetings",
    help=N_(
        "Die nächsten Treffen deiner AGs oder einer AG (Leitung: --verpasst zeigt verpasste Erinnerungen)"
    ),
    params=(c.text("spec", N_("AG"), optional=True),),
    right=c.Right.FOLLOWER,
    scope=_scope,
    examples=("meetings", "meetings ag2", "meetings ag2 --verpasst"),
    aliases=("termine",),
)
async def list_meetings(ctx: Context, spec: str | None) -> None:
    ags, missed = await _asked(ctx, spec)
    if missed:
        await _missed(ctx, ags)
        return
    if not ags:
        raise UserError(
            ctx.t(
                "Du bist noch in keiner AG. {ags} zeigt alle AGs, {join} tritt einer bei.",
                ags=code(ctx.cmd("ags")),
                join=code(ctx.cmd("join ag2")),
            )
        )
    await ctx.reply(await upcoming_text(ctx, ags))


async def _asked(ctx: Context, spec: str | None) -> tuple[list[Ag], bool]:
    """The AG named or the chat's (the rights check let the asker see it), else the
    asker's AGs; and whether `--missed` was asked for."""
    ag, missed = await _named(ctx, spec)
    if ag is not None:
        return [ag], missed
    if ctx.person_id is None:
        return [], missed
    async with ctx.db.read() as session:
        memberships = await repo.memberships_of(session, ctx.person_id)
    return [a for a, _role in memberships if not a.archived], missed


async def upcoming_text(ctx: Context, ags: list[Ag]) -> Rich:
    now = ctx.services.now()
    async with ctx.db.read() as session:
        views = await occ.upcoming(session, [a.id for a in ags], now, limit=LIST_LIMIT)
        counts = await rsvps.rsvp_counts(session, [v.id for v in views])
    if not views:
        names = ", ".join(a.slug for a in ags)
        return ctx.t("Keine Treffen geplant ({ags}).", ags=names)
    rows: list[Rich] = [bold(ctx.t("Die nächsten Treffen:"))]
    for view in views:
        start = view.start.astimezone(ZoneInfo(view.meeting.timezone))
        row = (
            "• "
            + code(short_id(view.id))
            + " "
            + format_short(start, ctx.lang.code)
            + " – "
            + bold(meeting_title(ctx.lang, view.title))
            + f" ({view.ag.slug})"
        )
        if view.meeting.rrule:
            row += " · " + describe(Rule.from_rrule(view.meeting.rrule), ctx.lang.code)
        if yes := counts.get(view.id, 0):
            row += " · " + ctx.tn("{n} Zusage", "{n} Zusagen", yes)
        rows.append(row)
    example = ctx.cmd(f"rsvp {short_id(views[0].id)} {answer_words(ctx.lang)[0]}")
    rows.append(ctx.t("Zusagen mit {rsvp}.", rsvp=code(example)))
    return lines(*rows)


async def _missed(ctx: Context, ags: list[Ag]) -> None:
    """For leads: reminders that were not sent (bot down) or did not reach every chat."""
    mine = await rights.led(ctx, ags)
    if not mine:
        raise UserError(ctx.t("Verpasste Erinnerungen sehen nur die Leitung der AG und Admins."))
    async with ctx.db.read() as session:
        items = await rem.missed(session, [a.id for a in mine])
    if not items:
        await ctx.reply(ctx.t("Keine verpassten Erinnerungen."))
        return
    rows: list[Rich] = [bold(ctx.t("Verpasste Erinnerungen:"))]
    for item in items:
        view = item.view
        start = view.start.astimezone(ZoneInfo(view.meeting.timezone))
        offset = format_duration(timedelta(seconds=item.reminder.offset_seconds), ctx.lang.code)
        head = (
            "• "
            + code(short_id(view.id))
            + " "
            + bold(meeting_title(ctx.lang, view.title))
            + f" ({view.ag.slug}), "
            + format_short(start, ctx.lang.code)
            + ": "
        )
        if item.reminder.status == ReminderStatus.MISSED.value and item.total == item.undelivered:
            rows.append(
                head
                + ctx.t(
                    "Erinnerung {offset} vorher nicht gesendet – der Bot lief zur fälligen Zeit nicht, und danach hatte das Treffen schon begonnen.",
                    offset=offset,
                )
            )
        else:
            rows.append(
                head
                + ctx.t(
                    "Erinnerung {offset} vorher hat {n} von {total} Chats oder Personen nicht erreicht.",
                    offset=offset,
                    n=item.undelivered,
                    total=item.total,
                )
            )
    await ctx.reply(lines(*rows))


@feature.command(
    "ics",
    help=N_("Die Treffen einer AG als Kalenderdatei (.ics)"),
    params=(c.ag(from_chat=True),),
    right=c.Right.MEMBER,
    examples=("ics ag2",),
)
async def ics(ctx: Context, ag: Ag) -> None:
    if not ctx.transport.capabilities.files:
        await ctx.reply(
            lines(
                ctx.t("Hier kann ich keine Dateien schicken. Die Treffen als Liste:"),
                await upcoming_text(ctx, [ag]),
            )
        )
        return
    now = ctx.services.now()
    async with ctx.db.read() as session:
        meetings = await occ.active_meetings(session, ag.id)
        events: list[IcsEvent] = []
        for meeting in meetings:
            events += _events(ctx, ag, meeting, await occ.occurrences_of(session, meeting.id), now)
    data = calendar(events, name=f"{ag.name} ({ag.slug})", tz=ctx.services.settings.tz, now=now)
    caption = ctx.tn(
        "{n} Termin der AG {ag} zum Importieren in deinen Kalender.",
        "{n} Termine der AG {ag} zum Importieren in deinen Kalender.",
        len(events),
        ag=ag.name,
    )
    key = f"ics:{ctx.chat.key}:{ctx.message.message_id}" if ctx.message.message_id else None
    ctx.replies.append(
        await ctx.transport.send_file(
            ctx.chat, f"{ag.slug}.ics", data, "text/calendar", caption, key=key
        )
    )


def _events(
    ctx: Context, ag: Ag, meeting: Meeting, occurrences: list[Occurrence], now: datetime
) -> list[IcsEvent]:
    """The meeting (a series with its rule and the dates taken out of it) and, for each
    moved or renamed occurrence, an event of its own."""
    tz = ZoneInfo(meeting.timezone)
    length = timedelta(minutes=meeting.duration_minutes)
    description = ctx.t("AG {ag}", ag=ag.name).plain
    title = meeting_title(ctx.lang, meeting.title)
    future = [o for o in occurrences if o.start_at > now]

    def single(uid: str, o: Occurrence) -> IcsEvent:
        start = o.start_at.astimezone(tz)
        return IcsEvent(
            uid, start, start + length, o.title or title, description, meeting.place,
            meeting.url, sequence=o.revision,
        )  # fmt: skip

    if not meeting.rrule:
        live = [o for o in future if o.status == OccurrenceStatus.SCHEDULED.value]
        return [single(f"meeting-{meeting.id}@buendnisbot", o) for o in live]
    rule = Rule.from_rrule(meeting.rrule, tz)
    special = [
        o
        for o in occurrences
        if o.status == OccurrenceStatus.CANCELLED.value
        or o.start_at != o.original_start
        or o.title is not None
    ]
    out = [
        IcsEvent(
            f"meeting-{meeting.id}@buendnisbot",
            meeting.start_at.astimezone(tz),
            meeting.start_at.astimezone(tz) + length,
            title,
            description,
            meeting.place,
            meeting.url,
            rule=rule,
            exdates=[o.original_start.astimezone(tz) for o in special],
        )
    ]
    for o in special:
        if o.status == OccurrenceStatus.SCHEDULED.value and o.start_at > now:
            out.append(single(f"occurrence-{o.id}@buendnisbot", o))
    return out
