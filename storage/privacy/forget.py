"""Deleting a person's data (`/forget`) and its pending confirmation; what `/mydata`
shows is in storage/privacy/mydata.py.

Deleting withdraws the person's votes in polls that still take answers (named and
anonymous): the same network account may come back as a new person, and must not find
its old vote still counted beside a new one. In polls that no longer take answers, a
ballot that counts loses its person, account and time but keeps its choices and
network, so the result stays as it was and nothing ties the vote to anyone any more.
Retracted ballots carry no count and are deleted. Everything else of the person goes
with the person row (ON DELETE CASCADE) or loses its reference (ON DELETE SET NULL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage import repo
from storage.datepoll import polls as datepolls
from storage.meetings.models import Meeting, ReminderDelivery
from storage.models import Ag, Base, Membership, Person, Role
from storage.notices import rows as notices
from storage.polls.ballots import TokenKeys, drop_ballots, tokens_of
from storage.polls.models import Poll, PollBallot, PollChoice
from storage.polls.polls import utc
from storage.types import UtcDateTime
from storage.web import tokens as web_tokens

FORGET_CODE_MAX = 16
CONFIRM_WORDS = {"ja", "yes"}


class ForgetRequest(Base):
    """`/forget` asked and not yet confirmed: the code and until when it holds. Hangs off
    the person with ON DELETE CASCADE."""

    __tablename__ = "forget_request"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(FORGET_CODE_MAX))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


async def set_forget_request(
    session: AsyncSession, person_id: int, code: str, expires_at: datetime
) -> None:
    await session.execute(delete(ForgetRequest).where(ForgetRequest.person_id == person_id))
    session.add(ForgetRequest(person_id=person_id, code=code, expires_at=expires_at))
    await session.flush()


async def cancel_forget_request(session: AsyncSession, person_id: int) -> bool:
    """`/forget nein`: the pending request and its code are gone; False if none waited."""
    result = await session.execute(
        delete(ForgetRequest).where(ForgetRequest.person_id == person_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def confirm_forget(
    session: AsyncSession,
    person_id: int,
    answer: str,
    now: datetime,
    keys: TokenKeys | None,
    before: Callable[[AsyncSession], Awaitable[None]],
) -> list[Ag] | None:
    """`/forget <answer>`: if `answer` confirms a pending request (JA/yes or its code,
    before it expires), run `before` (what other features keep about the person) and
    delete the person (see `forget`). None: no valid confirmation, nothing deleted."""
    request = await session.get(ForgetRequest, person_id)
    if request is None or request.expires_at <= now:
        return None
    if answer.lower() not in CONFIRM_WORDS and answer != request.code:
        return None
    await before(session)
    return await forget(session, person_id, now, keys)


async def _ballots_to_withdraw(
    session: AsyncSession, person_id: int, now: datetime, keys: TokenKeys | None
) -> tuple[list[int], list[str]]:
    """The person's ballots in polls that still take answers (to delete), and their
    anonymous hashes in polls past the deadline but not closed yet (to erase)."""
    withdraw: list[int] = []
    erase: list[str] = []
    unclosed = (
        await session.execute(
            select(Poll.id, Poll.anonymous, Poll.closes_at).where(Poll.closed_at.is_(None))
        )
    ).all()
    for poll_id, anonymous, closes_at in unclosed:
        deadline = utc(closes_at)
        running = deadline is None or now < deadline
        if not anonymous:
            if running:
                withdraw += await session.scalars(
                    select(PollBallot.id).where(
                        PollBallot.poll_id == poll_id, PollBallot.person_id == person_id
                    )
                )
            continue
        if keys is None:
            continue
        tokens = await tokens_of(session, keys, poll_id, person_id)
        if not running:
            erase += tokens
            continue
        withdraw += await session.scalars(
            select(PollBallot.id).where(PollBallot.poll_id == poll_id, PollBallot.token.in_(tokens))
        )
    return withdraw, erase


async def forget(
    session: AsyncSession, person_id: int, now: datetime, keys: TokenKeys | None = None
) -> list[Ag]:
    """Delete the person and everything that identifies them; returns the AGs that
    lost their last lead with it. `keys` finds the person's anonymous ballots in polls
    not closed yet (withdrawn, or their hash erased)."""
    led = list(
        await session.scalars(
            select(Ag)
            .join(Membership, Membership.ag_id == Ag.id)
            .where(Membership.person_id == person_id, Membership.role == Role.LEAD.value)
        )
    )
    withdraw, erase = await _ballots_to_withdraw(session, person_id, now, keys)
    has_choice = exists().where(PollChoice.ballot_id == PollBallot.id)
    withdraw += await session.scalars(
        select(PollBallot.id).where(PollBallot.person_id == person_id, ~has_choice)
    )
    await drop_ballots(session, set(withdraw))
    await session.execute(
        update(PollBallot)
        .where(PollBallot.person_id == person_id)
        .values(person_id=None, account_id=None, token=None, cast_at=None)
    )
    if erase:
        await session.execute(
            update(PollBallot).where(PollBallot.token.in_(erase)).values(token=None)
        )
    await session.execute(
        delete(ReminderDelivery).where(
            or_(
                ReminderDelivery.person_id == person_id,
                ReminderDelivery.target == f"person:{person_id}",
            )
        )
    )
    await session.execute(update(Poll).where(Poll.created_by == person_id).values(created_by=None))
    await datepolls.forget(session, person_id)
    await notices.forget(session, person_id)
    await web_tokens.forget(session, person_id)
    await session.execute(
        update(Meeting).where(Meeting.created_by == person_id).values(created_by=None)
    )
    await session.execute(delete(Person).where(Person.id == person_id))
    await session.flush()
    return [ag for ag in led if await repo.count_leads(session, ag.id) == 0]
