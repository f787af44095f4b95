"""A poll's life on the networks: posted to every chat of its AG, closed everywhere with
the final result posted once, timed closes scheduled from the database, and the votes
cast while the bot was down picked up at start.

Each step leaves a mark in the database (`poll_message` rows, their `network_closed_at`
and `result_sent_at`), so a restart neither re-sends a poll nor repeats a result, and a
close cut short by a crash is finished at the next start.

With several processes on one database: the close itself is one conditional UPDATE
(one process wins it), and each chat's end is taken with a lease (storage/leases.py)
before it is posted, so two processes ending one poll post one result per chat. A chat
whose holder died is finished by the leader's rescan once the lease ran out; the rescan
also plans the closes of polls started on another process.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.commands import Feature
from bot.context import Services
from bot.core import ChatRef, PollSpec, SentPoll, Transport
from bot.i18n import Lang
from bot.lease_keeper import RENEW_EVERY, kept
from bot.rich import Rich, bold, code, lines
from handlers.polls.render import chat_lang, deadline_full, prefix_of
from handlers.polls.tally import result_text, send_chart
from handlers.polls.views import tally_of, view_by_id
from handlers.polls.votes import catch_up
from storage.db import DatabaseUnavailable
from storage.leases import LEASE
from storage.polls import polls
from storage.polls.ballots import Tally
from storage.polls.models import PollMessage
from storage.polls.view import PollView

feature = Feature("poll_lifecycle")

log = logging.getLogger(__name__)


def posts_natively(services: Services, platform: str, view: PollView) -> bool:
    """Native where the network has polls; anonymous polls only where the network hides
    voters (elsewhere each answer would be visible to the room, so they go as text)."""
    transport = services.transports.get(platform)
    if transport is None or not transport.capabilities.native_polls:
        return False
    return not view.poll.anonymous or transport.capabilities.anonymous_polls


def fallback_text(services: Services, lang: Lang, platform: str, view: PollView) -> Rich:
    """The poll as text: question, numbered options, and how to answer on this network."""
    prefix = prefix_of(services, platform)
    vote = code(f"{prefix}vote {view.short_id} 1")
    rows: list[Rich | str] = [
        lang.t("Umfrage {id}:", id=code(view.short_id)),
        bold(view.poll.question),
    ]
    rows += [f"{i}. {option}" for i, option in enumerate(view.options, 1)]
    if view.poll.anonymous:
        rows.append(
            lang.t(
                "Anonym: schreib mir deine Antwort bitte im privaten Chat, z. B. {vote}. Niemand erfährt, wer wie abgestimmt hat.",
                vote=vote,
            )
        )
    else:
        rows.append(lang.t("Abstimmen: {vote} (Nummer der Antwort).", vote=vote))
    if view.poll.multi:
        rows.append(
            lang.t(
                "Mehrere Antworten möglich, z. B. {vote}.",
                vote=code(f"{prefix}vote {view.short_id} 1,3"),
            )
        )
    if view.closes_at is not None:
        rows.append(lang.t("Läuft bis {when}.", when=deadline_full(services, view.closes_at, lang)))
    return lines(*rows)


def spec_for(services: Services, chat: ChatRef, view: PollView) -> PollSpec:
    return PollSpec(
        poll_id=view.short_id,
        question=view.poll.question,
        options=tuple(view.options),
        fallback=fallback_text(services, chat_lang(services, chat), chat.platform, view),
        multi=view.poll.multi,
        anonymous=view.poll.anonymous,
    )


async def post_poll(services: Services, view: PollView) -> tuple[list[ChatRef], list[ChatRef]]:
    """Post to every chat of the AG that has not got it yet; (posted, failed)."""
    if view.ag is None:
        return [], []
    async with services.db.read() as session:
        done = {(m.platform, m.chat_id) for m in await polls.messages_of(session, view.poll.id)}
    posted: list[ChatRef] = []
    failed: list[ChatRef] = []
    for chat in await services.ag_chats(view.ag.id):
        transport = services.transport_for(chat)
        if transport is None or (chat.platform, chat.id) in done:
            continue
        spec = spec_for(services, chat, view)
        key = f"poll:{view.short_id}:{chat.key}"
        try:
            if posts_natively(services, chat.platform, view):
                sent = await transport.send_poll(chat, spec, key=key)
                message_id, native_id = sent.message_id, sent.native_id
            else:
                ref = await transport.send(chat, spec.fallback, key=key)
                message_id, native_id = ref.message_id, None
        except Exception:
            log.exception("poll %s: could not post to a chat on %s", view.short_id, chat.platform)
            failed.append(chat)
            continue
        await services.db.run(
            partial(
                polls.add_message,
                poll_id=view.poll.id,
                platform=chat.platform,
                chat_id=chat.id,
                message_id=message_id,
                native_id=native_id,
            )
        )
        posted.append(chat)
    return posted, failed


def _sent(message: PollMessage) -> SentPoll:
    return SentPoll(
        ChatRef(message.platform, message.chat_id), message.message_id, message.native_id
    )


async def close_poll(services: Services, poll_id: int) -> bool:
    """Close now; False if it was closed already. Then end it on every network."""
    closed = await services.db.run(partial(polls.mark_closed, poll_id=poll_id, at=services.now()))
    unschedule(services, poll_id)
    if closed:
        await finish_close(services, poll_id)
    return closed


# A chat whose end could not be posted (its network down or not running here) is kept
# this long by its holder before it is tried again.
END_HOLD = timedelta(minutes=5)
# While a chat's end is posted its lease is renewed this often (a post may take longer
# than the lease: a group's flood window, a Matrix send retrying).
END_RENEW_EVERY = RENEW_EVERY


async def finish_close(services: Services, poll_id: int) -> None:
    """End the native polls and post the final result in each chat, once each: a chat is
    taken with a lease first (another process ending the poll at once, or a live holder,
    leaves it to them)."""
    view = await view_by_id(services, poll_id)
    if view is None:
        return
    tally = await tally_of(services, view)
    async with services.db.read() as session:
        messages = await polls.messages_of(session, poll_id)
    for message in messages:
        if message.result_sent_at is not None and (
            message.native_id is None or message.network_closed_at is not None
        ):
            continue
        if not await _take(services, polls.take_message, message.id):
            continue
        async with services.db.read() as session:  # as it is now that it is ours
            message = await polls.message_by_id(session, message.id) or message
        chat = ChatRef(message.platform, message.chat_id)
        transport = services.transport_for(chat)
        if transport is None:
            await _take(services, polls.hold_message, message.id, ttl=END_HOLD)
            continue
        lang = chat_lang(services, chat)
        final = result_text(services, lang, view, tally, final=True)
        renew = partial(_take, services, polls.hold_message, message.id, ttl=LEASE)
        try:
            async with kept(renew, what=f"poll {view.short_id}", every=END_RENEW_EVERY):
                await _end_in_chat(services, transport, message, view, tally, lang, final)
        except Exception:
            log.exception("poll %s: could not end it on %s", view.short_id, chat.platform)
            await _take(services, polls.hold_message, message.id, ttl=END_HOLD)


async def _end_in_chat(
    services: Services,
    transport: Transport,
    message: PollMessage,
    view: PollView,
    tally: Tally,
    lang: Lang,
    final: Rich,
) -> None:
    """Close the native poll and post the result in one chat, each step marked."""
    chat = ChatRef(message.platform, message.chat_id)
    if message.native_id and message.network_closed_at is None:
        await transport.close_poll(
            _sent(message), final, key=f"poll-close:{view.short_id}:{chat.key}"
        )
        await services.db.run(
            partial(polls.mark_message, message_id=message.id, network_closed=True)
        )
    if message.result_sent_at is None:
        await transport.send(chat, final, key=f"poll-result:{view.short_id}:{chat.key}")
        await send_chart(
            transport, chat, lang, view, tally, key=f"poll-chart:{view.short_id}:{chat.key}"
        )
        await services.db.run(partial(polls.mark_message, message_id=message.id, result=True))


async def _take(services: Services, step: Any, message_id: int, **more: Any) -> Any:
    """A lease step on one chat's end, as this process at the services' time."""
    owner, now = services.node_id, services.now()
    return await services.db.run(partial(step, message_id=message_id, owner=owner, now=now, **more))


# --- timed closes --------------------------------------------------------------------------


def _job_id(poll_id: int) -> str:
    return f"poll-close:{poll_id}"


def schedule_close(services: Services, view: PollView) -> None:
    """A job at the deadline; it runs however late it comes (after downtime: at start)."""
    if view.closes_at is None or not view.is_open:
        return
    _close_job(services, view.poll.id, view.closes_at)


def _close_job(services: Services, poll_id: int, when: datetime) -> None:
    services.timers.at(_job_id(poll_id), when, close_due, services, poll_id)


def unschedule(services: Services, poll_id: int) -> None:
    services.timers.cancel(_job_id(poll_id))


# While the database is unreachable at a poll's deadline, the close is tried again
# this many seconds later, for as long as it takes.
CLOSE_RETRY_SECONDS = 30


async def close_due(services: Services, poll_id: int) -> None:
    """The scheduler's job: close the poll if its deadline has come. Without a database
    the job comes back in CLOSE_RETRY_SECONDS and finishes what was begun."""
    try:
        await _close_if_due(services, poll_id)
    except DatabaseUnavailable as exc:
        log.warning(
            "poll %s: the database is unavailable at its deadline (%s); trying again in %d s",
            poll_id,
            exc,
            CLOSE_RETRY_SECONDS,
        )
        unschedule(services, poll_id)
        _close_job(services, poll_id, services.now() + timedelta(seconds=CLOSE_RETRY_SECONDS))


async def _close_if_due(services: Services, poll_id: int) -> None:
    view = await view_by_id(services, poll_id)
    if view is None:
        return
    if not view.is_open:
        # Closed, perhaps by a try cut short by an outage: post what is still missing
        # (finish_close sends each chat's end and result once).
        await finish_close(services, poll_id)
        return
    if view.closes_at is None:
        return
    if view.closes_at > services.now():
        schedule_close(services, view)  # moved later, or the clock ran ahead of us
        return
    log.info("poll %s: deadline reached, closing", view.short_id)
    await close_poll(services, poll_id)


@feature.on_start
async def resume_polls(services: Services) -> None:
    """After a restart: finish interrupted closes, catch up on votes cast meanwhile
    (before any overdue poll closes, so they count), then close or schedule."""
    now = services.now()
    async with services.db.read() as session:
        unfinished = [p.id for p in await polls.closed_with_pending_results(session, now)]
        open_ids = [p.id for p in await polls.open_ag_polls(session)]
    for poll_id in unfinished:
        await finish_close(services, poll_id)
    for poll_id in open_ids:
        view = await view_by_id(services, poll_id)
        if view is None:
            continue
        try:
            await catch_up(services, view)
        except Exception:
            log.exception("poll %s: could not catch up on votes", view.short_id)
        if view.closes_at is not None and view.closes_at <= services.now():
            await close_poll(services, poll_id)
        else:
            schedule_close(services, view)


@feature.on_rescan
async def rescan_polls(services: Services) -> None:
    """The leader's repeated look: plan the closes of open polls this process has no job
    for (started on another process), and finish closes whose chats nobody carries on
    (their holder died, its lease ran out)."""
    now = services.now()
    async with services.db.read() as session:
        due = await polls.deadlines(session)
        unfinished = [p.id for p in await polls.closed_with_pending_results(session, now)]
    for poll_id, closes_at in due:
        if services.timers.due(_job_id(poll_id)) is None:
            _close_job(services, poll_id, closes_at)
    for poll_id in unfinished:
        await finish_close(services, poll_id)
