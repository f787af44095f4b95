"""Terminumfragen: `/terminumfrage` (a lead proposes dates), `/termin` (members answer
ja / wenn nötig / nein, or see the summary), `/festlegen` (the lead picks a date; it
becomes a meeting of the AG with its reminders, and the answers become RSVPs)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot import commands as c
from bot.commands import rights
from bot.context import Context
from bot.i18n import N_
from bot.rich import code, join, lines
from handlers.datepoll import listing, live
from handlers.datepoll.args import Draft, read_answers, read_draft
from handlers.datepoll.files import grid_reply
from handlers.datepoll.keyboard import WORD as _WORD
from handlers.datepoll.keyboard import answer_buttons
from handlers.datepoll.render import option_text, summary
from handlers.datepoll.service import (
    Loaded,
    answered,
    current,
    load,
    post_summary,
    reader_of,
    refuse_if_closed,
    scope,
    store,
)
from handlers.nudges.schedule import plan as plan_nudges
from storage.datepoll import polls
from storage.datepoll.models import Answer
from storage.notices.subjects import DATEPOLL

feature = c.Feature("datepoll")
_NUMBER = N_("Nummer")

log = logging.getLogger(__name__)


async def _scope(ctx: Context, args: Mapping[str, Any]) -> object:
    """Starting one is for the AG's leads; the list (no arguments) is for everyone."""
    spec = args.get("spec")
    return rights.OPEN if spec is None else spec.ag


@feature.command(
    "datepoll",
    help=N_("Termine zur Wahl stellen (Terminumfrage)"),
    params=(
        c.Param(
            "spec",
            c.Kind.TEXT,
            N_('AG "Titel" Termin; Termin; …'),
            optional=True,  # without it: the list of open ones (handlers/datepoll/listing.py)
            convert=read_draft,
        ),
    ),
    right=c.Right.LEAD,
    scope=_scope,
    needs_person=True,
    examples=(
        N_('datepoll ag2 "Plenum im Januar" 12.1. 19 Uhr; 13.1. 18:30; 14.1. 19-21 Uhr'),
        N_('datepoll ag1 "Stammtisch" Mo 19 Uhr; Di 19 Uhr --ort Haus der Vereine --bis Freitag'),
    ),
    aliases=("terminumfrage",),
)
async def start(ctx: Context, spec: Draft | None) -> None:
    if spec is None:
        await listing.show(ctx)
        return
    person_id = await ctx.ensure_person()
    now = ctx.services.now()
    poll = await ctx.db.run(
        lambda s: polls.create(
            s,
            ag_id=spec.ag.id,
            title=spec.title,
            place=spec.place,
            url=spec.url,
            timezone=ctx.services.settings.tz.key,
            closes_at=spec.closes_at,
            created_by=person_id,
            dates=spec.dates,
            now=now,
        )
    )
    loaded = Loaded(poll, spec.ag)
    view, members = await current(ctx, poll.id)
    pick_hint = ctx.t(
        "Festlegen, wenn die Antworten da sind: {command}",
        command=code(ctx.cmd(f"festlegen {poll.short_id} <{ctx.lang.gettext(_NUMBER)}>")),
    )
    here = None
    if ctx.chat.key in {chat.key for chat in await ctx.services.ag_chats(spec.ag.id)}:
        # One of the AG's chats: this reply is its summary, with buttons, kept current.
        reader = reader_of(ctx)
        await ctx.reply_with_buttons(
            live.summary_text(reader, view, spec.ag, members, now),
            answer_buttons(reader, view, now),
        )
        here = ctx.replies[-1]
        await ctx.reply(pick_hint)
    else:
        await ctx.reply(lines(summary(ctx.lang, ctx.cmd(""), view, spec.ag, members), pick_hint))
    log.info(
        "date poll %s started in AG %s (%d dates)", poll.short_id, spec.ag.slug, len(spec.dates)
    )
    await post_summary(ctx, loaded, f"datepoll:{poll.short_id}", here)
    await plan_nudges(ctx.services, DATEPOLL, poll.id)


@feature.command(
    "termin",
    help=N_("Bei einer Terminumfrage antworten"),
    params=(
        c.word("poll", N_("Terminumfrage"), convert=load),
        c.text("answers", N_("1 ja 2 nein 3 wenn nötig"), optional=True),
    ),
    right=c.Right.FOLLOWER,
    scope=scope,
    needs_person=True,
    examples=(N_("termin k3f7 1 ja 2 nein 3 vielleicht"), "termin k3f7"),
    aliases=("dates",),
)
async def answer(ctx: Context, poll: Loaded, answers: str | None) -> None:
    if not answers:
        view, members = await current(ctx, poll.poll.id)
        await ctx.reply(summary(ctx.lang, ctx.cmd(""), view, poll.ag, members))
        await grid_reply(ctx, view, members)
        return
    refuse_if_closed(ctx, poll.poll, poll.ag)
    view, _ = await current(ctx, poll.poll.id)
    given = read_answers(ctx, answers, len(view.options))
    person_id, changed = await store(ctx, poll, given)
    view, _ = await current(ctx, poll.poll.id)
    mine = [
        f"{option.position + 1}. {option_text(view, option, ctx.lang)}: "
        + ctx.lang.gettext(_WORD[Answer(view.answers[option.position][person_id])])
        for option in view.options
        if person_id in view.answers.get(option.position, {})
    ]
    await ctx.reply(
        lines(
            ctx.t("Gespeichert. Deine Antworten zu {title}:", title=poll.poll.title),
            join(mine, "\n"),
            ctx.t(
                "Ändern geht, bis der Termin festgelegt ist, z. B. {command}",
                command=code(
                    ctx.cmd(f"termin {poll.poll.short_id} 1 {ctx.lang.gettext(_WORD[Answer.NO])}")
                ),
            ),
        )
    )
    if changed:
        await answered(ctx.services, poll.poll.id)
