"""What the poll commands share: a poll with its options and AG, and how polls, times
and networks are named in replies. Who may manage or see a poll: bot/rights.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, Services, UserError
from bot.core import ChatRef
from bot.i18n import Lang
from bot.rich import Rich, bold, code
from bot.when_text import format_full, format_short
from storage import polls_repo
from storage.models import Ag
from storage.poll_models import Poll, PollKind

NETWORK_NAMES = {"telegram": "Telegram", "matrix": "Matrix", "console": "Konsole"}


@dataclass(frozen=True)
class PollView:
    """A poll as the handlers need it: the row, its option texts, its AG (None for the
    standing survey polls)."""

    poll: Poll
    options: list[str]
    ag: Ag | None

    @property
    def short_id(self) -> str:
        return self.poll.short_id

    @property
    def is_open(self) -> bool:
        return self.poll.closed_at is None

    @property
    def is_survey(self) -> bool:
        return self.poll.kind == PollKind.SURVEY.value

    @property
    def closes_at(self) -> datetime | None:
        return polls_repo.utc(self.poll.closes_at)

    def accepts_at(self, at: datetime) -> bool:
        """Whether an answer given at `at` still counts: open, and before the deadline."""
        closes_at = self.closes_at
        return self.is_open and (closes_at is None or at < closes_at)


async def read_view(session: AsyncSession, poll: Poll) -> PollView:
    options = await polls_repo.options_of(session, poll.id)
    ag = await session.get(Ag, poll.ag_id) if poll.ag_id is not None else None
    return PollView(poll, options, ag)


async def load_view(services: Services, short_id: str) -> PollView | None:
    async with services.db.read() as session:
        poll = await polls_repo.poll_by_short_id(session, short_id)
        return await read_view(session, poll) if poll is not None else None


async def view_by_id(services: Services, poll_id: int) -> PollView | None:
    async with services.db.read() as session:
        poll = await session.get(Poll, poll_id)
        return await read_view(session, poll) if poll is not None else None


async def get_view(ctx: Context, raw: str) -> PollView:
    """The poll a user named by its short id, or a UserError that says what to try."""
    value = raw.strip().lower()
    view = await load_view(ctx.services, value) if polls_repo.looks_like_short_id(value) else None
    if view is None:
        raise UserError(
            ctx.t(
                "Eine Umfrage „{id}“ kenne ich nicht. {polls} zeigt die Umfragen deiner AGs.",
                id=raw[:20],
                polls=code(ctx.cmd("polls")),
            )
        )
    return view


def network_name(platform: str | None) -> str:
    if platform is None:
        return "?"
    return NETWORK_NAMES.get(platform, platform.capitalize())


def poll_title(view: PollView) -> Rich:
    return bold(view.poll.question) + " (" + code(view.short_id) + ")"


def deadline_full(services: Services, when: datetime, lang: Lang) -> str:
    return format_full(when.astimezone(services.settings.tz), lang.code)


def deadline_short(services: Services, when: datetime, lang: Lang) -> str:
    return format_short(when.astimezone(services.settings.tz), lang.code)


def chat_lang(services: Services, chat: ChatRef) -> Lang:
    """The language for a whole chat (a group's members may read several; config decides)."""
    return services.translator.for_language(services.outbox.chat_language(chat))


def prefix_of(services: Services, platform: str) -> str:
    transport = services.transports.get(platform)
    return transport.command_prefix if transport is not None else "/"
