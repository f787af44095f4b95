"""When reminders come: /reminders (per AG), /remind (privately too), and the start-up
step that rebuilds the scheduler from the database.

Private reminders to someone the network will not let the bot write to (Telegram: they
never started the bot) are not retried: the delivery is recorded as `unreachable`, and
`/remind` tells the person how to open the private chat. `/remind on` checks at once by
sending its confirmation privately.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import commands as c
from bot.commands import rights
from bot.context import Context, Services, UserError
from bot.i18n import N_
from bot.rich import code
from bot.when import WhenError, parse_offsets
from bot.when_text import format_full
from handlers.meetings.args import AgText, ag_text
from handlers.meetings.text import offsets_text
from handlers.reminders import service
from handlers.reminders.engine import engine

feature = c.Feature("reminders")

_ON = {"on", "an", "ein", "ja", "yes"}
_OFF = {"off", "aus", "nein", "no"}
_DEFAULT = {"standard", "default"}


@feature.on_start
async def start_reminders(services: Services) -> None:
    """Rebuild the reminder jobs from the rows; send what fell due while the bot was down."""
    await engine(services).start()


@feature.on_rescan
async def rescan_reminders(services: Services) -> None:
    """What another process planned or left: due soon, or its holder gone."""
    await engine(services).rescan()


_EXAMPLE = "reminders ag2 2d 1h"
_ag_text = ag_text(_EXAMPLE)


async def _asked(ctx: Context, spec: AgText | None) -> AgText:
    """The AG named first, else the chat's ("Welche AG?" when there is none)."""
    return spec if spec is not None else await _ag_text(ctx, "")


async def _scope(ctx: Context, args: Mapping[str, Any]) -> Any:
    """Anyone may see an AG's offsets; changing them is for its leads."""
    spec = await _asked(ctx, args.get("spec"))
    return rights.Needs(c.Right.LEAD, spec.ag) if spec.rest else rights.OPEN


@feature.command(
    "reminders",
    help=N_("Wann die Erinnerungen einer AG kommen; die Leitung stellt sie um"),
    params=(c.Param("spec", c.Kind.TEXT, N_("AG [Abstände]"), optional=True, convert=_ag_text),),
    scope=_scope,
    examples=("reminders ag2", "reminders ag2 2d 1h 10m", "reminders ag2 standard"),
    aliases=("erinnerungen",),
)
async def reminder_offsets(ctx: Context, spec: AgText | None) -> None:
    asked = await _asked(ctx, spec)
    ag, rest = asked.ag, asked.rest
    if not rest:
        own = await service.own_offsets(ctx, ag)
        if own is None:
            message = ctx.t(
                "Erinnerungen für die AG {ag}: {offsets} vorher (Standard).",
                ag=ag.name,
                offsets=offsets_text(ctx.lang, service.default_offsets(ctx.services)),
            )
        else:
            message = ctx.t(
                "Erinnerungen für die AG {ag}: {offsets} vorher.",
                ag=ag.name,
                offsets=offsets_text(ctx.lang, own),
            )
        message += " " + ctx.t(
            "Die Leitung ändert das z. B. mit {example}.",
            example=code(ctx.cmd(f"reminders {ag.slug} 2d 1h 10m")),
        )
        await ctx.reply(message)
        return
    offsets: list[timedelta] | None = None
    if rest.strip().lower() not in _DEFAULT:
        try:
            offsets = parse_offsets(rest.split())
        except WhenError as exc:
            raise UserError(exc.message(ctx.lang)) from None
    planned, effective = await service.set_offsets(ctx, ag, offsets)
    message = ctx.t(
        "Erinnerungen für die AG {ag} jetzt: {offsets} vorher.",
        ag=ag.name,
        offsets=offsets_text(ctx.lang, effective),
    )
    if planned:
        message += " " + ctx.tn(
            "Das gilt auch für den {n} schon geplanten Termin.",
            "Das gilt auch für die {n} schon geplanten Termine.",
            planned,
        )
    await ctx.reply(message)


@feature.command(
    "remind",
    help=N_("Erinnerungen zusätzlich privat bekommen (on oder off)"),
    params=(c.word("switch", N_("on|off"), optional=True),),
    needs_person=True,
    examples=("remind on", "remind off"),
)
async def remind(ctx: Context, switch: str | None) -> None:
    person_id = await ctx.ensure_person()
    if switch is None:
        pref = await service.direct_reminders(ctx, person_id)
        on = pref is not None and pref.direct
        message = (
            ctx.t(
                "Private Erinnerungen sind an. Abschalten mit {off}.",
                off=code(ctx.cmd("remind off")),
            )
            if on
            else ctx.t(
                "Private Erinnerungen sind aus. Einschalten mit {on}.",
                on=code(ctx.cmd("remind on")),
            )
        )
        if on and pref is not None and pref.unreachable_at is not None:
            when = pref.unreachable_at.astimezone(ZoneInfo(ctx.services.settings.timezone))
            message += " " + ctx.t(
                "Die Erinnerung vom {when} konnte ich dir nicht privat schicken. Öffne bitte den privaten Chat mit mir und schreib {start}.",
                when=format_full(when, ctx.lang.code),
                start=code(ctx.cmd("start")),
            )
        await ctx.reply(message)
        return
    value = switch.lower()
    if value not in _ON | _OFF:
        raise UserError(ctx.t("So geht's: {usage}", usage=code(ctx.cmd("remind on|off"))))
    on = value in _ON
    await service.set_direct_reminders(ctx, person_id, on)
    if not on:
        await ctx.reply(
            ctx.t(
                "Private Erinnerungen sind aus. Die Erinnerungen in den Chats deiner AGs kommen weiter."
            )
        )
        return
    # Sent privately: that shows at once whether the network lets the bot write to you.
    await ctx.reply_private(
        ctx.t(
            "Du bekommst die Erinnerungen deiner AGs ab jetzt auch privat von mir. Abschalten mit {off}.",
            off=code(ctx.cmd("remind off")),
        )
    )
