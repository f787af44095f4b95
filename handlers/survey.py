"""The founding survey: `/survey` lists its questions, `/survey 1` starts one as a poll
in the AG's chats, `/survey run` walks one person through all of them privately, and
`/survey results` shows what everyone answered.

Every question (each statement of a scale question) has one standing poll for the
whole alliance, which never closes: `/survey run` answers go there, one answer per
person (answering again replaces it). A named AG poll started from a template feeds it
too, so a person counts once per question however they answered. Anonymous AG polls
stay apart: without names they cannot be merged without counting someone twice.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands as c
from bot.context import Context, Services, UserError
from bot.core import ChatRef
from bot.i18n import N_
from bot.rich import Rich, bold, code, italic, lines
from handlers.poll_args import parse
from handlers.poll_common import PollView, read_view
from handlers.poll_results import result_text, send_chart, tally_of
from handlers.polls import launch, launch_ag, launch_report
from handlers.survey_templates import (
    SurveyError,
    SurveyItem,
    SurveyQuestion,
    all_items,
    find_question,
    load_survey,
)
from storage import polls_repo

feature = c.Feature("survey")

log = logging.getLogger(__name__)


async def questions_of(ctx: Context) -> list[SurveyQuestion]:
    try:
        return await load_survey(ctx.services.settings.survey_file)
    except SurveyError as exc:
        log.error("survey templates unusable: %s", exc)
        raise UserError(
            ctx.t("Der Fragebogen ist gerade nicht lesbar; ein Admin muss die Datei prüfen.")
        ) from None


async def ensure_standing(services: Services, item: SurveyItem) -> PollView:
    """The standing poll of a survey item; a new one if the template changed (the old one
    is closed and kept, so earlier answers stay visible under its id)."""

    async def work(session: AsyncSession) -> PollView:
        poll = await polls_repo.standing_poll(session, item.key)
        if poll is not None:
            view = await read_view(session, poll)
            if (poll.question, tuple(view.options), poll.multi) == (
                item.question,
                item.options,
                item.multi,
            ):
                return view
            poll.standing_key = None
            poll.closed_at = services.now()
            await session.flush()
        poll = await polls_repo.create_poll(
            session,
            question=item.question,
            options=item.options,
            ag_id=None,
            created_by=None,
            multi=item.multi,
            survey_key=item.key,
            standing_key=item.key,
        )
        return await read_view(session, poll)

    return await services.db.run(work)


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
    params=(c.text("spec", N_("Frage"), optional=True),),
    examples=("survey", "survey 1", "survey interesse --for 3d"),
    aliases=("fragebogen",),
)
async def survey(ctx: Context, spec: str | None) -> None:
    questions = await questions_of(ctx)
    if not spec:
        await ctx.reply(_listing(ctx, questions))
        return
    if ctx.sender.anonymous:
        raise UserError(ctx.t("Schreib mir dafür bitte mit deinem eigenen Konto, nicht anonym."))
    await ctx.ensure_person()
    args = parse(ctx, spec)
    question = find_question(questions, args.words[0]) if len(args.words) == 1 else None
    if question is None:
        raise UserError(
            ctx.t(
                "Die Frage „{ref}“ gibt es nicht. {survey} zeigt alle.",
                ref=" ".join(args.words)[:40],
                survey=code(ctx.cmd("survey")),
            )
        )
    ag = await launch_ag(ctx, args.ag)
    launched: list[tuple[PollView, list[ChatRef], list[ChatRef]]] = []
    for item in question.items():
        if not args.anonymous:
            await ensure_standing(ctx.services, item)
        launched.append(
            await launch(
                ctx,
                ag,
                item.question,
                item.options,
                multi=item.multi,
                anonymous=args.anonymous,
                closes_at=args.closes_at,
                survey_key=item.key,
            )
        )
    if len(launched) == 1:
        await ctx.reply(launch_report(ctx, *launched[0]))
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
    await ctx.reply(lines(*rows))


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


# --- /survey run -----------------------------------------------------------------------------


def _question_text(ctx: Context, step: int, total: int, view: PollView) -> Rich:
    rows: list[Rich | str] = [
        italic(ctx.t("Frage {n} von {total}", n=step + 1, total=total)),
        bold(view.poll.question),
    ]
    rows += [f"{i}. {option}" for i, option in enumerate(view.options, 1)]
    answer = ctx.t("Antworte mit {vote}", vote=code(ctx.cmd("vote 1")))
    if view.poll.multi:
        answer += " " + ctx.t("(mehrere: {vote})", vote=code(ctx.cmd("vote 1,3")))
    rows.append(answer + ", " + ctx.t("überspringen mit {skip}.", skip=code(ctx.cmd("vote -"))))
    return lines(*rows)


async def _step_view(ctx: Context, step: int) -> tuple[PollView, int] | None:
    items = all_items(await questions_of(ctx))
    if step >= len(items):
        return None
    return await ensure_standing(ctx.services, items[step]), len(items)


@feature.command(
    "survey run",
    help=N_("Den Gründungsfragebogen selbst ausfüllen, Frage für Frage"),
    where=c.Where.DIRECT,
    needs_person=True,
    examples=("survey run",),
)
async def survey_run(ctx: Context) -> None:
    person_id = await ctx.ensure_person()
    async with ctx.db.read() as session:
        run = await polls_repo.survey_run(session, person_id)
    resume = run is not None and run.finished_at is None and run.step > 0
    step = run.step if run is not None and resume else 0
    if not resume:

        async def start(session: AsyncSession) -> None:
            await polls_repo.start_survey_run(session, person_id)

        await ctx.db.run(start)
    found = await _step_view(ctx, step)
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
    await ctx.reply(intro + "\n\n" + _question_text(ctx, step, total, view))


async def current_view(ctx: Context) -> PollView | None:
    """The question a person is at in `/survey run` (private chats only)."""
    if not ctx.message.is_direct or ctx.person_id is None:
        return None
    async with ctx.db.read() as session:
        run = await polls_repo.survey_run(session, ctx.person_id)
    if run is None or run.finished_at is not None:
        return None
    found = await _step_view(ctx, run.step)
    return found[0] if found else None


async def after_answer(ctx: Context, view: PollView) -> Rich | None:
    """After a `/vote` on the current survey question: the next question, or thanks."""
    current = await current_view(ctx) if view.is_survey else None
    if current is None or current.poll.id != view.poll.id or ctx.person_id is None:
        return None
    person_id = ctx.person_id
    items = all_items(await questions_of(ctx))

    async def advance(session: AsyncSession) -> int:
        run = await polls_repo.survey_run(session, person_id)
        if run is None:
            return len(items)
        run.step += 1
        if run.step >= len(items):
            run.finished_at = ctx.services.now()
        return run.step

    step = await ctx.db.run(advance)
    found = await _step_view(ctx, step)
    if found is None:
        return ctx.t(
            "Das war die letzte Frage – danke! Die Ergebnisse aller: {results}",
            results=code(ctx.cmd("survey results")),
        )
    return _question_text(ctx, step, found[1], found[0])


# --- /survey results -------------------------------------------------------------------------


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
            raise UserError(
                ctx.t(
                    "Die Frage „{ref}“ gibt es nicht. {survey} zeigt alle.",
                    ref=question[:40],
                    survey=code(ctx.cmd("survey")),
                )
            )
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
        if tally.voters:
            best = max(range(len(view.options)), key=lambda i: tally.counts[i])
            line += " – " + ctx.t(
                "am häufigsten: „{option}“ ({share} %)",
                option=view.options[best],
                share=round(100 * tally.counts[best] / tally.voters),
            )
        rows.append(line)
    rows.append(ctx.t("Eine Frage im Detail: {example}", example=code(ctx.cmd("survey results 1"))))
    await ctx.reply(lines(*rows))
