"""Planning meetings: /meeting and /cancel (for AG leads and admins; /edit is in edit.py).

Every answer repeats the date written out in full in the reader's language, so a misread
date is seen at once; the AG's chats are told about new, moved and cancelled meetings.
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

from bot import commands as c
from bot.commands import rights
from bot.context import Context, UserError
from bot.i18n import N_, Lang
from bot.rich import Rich, bold, code
from bot.when import WhenError, parse_duration
from bot.when_text import format_full, format_time
from handlers.meetings import duplicate
from handlers.meetings.args import (
    RECURRENCE,
    AgText,
    checked_place,
    split_options,
    title_and_url,
)
from handlers.meetings.recurrence import Rule, describe
from handlers.meetings.rule_errors import flag
from handlers.meetings.service import (
    MeetingRef,
    linked_chats,
    meeting_ag,
    meeting_ref,
    meeting_tz,
    tell_chats,
)
from handlers.meetings.service import (
    cancel as cancel_occurrences,
)
from handlers.meetings.service import (
    plan as plan_meeting,
)
from handlers.meetings.text import (
    announcement,
    local,
    meeting_title,
    offsets_text,
    rsvp_buttons,
    short_id,
    shown_end,
)
from handlers.meetings.words import read_start
from storage.meetings.models import Meeting, MeetingStatus

_DURATION = N_("--dauer")  # the option as the reader types it

feature = c.Feature("meetings")

log = logging.getLogger(__name__)

DEFAULT_DURATION = timedelta(hours=1)
MAX_DURATION = timedelta(hours=24)


def _when_error(ctx: Context, exc: WhenError) -> UserError:
    return UserError(exc.message(ctx.lang))


@feature.command(
    "meeting",
    help=N_("Ein Treffen planen, auch wiederkehrend"),
    params=(
        c.Param(
            "spec",
            c.Kind.TEXT,
            N_("AG Datum Uhrzeit Titel [Link]"),
            convert=duplicate.meeting_spec("meeting ag2 03.12.2026 18:00 Plenum"),
        ),
    ),
    right=c.Right.LEAD,
    scope=rights.arg("spec", lambda spec: spec.ag),
    needs_person=True,
    examples=(
        N_("meeting ag2 03.12.2026 18:00 Online-Treffen https://meet.example/ag2"),
        N_("meeting ag2 jeden Dienstag 18 Uhr Plenum bis 31.03.2027"),
        N_("meeting ag1 jeden ersten Dienstag im Monat 19 Uhr Stammtisch --ort Haus der Vereine"),
    ),
    aliases=("treffen",),
)
async def plan(ctx: Context, spec: AgText) -> None:
    if duplicate.is_answer(spec.rest) and duplicate.waiting(ctx) is not None:
        await _answered(ctx, spec.rest.strip().lower() in duplicate.YES)
        return
    ag = spec.ag
    text, options = split_options(ctx, spec.rest)
    if {"all", "missed", "title"} & options.keys():
        raise UserError(ctx.t("Diese Option passt nicht zu {cmd}.", cmd=code(ctx.cmd("meeting"))))
    tz, now = meeting_tz(ctx), ctx.services.now()
    try:
        flags = {k: v for k, v in options.items() if k in RECURRENCE}
        found, rule = read_start(text, flags, now=now, tz=tz)
        start, after_date = found.start, found.rest
        duration = parse_duration(options["duration"] or "") if "duration" in options else None
    except WhenError as exc:
        raise _when_error(ctx, exc) from None
    if found.end is not None:
        if duration is not None:
            raise UserError(
                ctx.t(
                    "Bitte nur eins: das Ende ({range}) oder {option}.",
                    range=code(format_time(start) + "–" + format_time(found.end)),
                    option=code(ctx.lang.gettext(_DURATION)),
                )
            )
        duration = found.end.astimezone(UTC) - start.astimezone(UTC)
    duration = duration or DEFAULT_DURATION
    if not timedelta(minutes=5) <= duration <= MAX_DURATION:
        raise UserError(ctx.t("Ein Treffen dauert zwischen 5 Minuten und 24 Stunden."))
    title, url = title_and_url(ctx, after_date)
    place = checked_place(ctx, options.get("place")) or ""
    draft = duplicate.Draft(ag, title, place, url, tz, start, duration, rule)
    if (same := await duplicate.same_meeting(ctx, draft)) is not None:
        await duplicate.ask(ctx, draft, same)
        return
    await _create(ctx, draft)


async def _answered(ctx: Context, yes: bool) -> None:
    """`/meeting ja|nein` or a button under the question about a second meeting."""
    draft = duplicate.take(ctx)
    if draft is None:
        await ctx.reply(duplicate.nothing_waiting(ctx))
    elif yes:
        await _create(ctx, draft)
    else:
        await ctx.reply(duplicate.declined(ctx))


@feature.button(duplicate.BUTTON)
async def duplicate_button(ctx: Context, data: str) -> str | None:
    """`mdup:yes|no`, under the question whether to plan a second, equal meeting; only
    the person who was asked can answer."""
    if duplicate.waiting(ctx) is None:
        raise UserError(duplicate.nothing_waiting(ctx))
    await _answered(ctx, data.endswith(":yes"))
    return None


async def _create(ctx: Context, draft: duplicate.Draft) -> None:
    ag, title, place, url, start, rule = (
        draft.ag,
        draft.title,
        draft.place,
        draft.url,
        draft.start,
        draft.rule,
    )
    minutes = int(draft.duration.total_seconds() // 60)
    person_id = await ctx.ensure_person()
    now = ctx.services.now()

    def make() -> Meeting:
        return Meeting(
            ag_id=ag.id,
            title=title,
            place=place,
            url=url,
            timezone=draft.tz.key,
            start_at=start.astimezone(UTC),
            duration_minutes=minutes,
            rrule=rule.to_rrule() if rule else None,
            status=MeetingStatus.ACTIVE.value,
            created_by=person_id,
        )

    planned = await plan_meeting(ctx, make, now)
    occurrence_id = planned.occurrence_id
    repeat = describe(rule, ctx.lang.code) if rule else None

    def text_for(lang: Lang, prefix: str, buttons: bool) -> Rich:
        return announcement(
            lang,
            prefix,
            occurrence_id=occurrence_id,
            title=title,
            ag_name=ag.name,
            start=start,
            end=shown_end(start, minutes),
            repeat=describe(rule, lang.code) if rule else None,
            place=place,
            url=url,
            buttons=buttons,
        )

    can_button = ctx.transport.capabilities.buttons
    hints = ctx.t(
        "Erinnerungen: {offsets} vorher. Ändern mit {edit}, absagen mit {cancel}.",
        offsets=offsets_text(ctx.lang, planned.offsets),
        edit=code(ctx.cmd(f"edit {short_id(occurrence_id)} …")),
        cancel=code(ctx.cmd(f"cancel {short_id(occurrence_id)}")),
    )
    message = text_for(ctx.lang, ctx.cmd(""), can_button) + "\n" + hints
    await ctx.reply_with_buttons(message, rsvp_buttons(ctx.lang, occurrence_id))
    log.info("meeting m%d planned in AG %s (%s)", occurrence_id, ag.slug, repeat or "once")
    await tell_chats(
        ctx,
        await linked_chats(ctx, ag),
        f"announce:{occurrence_id}",
        text_for,
        occurrence_id,
    )


@feature.command(
    "cancel",
    help=N_("Ein Treffen absagen (mit --serie die ganze Reihe)"),
    params=(
        c.word("id", N_("Kennung"), convert=meeting_ref),
        c.text("options", N_("--serie"), optional=True),
    ),
    right=c.Right.LEAD,
    scope=meeting_ag,
    examples=("cancel m12", "cancel m12 --serie"),
    aliases=("absagen",),
)
async def cancel(ctx: Context, id: MeetingRef, options: str | None) -> None:
    view = await id.load(ctx)
    leftover, opts = split_options(ctx, options or "")
    if leftover or opts.keys() - {"all"}:
        raise UserError(
            ctx.t(
                "So geht's: {usage}",
                usage=code(ctx.cmd(f"cancel m12 [{flag(ctx.lang.code, 'all')}]")),
            )
        )
    series = "all" in opts and view.meeting.rrule is not None
    now = ctx.services.now()
    if view.meeting.status == MeetingStatus.CANCELLED.value or (view.cancelled and not series):
        raise UserError(ctx.t("{id} ist schon abgesagt.", id=code(short_id(view.id))))
    if not series and view.start <= now:
        raise UserError(
            ctx.t("{id} hat schon begonnen oder ist vorbei.", id=code(short_id(view.id)))
        )
    count = await cancel_occurrences(ctx, view, now, series=series)
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
    await tell_chats(ctx, await linked_chats(ctx, view.ag), f"cancel:{view.id}", text_for)
