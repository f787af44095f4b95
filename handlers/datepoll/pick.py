"""`/festlegen k3f7 2` (`/pick`): the lead picks a date of a Terminumfrage. It becomes a
meeting of the AG with the AG's reminder offsets,
those who said ja / wenn nötig are put down as "Dabei" / "Vielleicht", and the AG's
chats get the announcement. A date nobody said ja or wenn nötig to is asked back first:
the lead confirms with `ja` after the number (a confirmation that survives a restart).
Taking the poll, planning the meeting and recording the pick are one transaction, so a
crash in between leaves the poll open (never "being decided" for good)."""

from __future__ import annotations

import logging
from datetime import UTC
from zoneinfo import ZoneInfo

from bot import commands as c
from bot.context import Context, UserError
from bot.core import ChatRef
from bot.i18n import N_, Lang
from bot.outbox import Audience
from bot.rich import Rich, bold, code, lines
from bot.when_text import format_span
from handlers.datepoll import live
from handlers.datepoll.files import send_pick_files
from handlers.datepoll.notify import tell_members
from handlers.datepoll.render import counts, option_start
from handlers.datepoll.service import Loaded, current, decided, load, refuse_if_archived, scope
from handlers.meetings.duplicate import YES
from handlers.meetings.series import HORIZON, default_offsets, scheduler, starts_between
from handlers.meetings.service import linked_chats, tell_chats
from handlers.meetings.text import announcement, offsets_text, rsvp_buttons, shown_end
from storage.datepoll import pick as picking
from storage.datepoll.models import DatePollStatus
from storage.meetings.models import Meeting, MeetingStatus
from storage.meetings.occurrences import occurrence_view

feature = c.Feature("datepoll-pick")
_YES = N_("ja")

log = logging.getLogger(__name__)


@feature.command(
    "pick",
    help=N_("Termin einer Terminumfrage festlegen"),
    params=(
        c.word("poll", N_("Terminumfrage"), convert=load),
        c.word("number", N_("Nummer")),
        c.word("confirm", N_("ja"), optional=True),
    ),
    right=c.Right.LEAD,
    scope=scope,
    needs_person=True,
    examples=("pick k3f7 2",),
    aliases=("festlegen",),
)
async def pick(ctx: Context, poll: Loaded, number: str, confirm: str | None) -> None:
    view, _ = await current(ctx, poll.poll.id)
    if view.poll.status == DatePollStatus.PICKED.value:
        raise UserError(decided(ctx, view.poll))
    refuse_if_archived(ctx, view.poll, poll.ag)
    if not number.isdecimal() or not 1 <= int(number) <= len(view.options):
        raise UserError(
            ctx.t(
                "Welcher Termin? Eine Nummer von 1 bis {count}, z. B. {example}.",
                count=len(view.options),
                example=code(ctx.cmd(f"festlegen {view.poll.short_id} 1")),
            )
        )
    option = view.options[int(number) - 1]
    start = option_start(view, option)
    if start <= ctx.services.now():
        raise UserError(ctx.t("Termin {n} hat schon begonnen oder ist vorbei.", n=number))
    tally = counts(view, option.position)
    if tally["yes"] + tally["maybe"] == 0 and (confirm or "").lower() not in YES:
        await ctx.reply(
            lines(
                bold(
                    ctx.t(
                        "Zu Termin {n} hat niemand ja oder wenn nötig gesagt. Trotzdem festlegen?",
                        n=number,
                    )
                ),
                ctx.t(
                    "Dann schreib {command}.",
                    command=code(
                        ctx.cmd(f"festlegen {view.poll.short_id} {number} {ctx.lang.gettext(_YES)}")
                    ),
                ),
            )
        )
        return
    person_id = await ctx.ensure_person()
    now = ctx.services.now()
    tz = ZoneInfo(view.poll.timezone)

    def make() -> Meeting:
        return Meeting(
            ag_id=poll.ag.id,
            title=view.poll.title,
            place=view.poll.place,
            url=view.poll.url,
            timezone=tz.key,
            start_at=start.astimezone(UTC),
            duration_minutes=option.duration_minutes,
            rrule=None,
            status=MeetingStatus.ACTIVE.value,
            created_by=person_id,
        )

    # The picker asking privately has the announcement already, as the reply.
    skip = {person_id} if ctx.chat.is_direct else set()
    offsets = default_offsets(ctx.services)
    # One transaction: a crash anywhere leaves the poll open, never "being decided".
    decision = await ctx.db.run(
        lambda s: picking.decide(
            s,
            view.poll.id,
            option.position,
            make(),
            now,
            horizon=HORIZON,
            expand=starts_between,
            default_offsets=offsets,
            skip=skip,
        )
    )
    if decision is None:
        raise UserError(decided(ctx, view.poll))
    planned, notice_ids = decision.planned, decision.notice_ids
    scheduler(ctx.services).apply(planned.changes)
    occurrence_id = planned.occurrence_id
    view, _ = await current(ctx, poll.poll.id)
    tally = counts(view, option.position)
    end = shown_end(start, option.duration_minutes)

    def text_for(lang: Lang, prefix: str, buttons: bool) -> Rich:
        return announcement(
            lang,
            prefix,
            occurrence_id=occurrence_id,
            title=view.poll.title,
            ag_name=poll.ag.name,
            start=start,
            end=end,
            repeat=None,
            place=view.poll.place,
            url=view.poll.url,
            buttons=buttons,
        )

    message = lines(
        ctx.t(
            "Festgelegt: Termin {n} der Terminumfrage {id}, {when}.",
            n=number,
            id=code(view.poll.short_id),
            when=format_span(start, end, ctx.lang.code),
        ),
        ctx.t(
            "Eingetragen: {yes} als „Dabei“, {maybe} als „Vielleicht“.",
            yes=tally["yes"],
            maybe=tally["maybe"],
        ),
        text_for(ctx.lang, ctx.cmd(""), ctx.transport.capabilities.buttons),
        ctx.t(
            "Erinnerungen: {offsets} vorher.",
            offsets=offsets_text(ctx.lang, planned.offsets),
        ),
    )
    await ctx.reply_with_buttons(message, rsvp_buttons(ctx.lang, occurrence_id))
    log.info("date poll %s picked: m%d in AG %s", view.poll.short_id, occurrence_id, poll.ag.slug)
    # The summaries in the chats: the picked date marked, the answer buttons gone.
    await live.answered(ctx.services, view.poll.id)
    chats = await linked_chats(ctx, poll.ag)
    await tell_chats(ctx, chats, f"announce:{occurrence_id}", text_for, occurrence_id)
    await pick_files(ctx, poll.poll.id, occurrence_id, chats)
    await tell_members(ctx.services, notice_ids)


async def pick_files(ctx: Context, poll_id: int, occurrence_id: int, chats: list[ChatRef]) -> None:
    """The `.ics` (and the grid) to this chat and the AG's others."""
    view, members = await current(ctx, poll_id)
    async with ctx.db.read() as session:
        meeting = await occurrence_view(session, occurrence_id)
    if meeting is None:
        return
    now = ctx.services.now()
    outbox = ctx.services.outbox
    here = [Audience.of_chat(ctx.chat, ctx.lang.code)]  # the reply's language
    ctx.replies += await send_pick_files(outbox, here, view, members, meeting, now)
    others = [Audience.of_chat(chat) for chat in chats]
    await send_pick_files(outbox, others, view, members, meeting, now)
