"""The rules of Terminumfragen: which one a typed id means, whose right a command needs,
whether it still takes answers, and posting its summary to the AG's chats."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.commands import rights
from bot.context import Context, Services, UserError
from bot.core import SentRef
from bot.outbox import Audience, Reader
from bot.rich import Rich, code
from handlers.datepoll import live
from handlers.datepoll.keyboard import answer_buttons
from handlers.datepoll.live import summary_text
from handlers.nudges.schedule import answered as nudge_answered
from storage import repo
from storage.datepoll import polls
from storage.datepoll.models import Answer, DatePoll, DatePollStatus
from storage.datepoll.polls import DatePollView
from storage.models import Ag
from storage.notices.subjects import DATEPOLL
from storage.polls.polls import looks_like_short_id
from storage.repo import MemberRow


@dataclass(frozen=True)
class Loaded:
    """A Terminumfrage named by its id, with its AG (for the rights check)."""

    poll: DatePoll
    ag: Ag


async def load(ctx: Context, raw: str) -> Loaded:
    """`convert=` of a Terminumfrage id (`k3f7`)."""
    typed = raw.strip().lower()
    poll = None
    if looks_like_short_id(typed):
        async with ctx.db.read() as session:
            poll = await polls.by_short_id(session, typed)
    ags = {ag.id: ag for ag in await ctx.services.ags.all(include_archived=True)}
    if poll is None or poll.ag_id not in ags:
        if any(ag.slug == typed for ag in ags.values()):
            # `/termin ag2 Di 19 Uhr` was once the way to plan a meeting.
            raise UserError(
                ctx.t(
                    "{termin} beantwortet eine Terminumfrage. Einen Termin planen: {meeting}",
                    termin=code(ctx.cmd("termin")),
                    meeting=code(ctx.cmd(f"meeting {typed} …")),
                )
            )
        raise UserError(
            ctx.t("Eine Terminumfrage {id} kenne ich nicht.", id=code(raw.strip()[:20]))
        )
    return Loaded(poll, ags[poll.ag_id])


scope = rights.arg("poll", lambda loaded: loaded.ag)


async def current(ctx: Context, poll_id: int) -> tuple[DatePollView, list[MemberRow]]:
    """The poll as it is now, with its answers and the AG's members."""
    async with ctx.db.read() as session:
        poll = await session.get(DatePoll, poll_id)
        assert poll is not None
        await session.refresh(poll)
        view = await polls.view(session, poll)
        members = await repo.members_of(session, poll.ag_id)
    return view, members


def decided(ctx: Context, poll: DatePoll) -> Rich:
    """A picked poll's answer; while its meeting is being planned it has no id yet."""
    if poll.occurrence_id is None:
        return ctx.t(
            "Die Terminumfrage {id} ist gerade entschieden worden.", id=code(poll.short_id)
        )
    return ctx.t(
        "Die Terminumfrage {id} ist schon entschieden: {meeting}.",
        id=code(poll.short_id),
        meeting=code(f"m{poll.occurrence_id}"),
    )


def refuse_if_archived(ctx: Context, poll: DatePoll, ag: Ag) -> None:
    """An archived AG's Terminumfrage rests: no answers, no pick (no new meeting)."""
    if ag.archived:
        raise UserError(
            ctx.t(
                "Die AG {ag} ist archiviert; ihre Terminumfrage {id} ruht.",
                ag=ag.name,
                id=code(poll.short_id),
            )
        )


def refuse_if_closed(ctx: Context, poll: DatePoll, ag: Ag) -> None:
    """Answers are taken while the poll is open, before its deadline, in a live AG."""
    refuse_if_archived(ctx, poll, ag)
    if poll.status == DatePollStatus.PICKED.value:
        raise UserError(decided(ctx, poll))
    if poll.status != DatePollStatus.OPEN.value or (
        poll.closes_at is not None and poll.closes_at <= ctx.services.now()
    ):
        raise UserError(
            ctx.t("Die Terminumfrage {id} nimmt keine Antworten mehr an.", id=code(poll.short_id))
        )


def reader_of(ctx: Context) -> Reader:
    """How to write for the chat of the command (as the outbox would)."""
    return Reader(ctx.lang, ctx.transport.command_prefix, ctx.transport.capabilities)


async def store(ctx: Context, loaded: Loaded, given: Mapping[int, Answer]) -> tuple[int, int]:
    """Save a member's answers (position -> answer) while the poll takes them: the
    person's id and how many answers changed. Typed (`/termin`) and pressed (buttons,
    reactions) answers alike."""
    refuse_if_closed(ctx, loaded.poll, loaded.ag)
    person_id = await ctx.ensure_person()
    async with ctx.db.read() as session:
        member = await repo.membership(session, person_id, loaded.ag.id)
    if member is None:
        raise UserError(
            ctx.t(
                "Antworten dürfen nur Mitglieder der AG {ag}. Beitreten: {join}",
                ag=loaded.ag.name,
                join=code(ctx.cmd(f"join {loaded.ag.slug}")),
            )
        )
    now = ctx.services.now()
    changed = await ctx.db.run(
        lambda s: polls.set_answers(s, loaded.poll.id, person_id, ctx.chat.platform, given, now)
    )
    return person_id, changed


async def answered(services: Services, poll_id: int) -> None:
    """An answer changed the poll (typed, pressed or reacted): its summaries are edited,
    and the lead hears once when every member has answered."""
    await live.answered(services, poll_id)
    await nudge_answered(services, DATEPOLL, poll_id)


async def post_summary(ctx: Context, loaded: Loaded, key: str, here: SentRef | None) -> None:
    """Post the summary with its answer buttons to the AG's chats except this one (`here`:
    the reply in it, if this is one of them) and remember each message, so that it can be
    edited as answers come in (live.py)."""
    view, members = await current(ctx, loaded.poll.id)
    now = ctx.services.now()
    chats = [c for c in await ctx.services.ag_chats(loaded.ag.id) if c.key != ctx.chat.key]
    sent = await ctx.services.outbox.fan_out(
        [Audience.of_chat(chat) for chat in chats],
        lambda reader: summary_text(reader, view, loaded.ag, members, now),
        key=key,
        buttons=lambda reader: answer_buttons(reader, view, now),
    )
    refs = [ref for ref in sent if ref is not None] + ([here] if here is not None else [])
    rows = [(ref.chat.platform, ref.chat.id, ref.message_id) for ref in refs]
    await ctx.db.run(lambda s: polls.record_messages(s, loaded.poll.id, rows))
