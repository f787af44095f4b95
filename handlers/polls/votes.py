"""Storing votes, from any network, under one rule set.

- One account, one vote per poll, and one person (several connected accounts), one vote,
  across networks and whatever happened to the person (/forget, /connect, /disconnect):
  a new answer replaces the earlier one, an empty answer retracts it, an answer older
  than the stored one is ignored. The database holds one ballot per poll and account and
  one per poll and person (storage/polls/models.py).
- Nothing counts once the poll is closed or its deadline has passed.
- An AG poll counts the answers of people who are members of the AG when the bot takes
  the answer. Others are kept as "not counted" (the result says how many); an answer
  counted once stays counted if the person leaves the AG later.
- Anonymous polls never store who voted: native anonymous polls report totals only, and
  private `/vote` answers are kept under a keyed hash of the account (see
  `handlers.polls.secret`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from bot.commands import Feature
from bot.context import Services
from bot.core import ChatRef, PollCounts, PollVote, SentPoll
from handlers.nudges.schedule import answered
from handlers.polls.secret import voter_keys
from handlers.polls.views import view_by_id
from storage import repo
from storage.notices.subjects import POLL
from storage.polls import ballots, polls, writes
from storage.polls.ballots import Outcome
from storage.polls.models import PollMessage
from storage.polls.view import PollView

feature = Feature("poll_votes")

log = logging.getLogger(__name__)


async def record(
    services: Services,
    view: PollView,
    positions: Sequence[int],
    *,
    at: datetime,
    account_id: int,
    counted: bool = True,
) -> Outcome | None:
    """Store the answer the account `account_id` gave, as its person's one answer; None
    if the poll no longer takes answers.

    The poll row is locked for the transaction, so a vote and a close cannot interleave.
    Anonymous polls store only the account's keyed hash. A counted answer to a named AG
    poll launched from a survey template also answers the survey's standing poll (one
    answer per person and question).
    """
    keys = await voter_keys(services.settings) if view.poll.anonymous else None
    cast = partial(
        writes.cast_vote,
        view=view,
        positions=positions,
        at=at,
        account_id=account_id,
        counted=counted,
        keys=keys,
    )
    return await services.db.run(cast)


async def is_member(services: Services, person_id: int, view: PollView) -> bool:
    if view.ag is None:
        return True
    async with services.db.read() as session:
        return await repo.membership(session, person_id, view.ag.id) is not None


def usable_positions(view: PollView, options: Sequence[int]) -> list[int]:
    """Indexes the poll has; single-choice polls take the first (as Element does)."""
    chosen = [i for i in dict.fromkeys(options) if 0 <= i < len(view.options)]
    return chosen if view.poll.multi else chosen[:1]


async def take_native_vote(services: Services, view: PollView, vote: PollVote) -> Outcome | None:
    if vote.voter is None or vote.voter.anonymous:
        return None
    if view.poll.anonymous:
        # A network that names voters of an anonymous poll: keep nothing of it.
        log.warning("poll %s: a named vote for an anonymous poll was dropped", view.short_id)
        return None
    voter = vote.voter
    person_id, account_id = await services.db.run(
        partial(
            writes.voter_account,
            platform=voter.platform,
            external_id=voter.id,
            name=voter.display_name,
            username=voter.username,
        )
    )
    return await record(
        services,
        view,
        usable_positions(view, vote.options),
        at=vote.at or services.now(),
        account_id=account_id,
        counted=await is_member(services, person_id, view),
    )


# How long to wait for a poll that is being posted right now: a quick voter's answer
# can arrive before the posted poll's row is written.
POSTING_WAITS = (0.25, 0.5, 1.0, 2.0)
POSTING_WINDOW = timedelta(minutes=1)


async def _posted(services: Services, platform: str, native_id: str) -> PollMessage | None:
    """The posted poll with this network id; waits a little only while a poll is new."""
    for wait in (0.0, *POSTING_WAITS):
        if wait:
            await asyncio.sleep(wait)
        async with services.db.read() as session:
            message = await polls.message_by_native_id(session, platform, native_id)
            if message is not None:
                return message
            if not await polls.created_since(session, services.now() - POSTING_WINDOW):
                return None
    return None


@feature.event("poll_vote")
async def on_poll_vote(services: Services, vote: PollVote) -> None:
    """Someone answered a native poll: find the poll by the network's id and store it."""
    message = await _posted(services, vote.platform, vote.native_id)
    if message is None:
        log.debug("a vote for a poll I do not know on %s", vote.platform)
        return
    view = await view_by_id(services, message.poll_id)
    if view is None:
        return
    outcome = await take_native_vote(services, view, vote)
    if outcome is not None:
        await answered(services, POLL, view.poll.id)
    log.debug("poll %s: native vote %s", view.short_id, outcome.value if outcome else "ignored")


@feature.event("poll_counts")
async def on_poll_counts(services: Services, counts: PollCounts) -> None:
    """New totals of an anonymous native poll: kept per posted poll, without voters."""
    message = await _posted(services, counts.platform, counts.native_id)
    if message is None:
        return
    view = await view_by_id(services, message.poll_id)
    if view is None or not view.poll.anonymous or not view.is_open:
        return
    totals = [*counts.counts[: len(view.options)], *[0] * len(view.options)][: len(view.options)]
    await services.db.run(
        partial(
            ballots.set_native_counts,
            message_id=message.id,
            counts=totals,
            voters=counts.total_voters,
        )
    )


async def catch_up(services: Services, view: PollView) -> int:
    """Votes the networks hold for this poll (Matrix: the poll's relations), stored by the
    same rules; a vote already known changes nothing. Returns how many were read."""
    async with services.db.read() as session:
        messages = await polls.messages_of(session, view.poll.id)
    seen = 0
    for message in messages:
        transport = services.transports.get(message.platform)
        if message.native_id is None or transport is None:
            continue
        if not transport.capabilities.native_polls:
            continue
        sent = SentPoll(
            ChatRef(message.platform, message.chat_id), message.message_id, message.native_id
        )
        fetched = await transport.fetch_poll_votes(sent)
        for vote in sorted(fetched, key=lambda v: v.at or services.now()):
            await take_native_vote(services, view, vote)
            seen += 1
    if seen:
        log.info("poll %s: caught up on %d votes", view.short_id, seen)
    return seen
