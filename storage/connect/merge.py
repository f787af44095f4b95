"""One person, several accounts: linking (merging two people) and unlinking.

`merge` moves everything keyed by a person from one person to another in the caller's
transaction. Where both people have a row for the same thing, one row remains: the
stronger role, the most recent vote (anonymous polls, whose ballots carry no time: the
kept person's vote), the most recent RSVP, the most recently changed reminder preference,
the survey run that got furthest. Before anything moves it notes what each side brought
(storage/connect/shares.py), which `split_off` gives back. `PERSON_COLUMNS` lists every
column that refers to a person; a test fails when a table adds one that is not listed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import membership
from storage.connect import shares
from storage.connect.models import ConnectCode
from storage.datepoll import polls as datepolls
from storage.meetings.models import (
    DeliveryStatus,
    Meeting,
    ReminderDelivery,
    ReminderPreference,
    Rsvp,
)
from storage.models import Account, Base, Membership, Person, Role
from storage.notices import rows as notices
from storage.polls.ballots import TokenKeys, drop_ballots, tokens_of
from storage.polls.models import Poll, PollBallot, SurveyRun
from storage.web import tokens as web_tokens

# (table, column) of every reference to a person, each handled by `merge`.
PERSON_COLUMNS = frozenset(
    {
        ("account", "person_id"),
        ("membership", "person_id"),
        ("poll", "created_by"),
        ("poll_ballot", "person_id"),
        ("survey_run", "person_id"),
        ("meeting", "created_by"),
        ("reminder_delivery", "person_id"),
        ("meeting_rsvp", "person_id"),
        ("reminder_preference", "person_id"),
        # Business cards (storage/cards.py) and pending `/forget` confirmations
        # (storage/privacy/forget.py), merged through Base.metadata so this module does
        # not depend on those features.
        ("card", "person_id"),
        ("forget_request", "person_id"),
        ("join_request", "person_id"),
        ("date_poll", "created_by"),
        ("date_poll_answer", "person_id"),
        ("notice", "person_id"),
        ("web_token", "person_id"),
    }
)


def _naive_utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.min
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _newer(a: datetime | None, b: datetime | None) -> bool:
    """Whether `a` is later than `b` (a missing time is the oldest)."""
    return _naive_utc(a) > _naive_utc(b)


async def merge(
    session: AsyncSession, keep: int, absorb: int, keys: TokenKeys | None = None
) -> None:
    """Move everything of person `absorb` to person `keep`, then delete `absorb`.

    `keys` finds the open anonymous ballots of both, so that the merged person keeps one
    vote per anonymous poll (without it those ballots stay as they are).
    """
    if keep == absorb:
        raise ValueError("a person cannot be merged with itself")
    kept, absorbed = await session.get(Person, keep), await session.get(Person, absorb)
    if kept is None or absorbed is None:
        raise LookupError("both people must exist")
    if kept.language is None:
        kept.language = absorbed.language
    card_kept = await _card_kept(session, keep, absorb)
    await shares.record(session, keep, absorb, card_kept)
    await _merge_memberships(session, keep, absorb)
    await membership.merge(session, keep, absorb)
    await _merge_ballots(session, keep, absorb)
    if keys is not None:
        await _merge_anonymous_ballots(session, keep, absorb, keys)
    await _merge_rsvps(session, keep, absorb)
    await datepolls.merge(session, keep, absorb)
    await notices.merge(session, keep, absorb)
    await web_tokens.merge(session, keep, absorb)
    await _merge_reminder_preferences(session, keep, absorb)
    await _merge_survey_runs(session, keep, absorb)
    await _merge_cards(session, keep, absorb, card_kept)
    await _drop_forget_requests(session, keep, absorb)
    await session.execute(update(Poll).where(Poll.created_by == absorb).values(created_by=keep))
    await session.execute(
        update(Meeting).where(Meeting.created_by == absorb).values(created_by=keep)
    )
    await _merge_deliveries(session, keep, absorb)
    await session.execute(update(Account).where(Account.person_id == absorb).values(person_id=keep))
    await session.flush()
    await session.execute(delete(Person).where(Person.id == absorb))
    session.expire_all()


async def _merge_memberships(session: AsyncSession, keep: int, absorb: int) -> None:
    theirs = {
        m.ag_id: m
        for m in await session.scalars(select(Membership).where(Membership.person_id == absorb))
    }
    for mine in list(await session.scalars(select(Membership).where(Membership.person_id == keep))):
        other = theirs.pop(mine.ag_id, None)
        if other is None:
            continue
        if Role.LEAD.value in (mine.role, other.role):
            mine.role = Role.LEAD.value
        if _newer(mine.joined_at, other.joined_at):
            mine.joined_at = other.joined_at
        await session.delete(other)
    await session.flush()
    await session.execute(
        update(Membership).where(Membership.person_id == absorb).values(person_id=keep)
    )


async def _merge_ballots(session: AsyncSession, keep: int, absorb: int) -> None:
    """Named polls: where both voted, the later vote remains (the one with the later
    `cast_at`; on a tie, the kept person's)."""
    theirs = {
        b.poll_id: b
        for b in await session.scalars(select(PollBallot).where(PollBallot.person_id == absorb))
    }
    dropped: list[int] = []
    for mine in list(await session.scalars(select(PollBallot).where(PollBallot.person_id == keep))):
        other = theirs.get(mine.poll_id)
        if other is None:
            continue
        if _newer(other.cast_at, mine.cast_at):
            dropped.append(mine.id)
        else:
            dropped.append(other.id)
    await drop_ballots(session, dropped)
    await session.flush()
    await session.execute(
        update(PollBallot).where(PollBallot.person_id == absorb).values(person_id=keep)
    )


async def _open_anonymous_polls(session: AsyncSession) -> list[int]:
    return list(
        await session.scalars(
            select(Poll.id).where(Poll.anonymous.is_(True), Poll.closed_at.is_(None))
        )
    )


async def _anonymous_ballot(
    session: AsyncSession, keys: TokenKeys, poll_id: int, person_id: int
) -> PollBallot | None:
    tokens = await tokens_of(session, keys, poll_id, person_id)
    return await session.scalar(
        select(PollBallot)
        .where(PollBallot.poll_id == poll_id, PollBallot.token.in_(tokens))
        .order_by(PollBallot.id)
        .limit(1)
    )


async def _merge_anonymous_ballots(
    session: AsyncSession, keep: int, absorb: int, keys: TokenKeys
) -> None:
    """Open anonymous polls: where both voted, the kept person's ballot remains
    (anonymous ballots carry no time). Runs before the accounts move."""
    for poll_id in await _open_anonymous_polls(session):
        theirs = await _anonymous_ballot(session, keys, poll_id, absorb)
        if theirs is None:
            continue
        mine = await _anonymous_ballot(session, keys, poll_id, keep)
        if mine is not None:
            await drop_ballots(session, [theirs.id])
        elif theirs.token == keys.legacy(poll_id, absorb):
            # Keyed by the absorbed person, who is about to go: key it by an account.
            theirs.token = (await tokens_of(session, keys, poll_id, absorb))[0]
    await session.flush()


async def _merge_rsvps(session: AsyncSession, keep: int, absorb: int) -> None:
    theirs = {
        r.occurrence_id: r
        for r in await session.scalars(select(Rsvp).where(Rsvp.person_id == absorb))
    }
    for mine in list(await session.scalars(select(Rsvp).where(Rsvp.person_id == keep))):
        other = theirs.pop(mine.occurrence_id, None)
        if other is None:
            continue
        if _newer(other.answered_at, mine.answered_at):
            mine.answer, mine.answered_at = other.answer, other.answered_at
        await session.delete(other)
    await session.flush()
    await session.execute(update(Rsvp).where(Rsvp.person_id == absorb).values(person_id=keep))


async def _merge_deliveries(session: AsyncSession, keep: int, absorb: int) -> None:
    """A reminder being sent to both people now goes to one: the absorbed person's
    unfinished delivery of it is cancelled; every delivery keeps its row (and send key)."""
    kept = select(ReminderDelivery.reminder_id).where(ReminderDelivery.person_id == keep)
    unfinished = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
    await session.execute(
        update(ReminderDelivery)
        .where(
            ReminderDelivery.person_id == absorb,
            ReminderDelivery.reminder_id.in_(kept),
            ReminderDelivery.status.in_(unfinished),
        )
        .values(status=DeliveryStatus.CANCELLED.value)
    )
    await session.execute(
        update(ReminderDelivery).where(ReminderDelivery.person_id == absorb).values(person_id=keep)
    )


async def _merge_reminder_preferences(session: AsyncSession, keep: int, absorb: int) -> None:
    mine = await session.get(ReminderPreference, keep)
    other = await session.get(ReminderPreference, absorb)
    if other is None:
        return
    if mine is None:
        session.add(
            ReminderPreference(
                person_id=keep,
                direct=other.direct,
                unreachable_at=other.unreachable_at,
                updated_at=other.updated_at,
            )
        )
    elif _newer(other.updated_at, mine.updated_at):
        mine.direct, mine.updated_at = other.direct, other.updated_at
        mine.unreachable_at = other.unreachable_at
    await session.delete(other)
    await session.flush()


async def _merge_survey_runs(session: AsyncSession, keep: int, absorb: int) -> None:
    mine = await session.get(SurveyRun, keep)
    other = await session.get(SurveyRun, absorb)
    if other is None:
        return
    if mine is None:
        session.add(
            SurveyRun(
                person_id=keep,
                step=other.step,
                started_at=other.started_at,
                finished_at=other.finished_at,
            )
        )
    elif other.step > mine.step:
        mine.step, mine.finished_at = other.step, other.finished_at
    await session.delete(other)
    await session.flush()


async def _card_kept(session: AsyncSession, keep: int, absorb: int) -> int | None:
    """Whose card remains after a merge: the one changed most recently (None: no card)."""
    card = Base.metadata.tables.get("card")
    if card is None:
        return None
    rows = {
        row.person_id: row.updated_at
        for row in await session.execute(
            select(card.c.person_id, card.c.updated_at).where(card.c.person_id.in_((keep, absorb)))
        )
    }
    if absorb not in rows:
        return keep if keep in rows else None
    if keep in rows and not _newer(rows[absorb], rows[keep]):
        return keep
    return absorb


async def _merge_cards(session: AsyncSession, keep: int, absorb: int, kept: int | None) -> None:
    """One card remains: `kept`'s (see `_card_kept`)."""
    card = Base.metadata.tables.get("card")
    if card is None or kept is None:
        return
    drop = absorb if kept == keep else keep
    await session.execute(delete(card).where(card.c.person_id == drop))
    await session.execute(update(card).where(card.c.person_id == absorb).values(person_id=keep))


async def _drop_forget_requests(session: AsyncSession, keep: int, absorb: int) -> None:
    """A pending `/forget` was asked for one account's data; after linking, confirming it
    would delete more than was asked for, so it is dropped and has to be asked again."""
    forget = Base.metadata.tables.get("forget_request")
    if forget is not None:
        await session.execute(delete(forget).where(forget.c.person_id.in_((keep, absorb))))


async def split_off(session: AsyncSession, account_id: int, keys: TokenKeys | None = None) -> int:
    """Give the account a new person of its own, with its language and what its side
    brought into the link (AG memberships and roles, its card: storage/connect/shares.py).

    Everything else (votes, RSVPs, preferences, what was created) stays with the person
    of the other accounts. A vote this account cast stays too, as the vote of the person's
    remaining account (named polls: that account becomes its voter; open anonymous polls,
    with `keys`: it is re-keyed to that account), so the account leaves with no ballot and
    may vote once on its own, and the person keeps one. Returns the new person's id.
    """
    account = await session.get(Account, account_id)
    if account is None:
        raise LookupError("no such account")
    old = await session.get(Person, account.person_id)
    remaining = await session.scalar(
        select(Account)
        .where(Account.person_id == account.person_id, Account.id != account_id)
        .order_by(Account.id)
        .limit(1)
    )
    if remaining is not None:
        await _hand_ballots_over(session, account, remaining, keys)
    person = Person(language=old.language if old else None)
    session.add(person)
    await session.flush()
    await shares.give_back(session, account_id, account.person_id, person.id)
    account.person_id = person.id
    await session.execute(delete(ConnectCode).where(ConnectCode.account_id == account_id))
    await session.flush()
    return person.id


async def _hand_ballots_over(
    session: AsyncSession, leaving: Account, remaining: Account, keys: TokenKeys | None
) -> None:
    await session.execute(
        update(PollBallot)
        .where(PollBallot.account_id == leaving.id)
        .values(account_id=remaining.id, platform=remaining.platform)
    )
    if keys is None:
        return
    for poll_id in await _open_anonymous_polls(session):
        await session.execute(
            update(PollBallot)
            .where(
                PollBallot.poll_id == poll_id,
                PollBallot.token == keys.account(poll_id, leaving.platform, leaving.external_id),
            )
            .values(token=keys.account(poll_id, remaining.platform, remaining.external_id))
        )


async def count_accounts(session: AsyncSession, person_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Account).where(Account.person_id == person_id)
        )
        or 0
    )
