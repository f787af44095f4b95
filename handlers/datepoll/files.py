"""The files a Terminumfrage sends where the network takes files: its grid as a picture
(handlers/datepoll/grid.py) and, once a date is picked, the new meeting as an `.ics`
(handlers/meetings/ics.py, with the uid `/ics` gives the same meeting, so importing both
keeps one event)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.core import SentRef
from bot.i18n import N_, Lang
from bot.outbox import Audience, Outbox
from bot.rich import Rich
from bot.when_text import format_short
from handlers.datepoll.grid import PEOPLE_MAX, Grid, draw_grid
from handlers.datepoll.render import best_first, option_start
from handlers.meetings.ics import IcsEvent, calendar
from handlers.meetings.text import meeting_title
from storage.datepoll.polls import DatePollView
from storage.meetings.occurrences import OccurrenceView
from storage.repo import MemberRow

# An AG this small reads the text summary at a glance; a picture helps from here on.
GRID_FROM_MEMBERS = 9
_FOOT = (N_("ja"), N_("wenn nötig"), N_("nein"))

log = logging.getLogger(__name__)


def grid_of(lang: Lang, view: DatePollView, members: Sequence[MemberRow]) -> Grid:
    """The picture's content in the reader's language: those who answered first."""
    heads = []
    for option in view.options:
        weekday, *middle, time = format_short(option_start(view, option), lang.code).split()
        heads.append((str(option.position + 1), weekday, " ".join(middle), time))
    answered = view.answered()
    ordered = sorted(members, key=lambda m: m.person_id not in answered)
    people = [
        (
            m.accounts[0].display_name if m.accounts else "?",
            [view.answers.get(o.position, {}).get(m.person_id) for o in view.options],
        )
        for m in ordered
    ]
    left_out = len(people) - PEOPLE_MAX
    best = best_first(view)[0].position if view.answers and answered else None
    if view.poll.picked_position is not None:
        best = view.poll.picked_position
    return Grid(
        title=lang.t(
            "Terminumfrage {id}: {title}", id=view.poll.short_id, title=view.poll.title
        ).plain,
        heads=heads,
        people=people,
        best=best,
        more=lang.t("… und {n} weitere", n=left_out).plain if left_out > 0 else "",
        foot=[lang.gettext(word) for word in _FOOT],
    )


async def grid_png(lang: Lang, view: DatePollView, members: Sequence[MemberRow]) -> bytes:
    return await asyncio.to_thread(draw_grid, grid_of(lang, view, members))


def grid_name(view: DatePollView) -> str:
    return f"terminumfrage-{view.poll.short_id}.png"


def meeting_ics(lang: Lang, meeting: OccurrenceView, now: datetime) -> bytes:
    """The picked meeting as a calendar file of one event."""
    tz = ZoneInfo(meeting.meeting.timezone)
    start = meeting.start.astimezone(tz)
    event = IcsEvent(
        f"meeting-{meeting.meeting.id}@buendnisbot",
        start,
        start + timedelta(minutes=meeting.meeting.duration_minutes),
        meeting_title(lang, meeting.title),
        lang.t("AG {ag}", ag=meeting.ag.name).plain,
        meeting.meeting.place,
        meeting.meeting.url,
        sequence=meeting.occurrence.revision,
    )
    return calendar([event], name=f"{meeting.ag.name} ({meeting.ag.slug})", tz=tz, now=now)


def ics_name(occurrence_id: int) -> str:
    return f"treffen-m{occurrence_id}.ics"


# A file: (name, bytes, mime type, caption).
File = tuple[str, bytes, str, Rich | None]
# The files for readers of one language (made once per language).
FilesFor = Callable[[Lang], Awaitable[list[File]]]


async def send_to_chats(
    outbox: Outbox, audiences: Sequence[Audience], files_for: FilesFor, key: str
) -> list[SentRef]:
    """Send the files to each chat whose network takes files, in its reader's language;
    a failing chat is only logged (the text went out before)."""
    sent: list[SentRef] = []
    made: dict[str, list[File]] = {}
    for audience in audiences:
        chat = audience.chat
        assert chat is not None, "files go to chats"
        transport = outbox.transport(audience)
        if transport is None or not transport.capabilities.files:
            continue
        lang = outbox.reader(audience).lang
        if lang.code not in made:
            made[lang.code] = await files_for(lang)
        for number, (name, data, mime, caption) in enumerate(made[lang.code]):
            try:
                sent.append(
                    await transport.send_file(
                        chat, name, data, mime, caption, key=f"{key}:{number}:{chat.key}"
                    )
                )
            except Exception as exc:
                log.warning("could not send %s to a chat on %s: %r", mime, chat.platform, exc)
    return sent


def wants_grid(members: Sequence[MemberRow]) -> bool:
    return len(members) >= GRID_FROM_MEMBERS


async def send_pick_files(
    outbox: Outbox,
    audiences: Sequence[Audience],
    view: DatePollView,
    members: Sequence[MemberRow],
    meeting: OccurrenceView,
    now: datetime,
) -> list[SentRef]:
    """After a pick: the meeting's `.ics` to the chats, and the final grid where the AG is
    big enough for one."""

    async def files_for(lang: Lang) -> list[File]:
        made: list[File] = [
            (ics_name(meeting.id), meeting_ics(lang, meeting, now), "text/calendar",
             lang.t("Zum Importieren in deinen Kalender.")),
        ]  # fmt: skip
        if wants_grid(members):
            png = await grid_png(lang, view, members)
            made.append((grid_name(view), png, "image/png", None))
        return made

    return await send_to_chats(outbox, audiences, files_for, f"announce:{meeting.id}:file")


async def grid_reply(ctx: Context, view: DatePollView, members: Sequence[MemberRow]) -> None:
    """The grid under the summary `/termin k3f7` answered, where the network takes files
    and the AG is big enough for one."""
    if not ctx.transport.capabilities.files or not wants_grid(members):
        return
    png = await grid_png(ctx.lang, view, members)
    key = f"grid:{ctx.chat.key}:{ctx.message.message_id}" if ctx.message.message_id else None
    try:
        sent = await ctx.transport.send_file(ctx.chat, grid_name(view), png, "image/png", key=key)
    except Exception as exc:  # the summary went out; the picture is an extra
        log.warning("could not send the grid on %s: %r", ctx.chat.platform, exc)
        return
    ctx.replies.append(sent)
