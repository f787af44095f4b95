"""Answering a Terminumfrage by button (Telegram's keyboard under the summary) or by
reaction (Matrix: a keycap 1️⃣…🔟 under the summary means "ja" to that date).

A press follows the rules of `/termin`: a member of the AG, while the poll is open and
before its deadline; a refusal, like the saved answers, comes back as a short toast
(Telegram shows it only to the presser; Matrix drops toasts). The summaries are then
kept current by live.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot import commands as c
from bot.commands import rights
from bot.context import Context, Services
from handlers.datepoll import live
from handlers.datepoll.keyboard import PREFIX, own_answers, read_data
from handlers.datepoll.service import answered, current, load, store

feature = c.Feature("datepoll-live")

log = logging.getLogger(__name__)


async def _scope(ctx: Context, args: Mapping[str, Any]) -> Any:
    """The poll's AG; data that is no answer does nothing and needs no right."""
    pressed = read_data(args["data"])
    if pressed is None:
        return rights.OPEN
    return (await load(ctx, pressed.short_id)).ag


@feature.button(PREFIX, right=c.Right.FOLLOWER, scope=_scope)
async def press(ctx: Context, data: str) -> str | None:
    """`dp:<id>:<number>:<y|m|n>`: the presser's answer to one date."""
    pressed = read_data(data)
    if pressed is None:
        return None
    loaded = await load(ctx, pressed.short_id)
    view, _ = await current(ctx, loaded.poll.id)
    if pressed.position >= len(view.options):
        return None
    person_id, changed = await store(ctx, loaded, {pressed.position: pressed.answer})
    if changed:
        await answered(ctx.services, loaded.poll.id)
    view, _ = await current(ctx, loaded.poll.id)
    return own_answers(ctx.lang, view, person_id)


@feature.on_start
async def catch_up(services: Services) -> None:
    """Edits still due when the bot stopped are made now."""
    await live.catch_up(services)
