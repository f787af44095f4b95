"""Asking before a second meeting with the same AG, title and start is planned (a command
sent twice, or typed again after a slow answer, would otherwise plan it twice).

The planned meeting waits, for ten minutes and in memory only, for the answer of the person
who asked, in the same chat: the buttons under the question, or `/meeting ja` / `/meeting
nein` typed (as `/forget JA` confirms elsewhere). A restart forgets the question; sending
the command again asks again.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.commands import Converter
from bot.context import Context, Services, UserError
from bot.core import Button
from bot.rich import Rich, bold, code, lines
from bot.when_text import format_full
from handlers.meetings.args import AgText, ag_text
from handlers.meetings.recurrence import Rule
from handlers.meetings.text import local, meeting_title, short_id
from storage.meetings import occurrences as occ
from storage.meetings.occurrences import OccurrenceView
from storage.models import Ag

log = logging.getLogger(__name__)

YES = frozenset({"ja", "j", "yes", "y"})
NO = frozenset({"nein", "n", "no"})
WAIT = timedelta(minutes=10)
BUTTON = "mdup"


@dataclass(frozen=True)
class Draft:
    """A meeting read from `/meeting`, not yet stored."""

    ag: Ag
    title: str
    place: str
    url: str
    tz: ZoneInfo
    start: datetime
    duration: timedelta
    rule: Rule | None


@dataclass(frozen=True)
class _Waiting:
    services: weakref.ref[Services]
    draft: Draft
    until: datetime


# (network, chat, sender) -> the meeting waiting for that person's answer in that chat.
_WAITING: dict[tuple[str, str, str], _Waiting] = {}


def _key(ctx: Context) -> tuple[str, str, str]:
    return (ctx.chat.platform, ctx.chat.id, ctx.sender.id)


def waiting(ctx: Context) -> Draft | None:
    """The meeting waiting for this sender's answer here, if the question is still open."""
    entry = _WAITING.get(_key(ctx))
    if entry is None or entry.services() is not ctx.services:
        return None
    if entry.until <= ctx.services.now():
        del _WAITING[_key(ctx)]
        return None
    return entry.draft


def take(ctx: Context) -> Draft | None:
    draft = waiting(ctx)
    _WAITING.pop(_key(ctx), None)
    return draft


def is_answer(text: str) -> bool:
    return text.strip().lower() in YES | NO


def meeting_spec(example: str) -> Converter:
    """`convert=` of `/meeting`'s text: an AG first, or `ja`/`nein` answering the question
    (then the waiting meeting's AG, so the rights are checked for it again)."""
    plain = ag_text(example)

    async def convert(ctx: Context, raw: str) -> AgText:
        if is_answer(raw):
            if (draft := waiting(ctx)) is None:
                raise UserError(nothing_waiting(ctx))
            return AgText(draft.ag, raw.strip().lower())
        result: AgText = await plain(ctx, raw)
        return result

    return convert


async def same_meeting(ctx: Context, draft: Draft) -> OccurrenceView | None:
    """A planned meeting of the AG with the same title (ignoring case) and start."""
    async with ctx.db.read() as session:
        found = await occ.scheduled_at(session, draft.ag.id, draft.start.astimezone(UTC))
    wanted = draft.title.casefold()
    return next((v for v in found if v.title.casefold() == wanted), None)


async def ask(ctx: Context, draft: Draft, same: OccurrenceView) -> None:
    _WAITING[_key(ctx)] = _Waiting(weakref.ref(ctx.services), draft, ctx.services.now() + WAIT)
    message: Rich = lines(
        bold(
            ctx.t(
                "In der AG {ag} gibt es schon {title} am {when} ({id}). Noch eins anlegen?",
                ag=draft.ag.name,
                title=meeting_title(ctx.lang, same.title),
                when=format_full(local(same), ctx.lang.code),
                id=code(short_id(same.id)),
            )
        ),
        ctx.t(
            "Antworte innerhalb von 10 Minuten mit {yes} oder {no}.",
            yes=code(ctx.cmd("meeting " + ctx.lang.gettext("ja"))),
            no=code(ctx.cmd("meeting " + ctx.lang.gettext("nein"))),
        ),
    )
    buttons = (
        Button(ctx.lang.gettext("Ja, anlegen"), f"{BUTTON}:yes", "✅"),
        Button(ctx.lang.gettext("Nein, nicht anlegen"), f"{BUTTON}:no", "❌"),
    )
    await ctx.reply_with_buttons(message, buttons)
    log.info("meeting in AG %s held back: same title and start as m%d", draft.ag.slug, same.id)


def declined(ctx: Context) -> Rich:
    return ctx.t("Gut, ich lege kein zweites Treffen an.")


def nothing_waiting(ctx: Context) -> Rich:
    return ctx.t("Hier wartet kein Treffen auf deine Antwort (die Frage gilt 10 Minuten).")
