"""The rules of Terminumfragen: which one a typed id means, whose right a command needs,
whether it still takes answers, and posting its summary to the AG's chats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.commands import rights
from bot.context import Context, UserError
from bot.outbox import Audience, Reader
from bot.rich import Rich, code
from handlers.datepoll.render import summary
from storage import repo
from storage.datepoll import polls
from storage.datepoll.models import DatePoll, DatePollStatus
from storage.datepoll.polls import DatePollView
from storage.models import Ag
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


def refuse_if_closed(ctx: Context, poll: DatePoll) -> None:
    """Answers are taken while the poll is open and before its deadline."""
    if poll.status == DatePollStatus.PICKED.value:
        raise UserError(decided(ctx, poll))
    if poll.status != DatePollStatus.OPEN.value or (
        poll.closes_at is not None and poll.closes_at <= ctx.services.now()
    ):
        raise UserError(
            ctx.t("Die Terminumfrage {id} nimmt keine Antworten mehr an.", id=code(poll.short_id))
        )


def summary_for(view: DatePollView, ag: Ag, members: list[MemberRow]) -> Callable[[Reader], Rich]:
    return lambda reader: summary(reader.lang, reader.prefix, view, ag, members)


async def post_summary(ctx: Context, loaded: Loaded, key: str) -> None:
    """Post the summary to the AG's chats except this one (it got the reply) and remember
    each message, so that a later step can edit it in place."""
    view, members = await current(ctx, loaded.poll.id)
    chats = [c for c in await ctx.services.ag_chats(loaded.ag.id) if c.key != ctx.chat.key]
    sent = await ctx.services.outbox.fan_out(
        [Audience.of_chat(chat) for chat in chats],
        summary_for(view, loaded.ag, members),
        key=key,
    )
    refs = [ref for ref in sent if ref is not None]
    if ctx.chat.key in {c.key for c in await ctx.services.ag_chats(loaded.ag.id)}:
        refs += ctx.replies[-1:]

    rows = [(ref.chat.platform, ref.chat.id, ref.message_id) for ref in refs]
    await ctx.db.run(lambda s: polls.record_messages(s, loaded.poll.id, rows))
