"""`/vote`: answering a poll by number, for networks and clients without native polls,
for anonymous polls (privately), and for the survey walk-through. The rules:
handlers/vote/service.py; storing the vote: handlers/polls/votes.py."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, code, join
from handlers.nudges.schedule import answered
from handlers.polls.votes import record
from handlers.survey import walk
from handlers.vote.service import (
    VoteText,
    check_allowed,
    choices,
    implicit_poll,
    read_answer,
    vote_scope,
)
from storage import repo
from storage.notices.subjects import POLL
from storage.polls.ballots import Outcome
from storage.polls.view import PollView

feature = c.Feature("vote")


def _quoted(ctx: Context, view: PollView, positions: list[int]) -> Rich:
    return join([ctx.t("„{title}“", title=view.options[p]) for p in positions], ", ")


def _confirmation(ctx: Context, view: PollView, outcome: Outcome, positions: list[int]) -> Rich:
    chosen = _quoted(ctx, view, positions)
    if outcome is Outcome.NEW:
        text = ctx.t("Danke! Deine Stimme zählt: {chosen}", chosen=chosen)
    elif outcome is Outcome.CHANGED or outcome is Outcome.STALE:
        text = ctx.t("Deine Stimme ist geändert: {chosen}", chosen=chosen)
    elif outcome is Outcome.SAME:
        text = ctx.t("Das hattest du schon gewählt: {chosen}", chosen=chosen)
    elif outcome is Outcome.RETRACTED:
        text = ctx.t("Deine Stimme ist zurückgezogen.")
    else:
        text = ctx.t("Du hattest hier noch nicht abgestimmt.")
    if view.poll.anonymous and positions:
        text += " " + ctx.t("(anonym gespeichert)")
    return text


@feature.command(
    "vote",
    help=N_("Bei einer Umfrage abstimmen (Nummer der Antwort; - zieht zurück)"),
    params=(c.Param("answer", c.Kind.TEXT, N_("Umfrage und Nummer"), convert=read_answer),),
    right=c.Right.FOLLOWER,
    scope=vote_scope,
    needs_person=True,
    examples=("vote k3f7 2", "vote 2", "vote k3f7 1,3"),
    aliases=("abstimmen",),
)
async def vote(ctx: Context, answer: VoteText) -> None:
    person_id = await ctx.ensure_person()
    if answer.view is not None and not answer.answer.strip():
        await ctx.reply(_how_to(ctx, answer.view))
        return
    view = answer.view or await implicit_poll(ctx, answer.answer)
    await check_allowed(ctx, view, person_id)
    positions = choices(ctx, view, answer.answer, named=answer.view is not None)
    async with ctx.db.read() as session:
        account = await repo.find_account(session, ctx.sender.platform, ctx.sender.id)
    assert account is not None  # ensure_person made it
    now = ctx.services.now()
    outcome = await record(ctx.services, view, positions, at=now, account_id=account.id)
    if outcome is None:  # closed between the check and the vote
        raise UserError(
            ctx.t("Die Umfrage {id} ist gerade beendet worden.", id=code(view.short_id))
        )
    message = _confirmation(ctx, view, outcome, positions)
    following = await walk.after_answer(ctx, view)
    if following is not None and not positions:
        message = ctx.t("Übersprungen.")
    await ctx.reply(message + "\n\n" + following if following else message)
    await answered(ctx.services, POLL, view.poll.id)


def _how_to(ctx: Context, view: PollView) -> Rich:
    rows: list[Rich | str] = [code(view.short_id) + " " + view.poll.question]
    rows += [f"{i}. {option}" for i, option in enumerate(view.options, 1)]
    rows.append(ctx.t("Abstimmen: {vote}", vote=code(ctx.cmd(f"vote {view.short_id} 1"))))
    return join(rows, "\n")
