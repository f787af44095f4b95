"""Keeping a Terminumfrage's summary current: after every answer (text, button,
reaction) the summary messages in the AG's chats are edited where the network has edits.

At most one edit per poll every `EDIT_EVERY`: the first answer edits at once and starts
a quiet interval; answers within it are coalesced into one edit at its end, which reads
the answers as they are then (nothing is lost) and starts the next interval. Edits are
jobs of the services' timers (bot/timers.py): they run beside the answer paths, never in
them, and tests move them with their clock. An edit still to come when the bot stopped is made at the next start
(`catch_up`): a summary older than the poll's newest answer is edited then.

`refresh(services, poll_id)` is also the hook for a change that is no answer: at the
deadline or after the pick it gives the summaries their last state (without buttons).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.context import Services
from bot.core import ChatRef, SentRef
from bot.logs import pseudonym
from bot.outbox import Audience, NotRunning, Reader
from bot.rich import Rich, lines
from handlers.datepoll.keyboard import answer_buttons, how_to_press
from handlers.datepoll.render import summary
from storage import repo
from storage.datepoll import messages, polls
from storage.datepoll.models import DatePoll, DatePollMessage
from storage.datepoll.polls import DatePollView
from storage.models import Ag
from storage.repo import MemberRow

log = logging.getLogger(__name__)

EDIT_EVERY = timedelta(seconds=5)
JOB = "datepoll-live:"


def summary_text(
    reader: Reader, view: DatePollView, ag: Ag, members: list[MemberRow], now: datetime
) -> Rich:
    """The summary as posted and edited: with the line on how to use its buttons."""
    hint = how_to_press(reader, view, now)
    shown = summary(reader.lang, reader.prefix, view, ag, members)
    return shown if hint is None else lines(shown, hint)


async def answered(services: Services, poll_id: int) -> None:
    """An answer changed the poll: edit its summaries now (in the background: no answer,
    toast or reply waits for the networks), or at the end of the quiet interval if one is
    running (then that edit shows this answer too)."""
    job = f"{JOB}{poll_id}"
    due = services.timers.due(job)
    now = services.now()
    when = due if due is not None and due > now else now
    services.timers.at(job, when, _edit_then_rest, services, poll_id)


async def _edit_then_rest(services: Services, poll_id: int) -> None:
    """Edit, and keep the next `EDIT_EVERY` quiet (answers in it wait for its end)."""
    services.timers.at(f"{JOB}{poll_id}", services.now() + EDIT_EVERY, _rest, services, poll_id)
    await refresh(services, poll_id)


async def _rest(services: Services, poll_id: int) -> None:
    """The end of a quiet interval without answers: nothing to show."""


async def catch_up(services: Services) -> None:
    """At start-up: edit the summaries that an edit was still due for."""
    async with services.db.read() as session:
        behind = await messages.behind(session)
    for poll_id in behind:
        await refresh(services, poll_id)


async def refresh(services: Services, poll_id: int) -> None:
    """Edit every recorded summary of the poll to show it as it is now."""
    # What the edit shows is as of this moment: an answer stored while the edits are on
    # their way is newer than the summaries, so a start after a crash still edits them.
    as_of = services.now()
    async with services.db.read() as session:
        poll = await session.get(DatePoll, poll_id)
        if poll is None:
            return
        await session.refresh(poll)
        view = await polls.view(session, poll)
        members = await repo.members_of(session, poll.ag_id)
        posted = await messages.of_poll(session, poll_id)
    ags = {ag.id: ag for ag in await services.ags.all(include_archived=True)}
    ag = ags.get(poll.ag_id)
    if ag is None or not posted:
        return
    chats = {chat.key: chat for chat in await services.ag_chats(ag.id)}
    targets = [row for row in posted if row.message_id is not None]
    done = await asyncio.gather(
        *(_edit(services, row, chats, view, ag, members) for row in targets)
    )
    edited = [row.id for row, ok in zip(targets, done, strict=True) if ok]
    await services.db.run(lambda s: messages.mark_edited(s, edited, as_of))


async def _edit(
    services: Services,
    row: DatePollMessage,
    chats: dict[str, ChatRef],
    view: DatePollView,
    ag: Ag,
    members: list[MemberRow],
) -> bool:
    chat = chats.get(f"{row.platform}:{row.chat_id}") or ChatRef(row.platform, row.chat_id)
    transport = services.transports.get(row.platform)
    if transport is None or not transport.capabilities.edits or row.message_id is None:
        return False
    try:
        reader = services.outbox.reader(Audience.of_chat(chat))
        await transport.edit(
            SentRef(chat, row.message_id),
            summary_text(reader, view, ag, members, services.now()),
            answer_buttons(reader, view, services.now()),
        )
    except NotRunning:
        return False
    except Exception as exc:
        log.warning(
            "date poll summary in %s not edited: %r",
            pseudonym(row.platform, row.chat_id),
            type(exc).__name__,
        )
        return False
    return True
