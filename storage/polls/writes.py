"""The transactions behind a vote, a poll's start and the survey's standing polls: each
takes the session of the caller's `db.run`, so the rules in handlers/polls/votes.py and
handlers/survey/service.py stay free of SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Account, Ag
from storage.polls import ballots, polls
from storage.polls.ballots import Outcome, TokenKeys
from storage.polls.models import Poll
from storage.polls.view import PollView, read_view


async def cast_vote(
    session: AsyncSession,
    view: PollView,
    positions: Sequence[int],
    *,
    at: datetime,
    account_id: int,
    counted: bool,
    keys: TokenKeys | None,
) -> Outcome | None:
    """Store the account's answer as its person's one answer; None if the poll no longer
    takes answers. The poll row is locked, so a vote and a close cannot interleave.
    `keys`: anonymous polls store only the account's keyed hash."""
    poll = await session.get(Poll, view.poll.id, with_for_update=True)
    account = await session.get(Account, account_id)
    if poll is None or not PollView(poll, view.options, view.ag).accepts_at(at):
        return None
    if account is None:
        raise LookupError("the voting account is gone")
    voter = account.person_id
    if keys is not None:
        return await ballots.cast(
            session,
            poll.id,
            positions,
            token=keys.account(poll.id, account.platform, account.external_id),
            tokens=await ballots.tokens_of(session, keys, poll.id, voter),
            counted=counted,
        )
    outcome = await ballots.cast(
        session,
        poll.id,
        positions,
        person_id=voter,
        account_id=account_id,
        platform=account.platform,
        at=at,
        counted=counted,
    )
    if outcome is not Outcome.STALE and counted:
        await _answer_survey_too(session, poll, view.options, positions, account, at)
    return outcome


async def _answer_survey_too(
    session: AsyncSession,
    poll: Poll,
    options: list[str],
    positions: Sequence[int],
    account: Account,
    at: datetime,
) -> None:
    """A named AG poll launched from a survey template also answers the standing poll."""
    if poll.survey_key is None or poll.anonymous or poll.standing_key is not None:
        return
    standing = await polls.standing_poll(session, poll.survey_key)
    if standing is None or standing.closed_at is not None:
        return
    if await polls.options_of(session, standing.id) != options:
        return  # the template changed since this poll was launched
    await ballots.cast(
        session,
        standing.id,
        positions,
        person_id=account.person_id,
        account_id=account.id,
        platform=account.platform,
        at=at,
    )


async def voter_account(
    session: AsyncSession, platform: str, external_id: str, name: str, username: str | None
) -> tuple[int, int]:
    """(person id, account id) of a network voter, made known if new."""
    account = await repo.ensure_account(session, platform, external_id, name, username)
    return account.person_id, account.id


async def create_view(
    session: AsyncSession,
    *,
    question: str,
    options: Sequence[str],
    ag: Ag | None,
    created_by: int | None,
    multi: bool = False,
    anonymous: bool = False,
    closes_at: datetime | None = None,
    survey_key: str | None = None,
    standing_key: str | None = None,
    created_at: datetime | None = None,
) -> PollView:
    poll = await polls.create_poll(
        session,
        question=question,
        options=options,
        ag_id=ag.id if ag is not None else None,
        created_by=created_by,
        multi=multi,
        anonymous=anonymous,
        closes_at=closes_at,
        survey_key=survey_key,
        standing_key=standing_key,
        created_at=created_at,
    )
    return await read_view(session, poll)


async def ensure_standing(
    session: AsyncSession,
    key: str,
    question: str,
    options: tuple[str, ...],
    multi: bool,
    now: datetime,
) -> PollView:
    """The standing poll of a survey item; a new one if the template changed (the old one
    is closed and kept, so earlier answers stay visible under its id)."""
    poll = await polls.standing_poll(session, key)
    if poll is not None:
        view = await read_view(session, poll)
        if (poll.question, tuple(view.options), poll.multi) == (question, options, multi):
            return view
        poll.standing_key = None
        poll.closed_at = now
        await session.flush()
    return await create_view(
        session,
        question=question,
        options=options,
        ag=None,
        created_by=None,
        multi=multi,
        survey_key=key,
        standing_key=key,
    )


async def advance_survey_run(
    session: AsyncSession, person_id: int, items: int, now: datetime
) -> int:
    """One step on in the person's survey walk-through; finished after the last item."""
    run = await polls.survey_run(session, person_id)
    if run is None:
        return items
    run.step += 1
    if run.step >= items:
        run.finished_at = now
    return run.step
