"""The survey's rules: its questions from the templates file, one standing poll per
question for the whole alliance, and which question a `/survey 1` launches, for which AG.

Every question (each statement of a scale question) has one standing poll, which never
closes: `/survey run` answers go there, one answer per person (answering again replaces
it). A named AG poll started from a template feeds it too, so a person counts once per
question however they answered. Anonymous AG polls stay apart: without names they
cannot be merged without counting someone twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.commands import Right, rights
from bot.context import Context, Services, UserError
from bot.rich import code
from bot.text_cut import cut
from handlers.polls.args import PollArgs, parse
from handlers.polls.service import launch_ag, launch_refusal
from handlers.survey.templates import (
    SurveyError,
    SurveyItem,
    SurveyQuestion,
    find_question,
    load_survey,
)
from storage.models import Ag
from storage.polls import polls, writes
from storage.polls.models import Poll
from storage.polls.view import PollView
from storage.privacy.forget import CONFIRM_WORDS

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
    """The standing poll of a survey item (a new one if the template changed)."""
    work = partial(
        writes.ensure_standing,
        key=item.key,
        question=item.question,
        options=item.options,
        multi=item.multi,
        now=services.now(),
    )
    return await services.db.run(work)


def unknown_question(ctx: Context, ref: str) -> UserError:
    return UserError(
        ctx.t(
            "Die Frage „{ref}“ gibt es nicht. {survey} zeigt alle.",
            ref=cut(ref, 40),
            survey=code(ctx.cmd("survey")),
        )
    )


@dataclass(frozen=True)
class SurveyLaunch:
    """A `/survey 1 --for 3d` as typed: the question, the options read, the AG."""

    question: SurveyQuestion
    args: PollArgs
    ag: Ag
    again: bool = False  # `/survey 1 JA`: start it although it already runs in the AG


async def read_launch(ctx: Context, spec: str) -> SurveyLaunch:
    """The converter of `/survey`'s text: the question, then the AG to poll."""
    questions = await questions_of(ctx)
    if ctx.sender.anonymous:
        raise UserError(ctx.t("Schreib mir dafür bitte mit deinem eigenen Konto, nicht anonym."))
    args = parse(ctx, spec)
    words = args.words
    again = len(words) == 2 and words[1].lower() in CONFIRM_WORDS
    question = find_question(questions, words[0]) if len(words) == 1 or again else None
    if question is None:
        raise unknown_question(ctx, " ".join(words))
    ag = await launch_ag(ctx, args.ag, f"survey {question.id} --ag ag2")
    return SurveyLaunch(question, args, ag, again)


async def running(ctx: Context, launch: SurveyLaunch) -> list[Poll]:
    """The AG's open polls of this question (any of its statements)."""
    keys = [item.key for item in launch.question.items()]
    async with ctx.db.read() as session:
        return await polls.open_from_templates(session, launch.ag.id, keys)


def deadline(ctx: Context, launch: SurveyLaunch) -> datetime:
    """`--for`/`--until` if given, else `survey_poll_days` from now: no survey poll in an
    AG runs forever."""
    days = ctx.services.settings.survey_poll_days
    return launch.args.closes_at or ctx.services.now() + timedelta(days=days)


async def survey_scope(ctx: Context, args: Mapping[str, Any]) -> object:
    """Listing the questions is open to everyone; launching one takes a lead of the AG."""
    launch: SurveyLaunch | None = args.get("spec")
    if launch is None:
        return rights.OPEN
    return rights.Worded(launch.ag, launch_refusal, right=Right.LEAD)
