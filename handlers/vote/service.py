"""The rules of `/vote`: which poll a bare `/vote 2` means, whether this person may
answer it here, and what the typed numbers choose."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.commands import rights
from bot.context import Context, UserError
from bot.rich import Rich, code, lines
from bot.text_cut import cut
from handlers.polls.views import get_view, my_ag_ids
from handlers.polls.votes import is_member
from handlers.survey import walk
from storage import repo
from storage.polls import polls
from storage.polls.models import Poll
from storage.polls.view import PollView, the_open_view

_RETRACT = {"-", "0", "x", "zurück", "zurueck", "nichts", "none", "retract", "skip"}


def choices(ctx: Context, view: PollView, raw: str, *, named: bool = True) -> list[int]:
    """`2`, `1,3`, `1 3`, `1;3` -> 0-based positions; `-` -> [] (retract). `named`: the
    person typed the poll's id; else the example leaves it out too (the survey's
    walk-through never shows its polls' ids)."""
    value = raw.strip().lower()
    if value in _RETRACT:
        return []
    parts = [p for p in re.split(r"[,;\s]+", value) if p]
    count = len(view.options)
    if not parts or not all(p.isdecimal() and 1 <= int(p) <= count for p in parts):
        raise UserError(
            ctx.t(
                "Bitte wähle eine Nummer von 1 bis {max}, z. B. {example}.",
                max=count,
                example=code(ctx.cmd(f"vote {view.short_id} 1" if named else "vote 1")),
            )
        )
    positions = list(dict.fromkeys(int(p) - 1 for p in parts))
    if len(positions) > 1 and not view.poll.multi:
        raise UserError(ctx.t("Bei dieser Umfrage geht nur eine Antwort."))
    return sorted(positions)


@dataclass(frozen=True)
class VoteText:
    """`/vote k3f7 2` as typed: the poll named first (None: the one meant here), the rest."""

    view: PollView | None
    answer: str


async def read_answer(ctx: Context, answer: str) -> VoteText:
    """The converter of `/vote`'s text: a leading poll id is loaded (or refused)."""
    first, _, rest = answer.strip().partition(" ")
    if polls.looks_like_short_id(first) and first.lower() not in _RETRACT:
        return VoteText(await get_view(ctx, first), rest)
    return VoteText(None, answer)


async def vote_scope(ctx: Context, args: Mapping[str, Any]) -> object:
    """Asking how to answer a poll (`/vote k3f7`) is for its followers; answering is
    open, and the vote's own rules (members of the AG, privately if anonymous) apply."""
    typed: VoteText = args["answer"]
    if typed.view is None or typed.answer.strip():
        return rights.OPEN
    return typed.view.ag


async def implicit_poll(ctx: Context, typed: str) -> PollView:
    """`/vote 2` without an id: the survey question in progress, else the one open poll
    of this chat's AGs (in a private chat: of my AGs); with several, a list to choose from."""
    current = await walk.current_view(ctx)
    if current is not None:
        return current
    ag_ids = await my_ag_ids(ctx)
    async with ctx.db.read() as session:
        view, polls = await the_open_view(session, ag_ids)
    if view is not None:
        return view
    if not polls:
        raise UserError(ctx.t("Gerade läuft keine Umfrage, bei der du hier abstimmen kannst."))
    raise UserError(await _which_poll(ctx, polls, typed))


async def _which_poll(ctx: Context, open_polls: list[Poll], typed: str) -> Rich:
    """The open polls, newest first, each whole with the command that answers it."""
    answer = cut(" ".join(typed.split()), 20) or "1"
    slugs = {ag.id: ag.slug for ag in await ctx.services.ags.all(include_archived=True)}
    several_ags = len({poll.ag_id for poll in open_polls}) > 1
    rows: list[Rich | str] = [ctx.t("Es laufen {n} Umfragen. Welche meinst du?", n=len(open_polls))]
    for number, poll in enumerate(open_polls, 1):
        where = f" ({slugs.get(poll.ag_id or 0, '')})" if several_ags else ""
        rows.append(
            f"{number}. {poll.question}{where} – " + code(ctx.cmd(f"vote {poll.short_id} {answer}"))
        )
    return lines(*rows)


async def check_allowed(ctx: Context, view: PollView, person_id: int) -> None:
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
        messages = await polls.messages_of(session, view.poll.id)
        networks = {a.platform for a in await repo.accounts_of(session, person_id)}
    if any(m.native_id and m.platform in networks | {ctx.sender.platform} for m in messages):
        # Those answers arrive as totals without names: a private vote could count twice,
        # also when it comes from another network of a person with connected accounts.
        raise UserError(
            ctx.t(
                "Diese anonyme Umfrage läuft in der Gruppe deiner AG als Umfrage zum Antippen – stimm bitte dort ab."
            )
        )
