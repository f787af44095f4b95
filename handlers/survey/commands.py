"""The founding survey: `/survey` lists its questions, `/survey 1` starts one as a poll
in the AG's chats, `/survey run` walks one person through all of them privately, and
`/survey results` shows what everyone answered. The rules: handlers/survey/service.py."""

from __future__ import annotations

from bot import commands as c
from bot.commands.tokens import tokenize
from bot.context import Context, UserError
from bot.core import ChatRef
from bot.i18n import N_
from bot.rich import Rich, bold, code, join, lines
from handlers.polls.render import deadline_short, launch_report
from handlers.polls.service import launch
from handlers.polls.tally import listed, result_text, send_chart, tied
from handlers.polls.views import tally_of
from handlers.survey import walk
from handlers.survey.service import (
    SurveyLaunch,
    deadline,
    ensure_standing,
    questions_of,
    read_launch,
    running,
    survey_scope,
    unknown_question,
)
from handlers.survey.templates import SurveyQuestion, all_items, find_question
from storage.polls.models import Poll
from storage.polls.view import PollView

feature = c.Feature("survey")


def _kind(ctx: Context, question: SurveyQuestion) -> Rich:
    if question.kind == "multi":
        return ctx.t("mehrere Antworten")
    if question.kind == "scale":
        note = ctx.tn("Skala, {n} Aussage", "Skala, {n} Aussagen", len(question.statements))
        return note + (" – " + ctx.t("Beispiele") if question.examples else Rich())
    return ctx.t("eine Antwort")


@feature.command(
    "survey",
    help=N_("Der Gründungsfragebogen: Fragen zeigen oder eine als Umfrage starten"),
    params=(c.Param("spec", c.Kind.TEXT, N_("Frage"), optional=True, convert=read_launch),),
    scope=survey_scope,
    examples=("survey", "survey 1", "survey interesse --for 3d"),
    aliases=("fragebogen",),
)
async def survey(ctx: Context, spec: SurveyLaunch | None) -> None:
    if spec is None:
        await ctx.reply(_listing(ctx, await questions_of(ctx)))
        return
    await ctx.ensure_person()
    args, question = spec.args, spec.question
    already = await running(ctx, spec)
    if already and not spec.again:
        raise UserError(_ask_again(ctx, spec, already))
    closes_at = deadline(ctx, spec)
    launched: list[tuple[PollView, list[ChatRef], list[ChatRef]]] = []
    for item in question.items():
        if not args.anonymous:
            await ensure_standing(ctx.services, item)
        launched.append(
            await launch(
                ctx,
                spec.ag,
                item.question,
                item.options,
                multi=item.multi,
                anonymous=args.anonymous,
                closes_at=closes_at,
                survey_key=item.key,
            )
        )
    until = ctx.t("Läuft bis {when}.", when=deadline_short(ctx.services, closes_at, ctx.lang))
    if len(launched) == 1:
        await ctx.reply(lines(launch_report(ctx, *launched[0]), until))
        return
    rows: list[Rich | str] = [
        ctx.tn(
            "{n} Umfrage gestartet, eine je Aussage:",
            "{n} Umfragen gestartet, eine je Aussage:",
            len(launched),
        )
    ]
    for (view, _, failed), statement in zip(launched, question.statements, strict=True):
        rows.append("• " + code(view.short_id) + " " + statement)
        if failed:
            rows.append("  " + ctx.t("(nicht überall gepostet)"))
    rows.append(
        ctx.t(
            "Ergebnis je Aussage: {results} · Beenden: {close}",
            results=code(ctx.cmd("results <Umfrage>")),
            close=code(ctx.cmd("close <Umfrage>")),
        )
    )
    rows.append(until)
    await ctx.reply(lines(*rows))


def _ask_again(ctx: Context, spec: SurveyLaunch, already: list[Poll]) -> Rich:
    """Frage 1 already runs in the AG's chats: say where, and how to start it once more
    (the same words with JA after the question, as `/forget JA` confirms)."""
    question_at = spec.args.at[0]
    flags = [
        token.text if token.bare else f'"{token.text}"'
        for index, token in enumerate(tokenize(spec.args.text))
        if index != question_at
    ]
    again = " ".join(["survey", str(spec.question.id), "JA", *flags])
    return ctx.t(
        "Frage {n} läuft in der AG „{ag}“ schon: {polls}. Noch einmal starten? Dann schreib {again}.",
        n=spec.question.id,
        ag=spec.ag.name,
        polls=join([code(poll.short_id) for poll in already], ", "),
        again=code(ctx.cmd(again)),
    )


def _listing(ctx: Context, questions: list[SurveyQuestion]) -> Rich:
    rows: list[Rich | str] = [bold(ctx.t("Der Gründungsfragebogen:"))]
    for q in questions:
        rows.append(f"{q.id}. " + code(q.key) + " – " + q.text + " (" + _kind(ctx, q) + ")")
    rows.append(
        ctx.t(
            "Als Umfrage in deiner AG starten (Leitung): {launch} · Selbst ausfüllen: {run} · Ergebnisse: {results}",
            launch=code(ctx.cmd("survey 1")),
            run=code(ctx.cmd("survey run")),
            results=code(ctx.cmd("survey results")),
        )
    )
    return lines(*rows)


@feature.command(
    "survey run",
    help=N_("Den Gründungsfragebogen selbst ausfüllen, Frage für Frage"),
    where=c.Where.DIRECT,
    needs_person=True,
    examples=("survey run",),
)
async def survey_run(ctx: Context) -> None:
    person_id = await ctx.ensure_person()
    resume, step = await walk.start(ctx, person_id)
    found = await walk.step_view(ctx, step)
    if found is None:
        raise UserError(ctx.t("Der Fragebogen hat keine Fragen."))
    view, total = found
    intro = (
        ctx.t("Weiter geht's mit dem Fragebogen.")
        if resume
        else ctx.t(
            "Schön, dass du mitmachst! Deine Antworten werden mit deinem Namen gespeichert; alle anderen sehen nur die Summen ({results}). Wenn du den Fragebogen noch einmal ausfüllst, ersetzen die neuen Antworten die alten.",
            results=code(ctx.cmd("survey results")),
        )
    )
    await ctx.reply(intro + "\n\n" + walk.question_text(ctx, step, total, view))


@feature.command(
    "survey results",
    help=N_("Was alle im Gründungsfragebogen geantwortet haben"),
    params=(c.text("question", N_("Frage"), optional=True),),
    examples=("survey results", "survey results 1"),
)
async def survey_results(ctx: Context, question: str | None) -> None:
    questions = await questions_of(ctx)
    if question:
        found = find_question(questions, question)
        if found is None:
            raise unknown_question(ctx, question)
        for item in found.items():
            view = await ensure_standing(ctx.services, item)
            tally = await tally_of(ctx.services, view)
            await ctx.reply(result_text(ctx.services, ctx.lang, view, tally))
            await send_chart(ctx.transport, ctx.chat, ctx.lang, view, tally)
        return
    rows: list[Rich | str] = [bold(ctx.t("Gründungsfragebogen – bisherige Antworten:"))]
    for item in all_items(questions):
        view = await ensure_standing(ctx.services, item)
        tally = await tally_of(ctx.services, view)
        line: Rich = f"{item.number}. " + ctx.tn("{n} Antwort", "{n} Antworten", tally.voters)
        leaders = tied(tally.counts)
        if leaders:
            line += " – " + ctx.t(
                "Gleichstand: {options} (je {share} %)",
                options=listed(ctx.lang, [view.options[i] for i in leaders]),
                share=round(100 * tally.counts[leaders[0]] / tally.voters),
            )
        elif tally.voters:
            best = max(range(len(view.options)), key=lambda i: tally.counts[i])
            line += " – " + ctx.t(
                "am häufigsten: „{option}“ ({share} %)",
                option=view.options[best],
                share=round(100 * tally.counts[best] / tally.voters),
            )
        rows.append(line)
    rows.append(ctx.t("Eine Frage im Detail: {example}", example=code(ctx.cmd("survey results 1"))))
    await ctx.reply(lines(*rows))
