"""`/vote`: answering a poll by number, for networks and clients without native polls,
for anonymous polls (privately), and for the survey walk-through."""

from __future__ import annotations

import re

from bot import commands as c
from bot import rights
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, code, join
from handlers import survey
from handlers.poll_common import PollView, get_view, read_view
from handlers.poll_votes import is_member, record
from storage import polls_repo, repo
from storage.ballots_repo import Outcome

feature = c.Feature("vote")

_RETRACT = {"-", "0", "x", "zurück", "zurueck", "nichts", "none", "retract", "skip"}


def _quoted(view: PollView, positions: list[int]) -> Rich:
    return join([f"„{view.options[p]}“" for p in positions], ", ")


def _choices(ctx: Context, view: PollView, raw: str) -> list[int]:
    """`2`, `1,3`, `1 3`, `1;3` -> 0-based positions; `-` -> [] (retract)."""
    value = raw.strip().lower()
    if value in _RETRACT:
        return []
    parts = [p for p in re.split(r"[,;\s]+", value) if p]
    count = len(view.options)
    if not parts or not all(p.isdigit() and 1 <= int(p) <= count for p in parts):
        raise UserError(
            ctx.t(
                "Bitte wähle eine Nummer von 1 bis {max}, z. B. {example}.",
                max=count,
                example=code(ctx.cmd(f"vote {view.short_id} 1")),
            )
        )
    positions = list(dict.fromkeys(int(p) - 1 for p in parts))
    if len(positions) > 1 and not view.poll.multi:
        raise UserError(ctx.t("Bei dieser Umfrage geht nur eine Antwort."))
    return sorted(positions)


async def _implicit_poll(ctx: Context) -> PollView:
    """`/vote 2` without an id: the survey question in progress, else the one open poll
    of this chat's AGs (in a private chat: of my AGs)."""
    current = await survey.current_view(ctx)
    if current is not None:
        return current
    async with ctx.db.read() as session:
        ag_ids = [a.id for a in await repo.linked_ags(session, ctx.chat.platform, ctx.chat.id)]
        if not ag_ids and ctx.person_id is not None:
            ag_ids = [a.id for a, _ in await repo.memberships_of(session, ctx.person_id)]
        polls = await polls_repo.polls_of_ags(session, ag_ids, open_only=True)
        if len(polls) == 1:
            return await read_view(session, polls[0])
    if not polls:
        raise UserError(ctx.t("Gerade läuft keine Umfrage, bei der du hier abstimmen kannst."))
    ids = join([code(p.short_id) + " " + p.question[:40] for p in polls], "; ")
    raise UserError(
        ctx.t(
            "Es laufen mehrere Umfragen: {ids}. Bitte mit Nummer der Umfrage, z. B. {example}.",
            ids=ids,
            example=code(ctx.cmd(f"vote {polls[0].short_id} 1")),
        )
    )


async def _check_allowed(ctx: Context, view: PollView, person_id: int) -> None:
    if not view.accepts_at(ctx.services.now()):
        raise UserError(
            ctx.t(
                "Die Umfrage {id} ist beendet; Stimmen zählen nicht mehr. Ergebnis: {results}",
                id=code(view.short_id),
                results=code(ctx.cmd(f"results {view.short_id}")),
            )
        )
    if view.ag is not None and not await is_member(ctx.services, person_id, view):
        raise UserError(
            ctx.t(
                "Abstimmen können nur Mitglieder der AG „{ag}“. Mit {join} trittst du bei.",
                ag=view.ag.name,
                join=code(ctx.cmd(f"join {view.ag.slug}")),
            )
        )
    if not view.poll.anonymous:
        return
    if not ctx.message.is_direct:
        raise UserError(
            ctx.t(
                "Diese Umfrage ist anonym: schreib mir deine Antwort bitte im privaten Chat, sonst sehen alle hier, wie du abstimmst. Diese Nachricht habe ich nicht gezählt."
            )
        )
    async with ctx.db.read() as session:
        messages = await polls_repo.messages_of(session, view.poll.id)
        networks = {a.platform for a in await repo.accounts_of(session, person_id)}
    if any(m.native_id and m.platform in networks | {ctx.sender.platform} for m in messages):
        # Those answers arrive as totals without names: a private vote could count twice,
        # also when it comes from another network of a person with connected accounts.
        raise UserError(
            ctx.t(
                "Diese anonyme Umfrage läuft in der Gruppe deiner AG als Umfrage zum Antippen – stimm bitte dort ab."
            )
        )


def _confirmation(ctx: Context, view: PollView, outcome: Outcome, positions: list[int]) -> Rich:
    chosen = _quoted(view, positions)
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
    params=(c.text("answer", N_("Umfrage und Nummer")),),
    needs_person=True,
    examples=("vote k3f7 2", "vote 2", "vote k3f7 1,3"),
    aliases=("abstimmen",),
)
async def vote(ctx: Context, answer: str) -> None:
    person_id = await ctx.ensure_person()
    first, _, rest = answer.strip().partition(" ")
    if polls_repo.looks_like_short_id(first) and first.lower() not in _RETRACT:
        view = await get_view(ctx, first)
        if not rest.strip():
            if view.ag is not None:
                await rights.require_follows(ctx, view.ag)
            await ctx.reply(_how_to(ctx, view))
            return
        raw = rest
    else:
        view = await _implicit_poll(ctx)
        raw = answer
    await _check_allowed(ctx, view, person_id)
    positions = _choices(ctx, view, raw)
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
    following = await survey.after_answer(ctx, view)
    await ctx.reply(message + "\n\n" + following if following else message)


def _how_to(ctx: Context, view: PollView) -> Rich:
    rows: list[Rich | str] = [code(view.short_id) + " " + view.poll.question]
    rows += [f"{i}. {option}" for i, option in enumerate(view.options, 1)]
    rows.append(ctx.t("Abstimmen: {vote}", vote=code(ctx.cmd(f"vote {view.short_id} 1"))))
    return join(rows, "\n")
