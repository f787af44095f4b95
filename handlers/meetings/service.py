"""The meeting rules and transactions: loading a meeting by its id (also for the rights
check), planning, cancelling and moving, and telling the AG's other chats.

Each change runs in one transaction (storage/meetings/plans.py); the reminder engine
learns what changed only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.context import Context, UserError
from bot.core import Button, ChatRef
from bot.i18n import Lang
from bot.outbox import Audience, Reader
from bot.rich import Rich, code
from handlers.meetings.args import parse_id
from handlers.meetings.series import HORIZON, default_offsets, scheduler, starts_between
from handlers.meetings.text import rsvp_buttons, short_id
from storage.meetings import occurrences as occ
from storage.meetings import plans
from storage.meetings.models import Meeting
from storage.meetings.occurrences import OccurrenceView
from storage.models import Ag


def meeting_tz(ctx: Context) -> ZoneInfo:
    """Meetings are planned in the alliance's zone (config `timezone`, Europe/Berlin)."""
    return ctx.services.settings.tz


async def load_occurrence(ctx: Context, raw: str) -> OccurrenceView:
    """The occurrence a typed id (`m12`) names; a short answer when there is none."""
    occurrence_id = parse_id(ctx, raw)
    async with ctx.db.read() as session:
        view = await occ.occurrence_view(session, occurrence_id)
    if view is None:
        raise UserError(
            ctx.t(
                "Ein Treffen {id} kenne ich nicht. {list} zeigt die Kennungen.",
                id=code(short_id(occurrence_id)),
                list=code(ctx.cmd("meetings")),
            )
        )
    return view


@dataclass
class MeetingRef:
    """A typed meeting id, loaded on first use and then kept: the rights check (its AG)
    and the handler read the same row, after every argument is checked, as before."""

    raw: str
    _view: OccurrenceView | None = field(default=None, repr=False)

    async def load(self, ctx: Context) -> OccurrenceView:
        if self._view is None:
            self._view = await load_occurrence(ctx, self.raw)
        return self._view


async def meeting_ref(_ctx: Context, raw: str) -> MeetingRef:
    """`convert=` of a meeting id parameter."""
    return MeetingRef(raw)


async def meeting_ag(ctx: Context, args: Mapping[str, Any]) -> Ag:
    """Scope: the AG of the meeting in the `id` argument."""
    ref: MeetingRef = args["id"]
    return (await ref.load(ctx)).ag


# --- changes -----------------------------------------------------------------------------


async def plan(ctx: Context, make: Callable[[], Meeting], now: datetime) -> plans.Planned:
    """Store a new meeting (a fresh row from `make` per attempt of the transaction) with
    its first occurrences and reminders; tell the engine."""
    offsets = default_offsets(ctx.services)
    planned = await ctx.db.run(
        lambda s: plans.plan_meeting(
            s, make(), now, horizon=HORIZON, expand=starts_between, default_offsets=offsets
        )
    )
    scheduler(ctx.services).apply(planned.changes)
    return planned


async def cancel(ctx: Context, view: OccurrenceView, now: datetime, *, series: bool) -> int:
    """Cancel the occurrence (or the series ahead); how many occurrences."""
    changes, count = await ctx.db.run(
        lambda s: plans.cancel(s, view.meeting.id, view.id, now, series=series)
    )
    scheduler(ctx.services).apply(changes)
    return count


async def edit(ctx: Context, view: OccurrenceView, change: plans.Change, now: datetime) -> None:
    offsets = default_offsets(ctx.services)
    changes = await ctx.db.run(
        lambda s: plans.edit(s, view.meeting.id, view.id, change, now, default_offsets=offsets)
    )
    scheduler(ctx.services).apply(changes)


# --- telling the AG's chats ------------------------------------------------------------


async def linked_chats(ctx: Context, ag: Ag) -> list[ChatRef]:
    """The AG's chats on running networks, except the current chat."""
    return [chat for chat in await ctx.services.ag_chats(ag.id) if chat.key != ctx.chat.key]


async def tell_chats(
    ctx: Context,
    chats: list[ChatRef],
    key: str,
    text_for: Callable[[Lang, str, bool], Rich],
    occurrence_id: int | None = None,
) -> None:
    """Post to the AG's other chats, each in its language, with answer buttons where
    the network has them; a failing chat is only logged."""

    def text(reader: Reader) -> Rich:
        buttons = bool(occurrence_id and reader.capabilities.buttons)
        return text_for(reader.lang, reader.prefix, buttons)

    def buttons(reader: Reader) -> tuple[Button, ...]:
        return rsvp_buttons(reader.lang, occurrence_id) if occurrence_id else ()

    await ctx.services.outbox.fan_out(
        [Audience.of_chat(chat) for chat in chats], text, key=key, buttons=buttons
    )
