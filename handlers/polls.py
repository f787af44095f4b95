"""Quick polls of an AG: `/poll` starts one in every chat of the AG, `/close` ends it,
`/polls` lists them. Votes: `handlers.vote`, results: `handlers.poll_results`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands as c
from bot import rights
from bot.context import Context, UserError
from bot.converters import chat_ag, convert_ag
from bot.core import ChatRef
from bot.i18n import N_
from bot.rich import Rich, bold, code, join, lines
from handlers.poll_args import checked, parse
from handlers.poll_common import (
    PollView,
    deadline_short,
    get_view,
    network_name,
    read_view,
)
from handlers.poll_lifecycle import close_poll, post_poll, schedule_close
from handlers.poll_results import result_text, tally_of
from storage import polls_repo, repo
from storage.models import Ag

feature = c.Feature("polls")


async def launch_ag(ctx: Context, flag: str | None) -> Ag:
    """The AG a poll is for (`--ag`, else this chat's), if the sender may poll it."""
    ag = await convert_ag(ctx, flag) if flag else await chat_ag(ctx)
    if ag is None:
        raise UserError(
            ctx.t(
                "Für welche AG? Gib sie mit {flag} an, z. B. {example}.",
                flag=code("--ag"),
                example=code(ctx.cmd('poll "Frage?" "Ja" "Nein" --ag ag2')),
            )
        )
    if not await rights.allowed(ctx, c.Right.LEAD, ag):
        raise UserError(
            ctx.t("Umfragen starten dürfen nur die Leitung der AG „{ag}“ und Admins.", ag=ag.name)
        )
    return ag


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
    person_id = ctx.person_id

    async def create(session: AsyncSession) -> PollView:
        poll = await polls_repo.create_poll(
            session,
            question=question,
            options=options,
            ag_id=ag.id,
            created_by=person_id,
            multi=multi,
            anonymous=anonymous,
            closes_at=closes_at,
            survey_key=survey_key,
            created_at=ctx.services.now(),
        )
        return await read_view(session, poll)

    view = await ctx.db.run(create)
    posted, failed = await post_poll(ctx.services, view)
    schedule_close(ctx.services, view)
    return view, posted, failed


def _chat_name(chat: ChatRef) -> str:
    return f"{chat.title or chat.id} ({network_name(chat.platform)})"


def launch_report(
    ctx: Context, view: PollView, posted: list[ChatRef], failed: list[ChatRef]
) -> Rich:
    rows: list[Rich | str] = []
    if posted:
        rows.append(
            ctx.tn(
                "Umfrage {id} läuft in {n} Chat: {chats}.",
                "Umfrage {id} läuft in {n} Chats: {chats}.",
                len(posted),
                id=code(view.short_id),
                chats=", ".join(_chat_name(chat) for chat in posted),
            )
        )
    else:
        rows.append(
            ctx.t(
                "Umfrage {id} läuft, aber die AG hat keinen verbundenen Chat. Mitglieder stimmen mit {vote} ab.",
                id=code(view.short_id),
                vote=code(ctx.cmd(f"vote {view.short_id} 1")),
            )
        )
    for chat in failed:
        rows.append(ctx.t("In {chat} konnte ich sie nicht posten.", chat=_chat_name(chat)))
    rows.append(
        ctx.t(
            "Ergebnis: {results} · Beenden: {close}",
            results=code(ctx.cmd(f"results {view.short_id}")),
            close=code(ctx.cmd(f"close {view.short_id}")),
        )
    )
    return lines(*rows)


@feature.command(
    "poll",
    help=N_("Eine Umfrage in allen Chats der AG starten"),
    params=(c.text("spec", N_('"Frage" "Antwort" "Antwort" …')),),
    right=c.Right.LEAD,
    needs_person=True,
    examples=(
        'poll "Wann treffen wir uns?" "Di 18 Uhr" "Mi 19 Uhr" "Do 17 Uhr"',
        'poll "Welche Themen?" "Energie" "Mobilität" "Bildung" --multi --for 3d',
        'poll "Neuer Name?" "Ja" "Nein" --anonymous --until 05.12.2026 18:00 --ag ag2',
    ),
    aliases=("umfrage",),
)
async def poll(ctx: Context, spec: str) -> None:
    args = parse(ctx, spec)
    ag = await launch_ag(ctx, args.ag)
    if not args.words:
        raise UserError(ctx.t("Die Umfrage braucht eine Frage."))
    question, options = checked(ctx, args.words[0], args.words[1:])
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
    params=(c.word("poll", N_("Umfrage")),),
    right=c.Right.LEAD,
    needs_person=True,
    examples=("close k3f7",),
    aliases=("beenden",),
)
async def close(ctx: Context, poll: str) -> None:
    view = await get_view(ctx, poll)
    if view.is_survey:
        raise UserError(ctx.t("Die Fragen des Gründungsfragebogens bleiben offen."))
    await rights.require(ctx, c.Right.LEAD, view.ag)
    if not view.is_open:
        raise UserError(ctx.t("Die Umfrage {id} ist schon beendet.", id=code(view.short_id)))
    await close_poll(ctx.services, view.poll.id)
    async with ctx.db.read() as session:
        chats = {
            (m.platform, m.chat_id) for m in await polls_repo.messages_of(session, view.poll.id)
        }
    if (ctx.chat.platform, ctx.chat.id) not in chats:
        closed = await get_view(ctx, view.short_id)
        tally = await tally_of(ctx.services, closed)
        await ctx.reply(result_text(ctx.services, ctx.lang, closed, tally, final=True))


@feature.command(
    "polls",
    help=N_("Laufende und letzte Umfragen deiner AGs"),
    aliases=("umfragen",),
)
async def list_polls(ctx: Context) -> None:
    async with ctx.db.read() as session:
        ags = await repo.linked_ags(session, ctx.chat.platform, ctx.chat.id)
        if not ags and ctx.person_id is not None:
            ags = [ag for ag, _ in await repo.memberships_of(session, ctx.person_id)]
        if not ags and ctx.is_admin:
            ags = await ctx.services.ags.all()
        by_id = {ag.id: ag for ag in ags}
        polls = await polls_repo.polls_of_ags(session, list(by_id), limit=15)
    if not polls:
        raise UserError(
            ctx.t(
                "Deine AGs haben noch keine Umfragen. Die Leitung startet eine mit {poll}.",
                poll=code(ctx.cmd('poll "Frage?" "A" "B"')),
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
        rows.append(join(["• " + code(row.short_id), row.question[:80], code(slug), status], " – "))
    rows.append(ctx.t("Ergebnis: {results}", results=code(ctx.cmd("results <Umfrage>"))))
    await ctx.reply(lines(*rows))
