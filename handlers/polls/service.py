"""The rules of quick polls: which poll a command means, for which AG a poll is started,
starting and closing it; and the scopes that tell dispatch whose right a command needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from bot.commands import Scope, rights
from bot.commands.convert import chat_ag, convert_ag
from bot.context import Context, UserError
from bot.core import ChatRef
from bot.i18n import N_
from bot.rich import Rich, code
from handlers.nudges.schedule import plan as plan_nudges
from handlers.polls.args import PollArgs, parse
from handlers.polls.lifecycle import close_poll, post_poll, schedule_close
from handlers.polls.views import get_view, meant_view
from storage import repo
from storage.models import Ag
from storage.notices.subjects import POLL
from storage.polls import polls, writes
from storage.polls.models import Poll
from storage.polls.view import PollView


def launch_refusal(ctx: Context, ag: Ag) -> Rich:
    return ctx.t("Umfragen starten dürfen nur die Leitung der AG „{ag}“ und Admins.", ag=ag.name)


def results_refusal(ctx: Context, ag: Ag) -> Rich:
    return ctx.t("Das Ergebnis sehen nur Mitglieder der AG „{ag}“ und ihre Chats.", ag=ag.name)


async def polls_to_list(ctx: Context) -> tuple[list[Poll], dict[int, Ag]]:
    """`/polls`: this chat's AGs, else mine, else (admins) every AG; the newest 15."""
    async with ctx.db.read() as session:
        ags = await repo.linked_ags(session, ctx.chat.platform, ctx.chat.id)
        if not ags and ctx.person_id is not None:
            ags = [ag for ag, _ in await repo.memberships_of(session, ctx.person_id)]
    if not ags:
        ags = await rights.led(ctx, await ctx.services.ags.all())
    by_id = {ag.id: ag for ag in ags}
    async with ctx.db.read() as session:
        found = await polls.polls_of_ags(session, list(by_id), limit=15)
    return found, by_id


# --- starting a poll ----------------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    """A `/poll` as typed: the options read, and the AG it is for."""

    args: PollArgs
    ag: Ag


async def launch_ag(
    ctx: Context, flag: str | None, example: str = N_('poll "Frage?" "Ja" "Nein" --ag ag2')
) -> Ag:
    """The AG a poll is for: `--ag`, else this chat's. `example`: the command as it would
    be typed with `--ag` (a survey question's, for `/survey`)."""
    ag = await convert_ag(ctx, flag) if flag else await chat_ag(ctx)
    if ag is None:
        raise UserError(
            ctx.t(
                "Für welche AG? Gib sie mit {flag} an, z. B. {example}.",
                flag=code("--ag"),
                example=code(ctx.example(example)),
            )
        )
    return ag


async def read_launch(ctx: Context, spec: str) -> Launch:
    """The converter of `/poll`'s text: the options, then the AG."""
    args = parse(ctx, spec)
    return Launch(args, await launch_ag(ctx, args.ag))


async def launch_scope(ctx: Context, args: Mapping[str, Any]) -> rights.Worded:
    """`/poll`: a lead of the poll's AG, refused in the words polls always used."""
    launch: Launch = args["spec"]
    return rights.Worded(launch.ag, launch_refusal)


async def launch(
    ctx: Context,
    ag: Ag,
    question: str,
    options: Sequence[str],
    *,
    multi: bool,
    anonymous: bool,
    closes_at: datetime | None,
    survey_key: str | None = None,
) -> tuple[PollView, list[ChatRef], list[ChatRef]]:
    """Store the poll, post it to the AG's chats, schedule its close."""
    create = partial(
        writes.create_view,
        question=question,
        options=options,
        ag=ag,
        created_by=ctx.person_id,
        multi=multi,
        anonymous=anonymous,
        closes_at=closes_at,
        survey_key=survey_key,
        created_at=ctx.services.now(),
    )
    view = await ctx.db.run(create)
    posted, failed = await post_poll(ctx.services, view)
    schedule_close(ctx.services, view)
    await plan_nudges(ctx.services, POLL, view.poll.id)
    return view, posted, failed


# --- closing and the other scopes ---------------------------------------------------------


def poll_scope(name: str = "poll") -> Scope:
    """The AG of the converted poll argument (None for the survey's: admins, or everyone)."""
    return rights.arg(name, lambda view: view.ag)


async def close_scope(ctx: Context, args: Mapping[str, Any]) -> object:
    """`/close`: the poll's leads; the survey's questions are never closed, which the
    handler tells anyone who tries."""
    view: PollView = args["poll"]
    return rights.OPEN if view.is_survey else view.ag


async def close(ctx: Context, view: PollView) -> PollView | None:
    """Close the poll; the closed poll when this chat got no result of its own."""
    if view.is_survey:
        raise UserError(ctx.t("Die Fragen des Gründungsfragebogens bleiben offen."))
    if not view.is_open:
        raise UserError(ctx.t("Die Umfrage {id} ist schon beendet.", id=code(view.short_id)))
    await close_poll(ctx.services, view.poll.id)
    async with ctx.db.read() as session:
        chats = {(m.platform, m.chat_id) for m in await polls.messages_of(session, view.poll.id)}
    if (ctx.chat.platform, ctx.chat.id) in chats:
        return None
    return await get_view(ctx, view.short_id)


async def results_scope(ctx: Context, args: Mapping[str, Any]) -> object:
    """`/results`: the poll's followers (polls without an AG: everyone)."""
    view = await meant_view(ctx, args.get("poll"))
    return None if view.ag is None else rights.Worded(view.ag, results_refusal)
