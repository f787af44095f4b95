"""`/survey run`: one person walks through every question privately, answering each with
`/vote`; the step they are at is stored, so they can stop and go on later."""

from __future__ import annotations

from functools import partial

from bot.context import Context
from bot.rich import Rich, bold, code, italic, lines
from handlers.survey.service import ensure_standing, questions_of
from handlers.survey.templates import all_items
from storage.polls import polls, writes
from storage.polls.view import PollView


def question_text(ctx: Context, step: int, total: int, view: PollView) -> Rich:
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


async def step_view(ctx: Context, step: int) -> tuple[PollView, int] | None:
    """The standing poll of the `step`th item and how many there are; None past the end."""
    items = all_items(await questions_of(ctx))
    if step >= len(items):
        return None
    return await ensure_standing(ctx.services, items[step]), len(items)


async def start(ctx: Context, person_id: int) -> tuple[bool, int]:
    """(resumed, step): go on where an unfinished run stopped, else start from the top."""
    async with ctx.db.read() as session:
        run = await polls.survey_run(session, person_id)
    resume = run is not None and run.finished_at is None and run.step > 0
    if run is not None and resume:
        return True, run.step
    await ctx.db.run(partial(polls.start_survey_run, person_id=person_id))
    return False, 0


async def current_view(ctx: Context) -> PollView | None:
    """The question a person is at in `/survey run` (private chats only)."""
    if not ctx.message.is_direct or ctx.person_id is None:
        return None
    async with ctx.db.read() as session:
        run = await polls.survey_run(session, ctx.person_id)
    if run is None or run.finished_at is not None:
        return None
    found = await step_view(ctx, run.step)
    return found[0] if found else None


async def after_answer(ctx: Context, view: PollView) -> Rich | None:
    """After a `/vote` on the current survey question: the next question, or thanks."""
    current = await current_view(ctx) if view.is_survey else None
    if current is None or current.poll.id != view.poll.id or ctx.person_id is None:
        return None
    items = all_items(await questions_of(ctx))
    advance = partial(
        writes.advance_survey_run,
        person_id=ctx.person_id,
        items=len(items),
        now=ctx.services.now(),
    )
    step = await ctx.db.run(advance)
    found = await step_view(ctx, step)
    if found is None:
        return ctx.t(
            "Das war die letzte Frage – danke! Die Ergebnisse aller: {results}",
            results=code(ctx.cmd("survey results")),
        )
    return question_text(ctx, step, found[1], found[0])
