"""The leads' overview of an AG: numbers only, never names (`/stats ag2`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands as c
from bot.context import Context
from bot.i18n import N_
from bot.rich import Rich, bold, lines
from bot.when_text import format_short
from handlers.meetings.text import meeting_title
from storage import ballots_repo, polls_repo
from storage.meetings.models import Meeting, Occurrence, OccurrenceStatus, Rsvp
from storage.models import Account, Ag, Membership
from storage.poll_models import Poll

feature = c.Feature("stats")

NEW_DAYS = 30
RECENT_POLLS = 5
RECENT_MEETINGS = 5


@dataclass
class PollLine:
    short_id: str
    question: str
    voters: int
    closed: bool


@dataclass
class MeetingLine:
    start: datetime
    title: str
    answers: dict[str, int] = field(default_factory=dict)


@dataclass
class AgStats:
    members: int
    by_network: dict[str, int]
    new_members: int
    polls: list[PollLine]
    meetings: list[MeetingLine]


async def ag_stats(session: AsyncSession, ag_id: int, now: datetime) -> AgStats:
    members = int(await session.scalar(select(func.count()).where(Membership.ag_id == ag_id)) or 0)
    by_network = {
        platform: int(n)
        for platform, n in (
            await session.execute(
                select(Account.platform, func.count(func.distinct(Membership.person_id)))
                .join(Account, Account.person_id == Membership.person_id)
                .where(Membership.ag_id == ag_id)
                .group_by(Account.platform)
                .order_by(Account.platform)
            )
        ).all()
    }
    new_members = int(
        await session.scalar(
            select(func.count()).where(
                Membership.ag_id == ag_id, Membership.joined_at >= now - timedelta(days=NEW_DAYS)
            )
        )
        or 0
    )
    polls: list[PollLine] = []
    for poll in await session.scalars(
        select(Poll).where(Poll.ag_id == ag_id).order_by(Poll.id.desc()).limit(RECENT_POLLS)
    ):
        options = await polls_repo.options_of(session, poll.id)
        tally = await ballots_repo.tally(session, poll.id, len(options))
        polls.append(
            PollLine(poll.short_id, poll.question, tally.voters, poll.closed_at is not None)
        )
    meetings: list[MeetingLine] = []
    rows = (
        await session.execute(
            select(Occurrence, Meeting)
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(
                Meeting.ag_id == ag_id,
                Occurrence.start_at <= now,
                Occurrence.status == OccurrenceStatus.SCHEDULED.value,
            )
            .order_by(Occurrence.start_at.desc())
            .limit(RECENT_MEETINGS)
        )
    ).all()
    for occurrence, meeting in rows:
        answers = {
            answer: int(n)
            for answer, n in (
                await session.execute(
                    select(Rsvp.answer, func.count())
                    .where(Rsvp.occurrence_id == occurrence.id)
                    .group_by(Rsvp.answer)
                )
            ).all()
        }
        title = occurrence.title if occurrence.title is not None else meeting.title
        start = occurrence.start_at.astimezone(ZoneInfo(meeting.timezone))
        meetings.append(MeetingLine(start, title, answers))
    return AgStats(members, by_network, new_members, polls, meetings)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "–"


@feature.command(
    "stats",
    help=N_("Zahlen zu einer AG für ihre Leitung: Mitglieder, Umfragen, Treffen"),
    params=(c.ag(from_chat=True),),
    right=c.Right.LEAD,
    examples=("stats ag2",),
    aliases=("statistik",),
)
async def stats(ctx: Context, ag: Ag) -> None:
    async with ctx.db.read() as session:
        found = await ag_stats(session, ag.id, ctx.services.now())
    rows: list[Rich | str] = [bold(ctx.t("Zahlen zur AG {ag}", ag=ag.name))]
    rows.append(ctx.tn("{n} Mitglied", "{n} Mitglieder", found.members))
    for platform, n in found.by_network.items():
        rows.append("• " + ctx.t("{network}: {n}", network=platform, n=n))
    rows.append(
        ctx.tn(
            "{n} neues Mitglied in den letzten {days} Tagen",
            "{n} neue Mitglieder in den letzten {days} Tagen",
            found.new_members,
            days=NEW_DAYS,
        )
    )
    rows.append("")
    rows.append(bold(ctx.t("Beteiligung an Umfragen")))
    if not found.polls:
        rows.append(ctx.t("Noch keine Umfragen."))
    for poll in found.polls:
        state = ctx.t("beendet") if poll.closed else ctx.t("läuft")
        rows.append(
            "• "
            + ctx.tn(
                "{id} „{question}“ ({state}): {n} Stimme, {percent} der Mitglieder",
                "{id} „{question}“ ({state}): {n} Stimmen, {percent} der Mitglieder",
                poll.voters,
                id=poll.short_id,
                question=poll.question[:80],
                state=state,
                percent=_percent(poll.voters, found.members),
            )
        )
    rows.append("")
    rows.append(bold(ctx.t("Teilnahme an Treffen (Zusagen)")))
    if not found.meetings:
        rows.append(ctx.t("Noch keine vergangenen Treffen."))
    for meeting in found.meetings:
        rows.append(
            "• "
            + ctx.t(
                "{when} {title}: {yes} ja, {maybe} vielleicht, {no} nein",
                when=format_short(meeting.start, ctx.lang.code),
                title=meeting_title(ctx.lang, meeting.title[:60]),
                yes=meeting.answers.get("yes", 0),
                maybe=meeting.answers.get("maybe", 0),
                no=meeting.answers.get("no", 0),
            )
        )
    await ctx.reply(lines(*rows))
