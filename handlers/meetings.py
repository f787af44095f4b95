"""Planning meetings: /meeting, /cancel, /edit (for AG leads and admins).

Every answer repeats the date written out in full in the reader's language, so a misread
date is seen at once; the AG's chats are told about new, moved and cancelled meetings.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.lists import format_list
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands as c
from bot.context import Context, UserError
from bot.i18n import N_, Lang
from bot.recurrence import Rule, describe, parse_rule
from bot.rich import Rich, bold, code, join
from bot.when import WEEKDAYS, WhenError, format_duration, format_full, parse_duration, parse_when
from handlers.meeting_common import (
    RECURRENCE,
    LinkedChat,
    checked_place,
    engine,
    linked_chats,
    load_occurrence,
    local,
    meeting_tz,
    reply_with_buttons,
    require_ag,
    require_lead,
    short_id,
    split_options,
    title_and_url,
)
from handlers.meeting_text import announcement, meeting_title, rsvp_buttons
from handlers.registry import commands
from storage import meetings_repo as mrepo
from storage.meeting_models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus

log = logging.getLogger(__name__)

DEFAULT_DURATION = timedelta(hours=1)
MAX_DURATION = timedelta(hours=24)
_DAY_WORDS = {"heute", "today", "morgen", "tomorrow", "übermorgen", "uebermorgen", "am", "on"}
_TIME_FIRST = re.compile(r"^\s*\d{1,2}(?::\d{2})?(?:\s*uhr|h\d{0,2}|\s*[ap]\.?m\.?)?(?=\s|$)", re.I)


def _when_error(ctx: Context, exc: WhenError) -> UserError:
    return UserError(exc.message(ctx.lang))


def offsets_text(lang: Lang, offsets: list[timedelta]) -> str:
    """`1 Tag und 1 Stunde` / `1 day and 1 hour`."""
    locale = "de" if lang.code == "de" else "en"
    return format_list([format_duration(o, lang.code) for o in offsets], locale=locale)


@commands.command(
    "meeting",
    help=N_("Ein Treffen planen, auch wiederkehrend"),
    params=(c.text("spec", N_("AG Datum Uhrzeit Titel [Link]")),),
    right=c.Right.LEAD,
    needs_person=True,
    examples=(
        "meeting ag2 03.12.2026 18:00 Online-Treffen https://meet.example/ag2",
        "meeting ag2 Di 18:00 Plenum --weekly --until 31.03.2027",
        "meeting ag1 05.01.2027 19 Uhr Stammtisch --monthly 1Di --ort Haus der Vereine",
    ),
    aliases=("treffen",),
)
async def plan(ctx: Context, spec: str) -> None:
    ag, rest = await require_ag(ctx, spec, "meeting ag2 03.12.2026 18:00 Plenum")
    await require_lead(ctx, ag)
    text, options = split_options(ctx, rest)
    if {"all", "missed"} & options.keys():
        raise UserError(ctx.t("Diese Option passt nicht zu {cmd}.", cmd=code(ctx.cmd("meeting"))))
    tz, now = meeting_tz(ctx), ctx.services.now()
    try:
        start, after_date = parse_when(text, now=now, tz=tz)
        flags = {k: v for k, v in options.items() if k in RECURRENCE}
        rule = parse_rule(flags, start=start, tz=tz)
        duration = parse_duration(options["duration"] or "") if "duration" in options else None
    except WhenError as exc:
        raise _when_error(ctx, exc) from None
    duration = duration or DEFAULT_DURATION
    if not timedelta(minutes=5) <= duration <= MAX_DURATION:
        raise UserError(ctx.t("Ein Treffen dauert zwischen 5 Minuten und 24 Stunden."))
    title, url = title_and_url(ctx, after_date)
    place = checked_place(ctx, options.get("place")) or ""
    person_id = await ctx.ensure_person()
    reminders = engine(ctx.services)

    async def work(session: AsyncSession) -> tuple[int, mrepo.ReminderChanges, list[timedelta]]:
        meeting = Meeting(
            ag_id=ag.id,
            title=title,
            place=place,
            url=url,
            timezone=tz.key,
            start_at=start.astimezone(UTC),
            duration_minutes=int(duration.total_seconds() // 60),
            rrule=rule.to_rrule() if rule else None,
            status=MeetingStatus.ACTIVE.value,
            created_by=person_id,
        )
        session.add(meeting)
        await session.flush()
        new, changes = await reminders.materialise(session, meeting, now)
        return new[0].id, changes, await reminders.offsets_for(session, ag.id)

    occurrence_id, changes, offsets = await ctx.db.run(work)
    reminders.apply(changes)
    repeat = describe(rule, ctx.lang.code) if rule else None

    def text_for(lang: Lang, prefix: str, buttons: bool) -> Rich:
        return announcement(
            lang,
            prefix,
            occurrence_id=occurrence_id,
            title=title,
            ag_name=ag.name,
            start=start,
            repeat=describe(rule, lang.code) if rule else None,
            place=place,
            url=url,
            buttons=buttons,
        )

    can_button = ctx.transport.capabilities.buttons
    hints = ctx.t(
        "Erinnerungen: {offsets} vorher. Ändern mit {edit}, absagen mit {cancel}.",
        offsets=offsets_text(ctx.lang, offsets),
        edit=code(ctx.cmd(f"edit {short_id(occurrence_id)} …")),
        cancel=code(ctx.cmd(f"cancel {short_id(occurrence_id)}")),
    )
    message = text_for(ctx.lang, ctx.cmd(""), can_button) + "\n" + hints
    await reply_with_buttons(ctx, message, rsvp_buttons(ctx.lang, occurrence_id))
    log.info("meeting m%d planned in AG %s (%s)", occurrence_id, ag.slug, repeat or "once")
    await _tell_chats(
        ctx,
        await linked_chats(ctx, ag),
        f"announce:{occurrence_id}",
        text_for,
        occurrence_id,
    )


async def _tell_chats(
    ctx: Context,
    chats: list[LinkedChat],
    key: str,
    text_for: Callable[[Lang, str, bool], Rich],
    occurrence_id: int | None = None,
) -> None:
    """Post to the AG's other chats, each in its language; a failing chat is only logged."""
    services = ctx.services

    async def one(linked: LinkedChat) -> None:
        transport = services.transports[linked.chat.platform]
        lang = services.translator.for_language(linked.language)
        prefix = getattr(transport, "command_prefix", "/")
        send_buttons = getattr(transport, "send_with_buttons", None)
        buttons = bool(occurrence_id and send_buttons and transport.capabilities.buttons)
        message = text_for(lang, prefix, buttons)
        chat_key = f"{key}:{linked.chat.key}"
        if buttons and send_buttons is not None and occurrence_id is not None:
            await send_buttons(
                linked.chat, message, rsvp_buttons(lang, occurrence_id), key=chat_key
            )
        else:
            await transport.send(linked.chat, message, key=chat_key)

    results = await asyncio.gather(*(one(x) for x in chats), return_exceptions=True)
    for linked, result in zip(chats, results, strict=True):
        if isinstance(result, Exception):
            log.warning("could not tell %s: %r", linked.chat.key, result)


@commands.command(
    "cancel",
    help=N_("Ein Treffen absagen (mit --all die ganze Reihe)"),
    params=(c.word("id", N_("Kennung")), c.text("options", N_("--all"), optional=True)),
    right=c.Right.LEAD,
    examples=("cancel m12", "cancel m12 --all"),
    aliases=("absagen",),
)
async def cancel(ctx: Context, id: str, options: str | None) -> None:
    view = await load_occurrence(ctx, id)
    await require_lead(ctx, view.ag)
    leftover, opts = split_options(ctx, options or "")
    if leftover or opts.keys() - {"all"}:
        raise UserError(ctx.t("So geht's: {usage}", usage=code(ctx.cmd("cancel m12 [--all]"))))
    series = "all" in opts and view.meeting.rrule is not None
    now = ctx.services.now()
    if view.meeting.status == MeetingStatus.CANCELLED.value or (view.cancelled and not series):
        raise UserError(ctx.t("{id} ist schon abgesagt.", id=code(short_id(view.id))))
    if not series and view.start <= now:
        raise UserError(
            ctx.t("{id} hat schon begonnen oder ist vorbei.", id=code(short_id(view.id)))
        )

    async def work(session: AsyncSession) -> tuple[mrepo.ReminderChanges, int]:
        meeting = await session.get(Meeting, view.meeting.id)
        occurrence = await session.get(Occurrence, view.id)
        assert meeting is not None and occurrence is not None
        if series or meeting.rrule is None:
            meeting.status = MeetingStatus.CANCELLED.value
        targets = (
            await mrepo.future_occurrences(session, now, meeting_id=meeting.id)
            if series
            else [occurrence]
        )
        for each in targets:
            each.status = OccurrenceStatus.CANCELLED.value
        withdrawn = await mrepo.withdraw_reminders(session, [o.id for o in targets])
        return mrepo.ReminderChanges([], withdrawn), len(targets)

    changes, count = await ctx.db.run(work)
    engine(ctx.services).apply(changes)
    rule = Rule.from_rrule(view.meeting.rrule) if view.meeting.rrule else None

    def text_for(lang: Lang, _prefix: str, _buttons: bool) -> Rich:
        title = bold(meeting_title(lang, view.title))
        if series and rule is not None:
            return "❌ " + lang.t(
                "Die Reihe {title} ({repeat}) der AG {ag} ist abgesagt: keine weiteren Termine.",
                title=title,
                repeat=describe(rule, lang.code),
                ag=view.ag.name,
            )
        return "❌ " + lang.t(
            "Abgesagt: {title} (AG {ag}) am {when}.",
            title=title,
            ag=view.ag.name,
            when=format_full(local(view), lang.code),
        )

    message = text_for(ctx.lang, "", False)
    if series:
        message += " " + ctx.tn(
            "({n} geplanter Termin abgesagt.)", "({n} geplante Termine abgesagt.)", count
        )
    await ctx.reply(message)
    await _tell_chats(ctx, await linked_chats(ctx, view.ag), f"cancel:{view.id}", text_for)


@commands.command(
    "edit",
    help=N_("Ein Treffen verschieben oder umbenennen (die Erinnerungen ziehen mit)"),
    params=(
        c.word("id", N_("Kennung")),
        c.text("change", N_("neues Datum, Uhrzeit und/oder Titel")),
    ),
    right=c.Right.LEAD,
    examples=("edit m12 04.12.2026 19:00", "edit m12 19:30", "edit m12 Plenum mit Gästen"),
    aliases=("ändern", "verschieben"),
)
async def edit(ctx: Context, id: str, change: str) -> None:
    view = await load_occurrence(ctx, id)
    await require_lead(ctx, view.ag)
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
    reminders = engine(ctx.services)

    async def work(session: AsyncSession) -> mrepo.ReminderChanges:
        meeting = await session.get(Meeting, view.meeting.id)
        occurrence = await session.get(Occurrence, view.id)
        assert meeting is not None and occurrence is not None
        changes = mrepo.no_changes()
        if new_start is not None:
            changes.withdrawn += await mrepo.withdraw_reminders(session, [occurrence.id])
            occurrence.start_at, occurrence.revision = new_start, occurrence.revision + 1
            if meeting.rrule is None:
                meeting.start_at = new_start
            offsets = await reminders.offsets_for(session, meeting.ag_id)
            changes += await mrepo.sync_reminders(session, occurrence, offsets, now)
        if title and (series or meeting.rrule is None):
            meeting.title, occurrence.title = title, None
        elif title:
            occurrence.title = title
        if url:
            meeting.url = url
        if place is not None:
            meeting.place = place
        return changes

    reminders.apply(await ctx.db.run(work))
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

    await _tell_chats(
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
        raise _when_error(ctx, exc) from None
    return start.astimezone(UTC), rest


def _day_follows(rest: str) -> bool:
    words = rest.split()
    if not words:
        return False
    first = words[0].lower().rstrip(".,")
    return first in _DAY_WORDS or first in WEEKDAYS or first[:1].isdigit()
