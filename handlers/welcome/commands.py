"""`/welcome on|off`: whether people entering this chat are greeted (service.py greets)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import commands as c
from bot.commands import rights
from bot.context import Context, Services, UserError
from bot.core import MemberJoined
from bot.i18n import N_
from bot.rich import code
from handlers.welcome import service
from handlers.welcome.service import BIG_CHAT

feature = c.Feature("welcome")

_ON = {"on", "an", "ein", "ja", "yes"}
_OFF = {"off", "aus", "nein", "no"}


@feature.event("member_joined")
async def member_joined(services: Services, event: MemberJoined) -> None:
    await service.greet(services, event)


async def _switching(ctx: Context, args: Mapping[str, Any]) -> object:
    """Switching needs a lead of an AG linked to this chat; showing the setting, the
    usage for an unknown word and the answer in a chat linked to no AG need no right."""
    state = args.get("state")
    if state is None or state.lower() not in _ON | _OFF:
        return rights.OPEN
    linked = await rights.chat()(ctx, args)
    return linked if linked.ags else rights.OPEN


@feature.command(
    "welcome",
    help=N_("Neue Leute in diesem Chat begrüßen oder nicht (an/aus)"),
    params=(c.word("state", N_("an|aus"), optional=True),),
    right=c.Right.LEAD,
    scope=_switching,
    where=c.Where.GROUP,
    examples=(N_("welcome an"), N_("welcome aus")),
)
async def welcome(ctx: Context, state: str | None) -> None:
    found = await service.chat_welcome(ctx)
    if found is None:
        raise UserError(
            ctx.t(
                "Dieser Chat ist mit keiner AG verbunden. Das geht mit {link}.",
                link=code(ctx.cmd("link <AG>")),
            )
        )
    # The words as the reader writes them (both languages are understood).
    on, _, off = ctx.lang.gettext(N_("an|aus")).partition("|")
    if state is None:
        if found.enabled is None:
            current = ctx.t(
                "Neue Leute begrüße ich hier, solange der Chat höchstens {max} Mitglieder hat.",
                max=BIG_CHAT,
            )
        elif found.enabled:
            current = ctx.t("Neue Leute begrüße ich hier.")
        else:
            current = ctx.t("Neue Leute begrüße ich hier nicht.")
        await ctx.reply(
            current
            + " "
            + ctx.t(
                "Ändern mit {on} oder {off}.",
                on=code(ctx.cmd(f"welcome {on}")),
                off=code(ctx.cmd(f"welcome {off}")),
            )
        )
        return
    word = state.lower()
    if word not in _ON | _OFF:
        raise UserError(
            ctx.t(
                "So geht's: {usage}",
                usage=code(ctx.cmd(f"welcome {on}") + " | " + ctx.cmd(f"welcome {off}")),
            )
        )
    enabled = word in _ON
    await service.set_enabled(ctx, found.chat_id, enabled)
    if enabled:
        await ctx.reply(ctx.t("Gut, ich begrüße neue Leute in diesem Chat."))
    else:
        await ctx.reply(ctx.t("Gut, ich begrüße hier niemanden mehr."))
