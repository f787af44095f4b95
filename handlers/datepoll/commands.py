"""Terminumfragen: `/terminumfrage` (a lead proposes dates), `/termin` (members answer
ja / wenn nötig / nein, or see the summary), `/festlegen` (the lead picks a date; it
becomes a meeting of the AG with its reminders, and the answers become RSVPs)."""

from __future__ import annotations

import logging

from bot import commands as c
from bot.commands import rights
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import code, join, lines
from handlers.datepoll.args import Draft, read_answers, read_draft
from handlers.datepoll.render import option_text, summary
from handlers.datepoll.service import (
    Loaded,
    current,
    load,
    post_summary,
    refuse_if_closed,
    scope,
)
from handlers.nudges.schedule import answered as nudge_answered
from handlers.nudges.schedule import plan as plan_nudges
from storage import repo
from storage.datepoll import polls
from storage.datepoll.models import Answer
from storage.notices.subjects import DATEPOLL

feature = c.Feature("datepoll")
_NUMBER = N_("Nummer")

log = logging.getLogger(__name__)

_WORD = {
    Answer.YES: N_("ja"),
    Answer.MAYBE: N_("wenn nötig"),
    Answer.NO: N_("nein"),
}


@feature.command(
    "datepoll",
    help=N_("Termine zur Wahl stellen (Terminumfrage)"),
    params=(
        c.Param(
            "spec",
            c.Kind.TEXT,
            N_('AG "Titel" Termin; Termin; …'),
            convert=read_draft,
        ),
    ),
    right=c.Right.LEAD,
    scope=rights.arg("spec", lambda draft: draft.ag),
    needs_person=True,
    examples=(
        N_('datepoll ag2 "Plenum im Januar" 12.1. 19 Uhr; 13.1. 18:30; 14.1. 19-21 Uhr'),
        N_('datepoll ag1 "Stammtisch" Mo 19 Uhr; Di 19 Uhr --ort Haus der Vereine --bis Freitag'),
    ),
    aliases=("terminumfrage",),
)
async def start(ctx: Context, spec: Draft) -> None:
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
    await ctx.reply(
        lines(
            summary(ctx.lang, ctx.cmd(""), view, spec.ag, members),
            ctx.t(
                "Festlegen, wenn die Antworten da sind: {command}",
                command=code(ctx.cmd(f"festlegen {poll.short_id} <{ctx.lang.gettext(_NUMBER)}>")),
            ),
        )
    )
    log.info(
        "date poll %s started in AG %s (%d dates)", poll.short_id, spec.ag.slug, len(spec.dates)
    )
    await post_summary(ctx, loaded, f"datepoll:{poll.short_id}")
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
        return
    refuse_if_closed(ctx, poll.poll)
    view, _ = await current(ctx, poll.poll.id)
    given = read_answers(ctx, answers, len(view.options))
    person_id = await ctx.ensure_person()
    async with ctx.db.read() as session:
        member = await repo.membership(session, person_id, poll.ag.id)
    if member is None:
        raise UserError(
            ctx.t(
                "Antworten dürfen nur Mitglieder der AG {ag}. Beitreten: {join}",
                ag=poll.ag.name,
                join=code(ctx.cmd(f"join {poll.ag.slug}")),
            )
        )
    now = ctx.services.now()
    await ctx.db.run(
        lambda s: polls.set_answers(s, poll.poll.id, person_id, ctx.chat.platform, given, now)
    )
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
    await nudge_answered(ctx.services, DATEPOLL, poll.poll.id)
