"""Quick polls of an AG: `/poll` starts one in every chat of the AG, `/close` ends it,
`/polls` lists them. Votes: handlers/polls/votes.py and handlers/vote, results:
handlers/polls/results.py."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, bold, code, join, lines
from bot.text_cut import cut
from handlers.polls.args import checked
from handlers.polls.question import question_and_options
from handlers.polls.render import deadline_short, launch_report
from handlers.polls.service import (
    Launch,
    close,
    close_scope,
    launch,
    launch_scope,
    polls_to_list,
    read_launch,
)
from handlers.polls.tally import result_text
from handlers.polls.views import get_view, tally_of
from storage.polls.view import PollView

feature = c.Feature("polls")
_FIRST_POLL = N_('poll "Frage?" "A" "B"')  # own line: the extractor skips N_ nested in a ctx.t call


@feature.command(
    "poll",
    help=N_("Eine Umfrage in allen Chats der AG starten"),
    params=(
        c.Param("spec", c.Kind.TEXT, N_('"Frage" "Antwort" "Antwort" …'), convert=read_launch),
    ),
    right=c.Right.LEAD,
    scope=launch_scope,
    needs_person=True,
    examples=(
        N_('poll "Wann treffen wir uns?" "Di 18 Uhr" "Mi 19 Uhr" "Do 17 Uhr"'),
        N_("poll Wann ist Plenum? Di 18 Uhr, Mi 19 Uhr, Do 17 Uhr"),
        N_('poll "Welche Themen?" "Energie" "Mobilität" "Bildung" --multi --for 3d'),
        N_('poll "Neuer Name?" "Ja" "Nein" --anonymous --until 05.12.2026 18:00 --ag ag2'),
    ),
    aliases=("umfrage",),
)
async def poll(ctx: Context, spec: Launch) -> None:
    args, ag = spec.args, spec.ag
    question, options = checked(ctx, *question_and_options(ctx, args))
    view, posted, failed = await launch(
        ctx,
        ag,
        question,
        options,
        multi=args.multi,
        anonymous=args.anonymous,
        closes_at=args.closes_at,
    )
    await ctx.reply(launch_report(ctx, view, posted, failed))


@feature.command(
    "close",
    help=N_("Eine Umfrage beenden; das Endergebnis geht in alle ihre Chats"),
    params=(c.word("poll", N_("Umfrage"), convert=get_view),),
    right=c.Right.LEAD,
    scope=close_scope,
    needs_person=True,
    examples=("close k3f7",),
    aliases=("beenden",),
)
async def close_command(ctx: Context, poll: PollView) -> None:
    closed = await close(ctx, poll)
    if closed is not None:
        tally = await tally_of(ctx.services, closed)
        await ctx.reply(result_text(ctx.services, ctx.lang, closed, tally, final=True))


@feature.command(
    "polls",
    help=N_("Laufende und letzte Umfragen deiner AGs"),
    aliases=("umfragen",),
)
async def list_polls(ctx: Context) -> None:
    polls, by_id = await polls_to_list(ctx)
    if not polls:
        raise UserError(
            ctx.t(
                "Deine AGs haben noch keine Umfragen. Die Leitung startet eine mit {poll}.",
                poll=code(ctx.example(_FIRST_POLL)),
            )
        )
    rows: list[Rich | str] = [bold(ctx.t("Umfragen:"))]
    for row in polls:
        view = PollView(row, [], by_id.get(row.ag_id or 0))
        if not view.is_open:
            status = ctx.t("beendet")
        elif view.closes_at is not None:
            status = ctx.t(
                "läuft bis {when}", when=deadline_short(ctx.services, view.closes_at, ctx.lang)
            )
        else:
            status = ctx.t("läuft")
        slug = view.ag.slug if view.ag else ""
        rows.append(
            join(["• " + code(row.short_id), cut(row.question, 80), code(slug), status], " – ")
        )
    rows.append(
        ctx.t(
            "Ergebnis: {results}", results=code(ctx.cmd(f"results <{ctx.lang.gettext('Umfrage')}>"))
        )
    )
    await ctx.reply(lines(*rows))
