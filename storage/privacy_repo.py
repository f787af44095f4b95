"""A person's data: everything stored about them (`/mydata`) and its deletion (`/forget`).

Deleting withdraws the person's votes in polls that still take answers (named and
anonymous): the same network account may come back as a new person, and must not find
its old vote still counted beside a new one. In polls that no longer take answers, a
ballot that counts loses its person, account and time but keeps its choices and
network, so the result stays as it was and nothing ties the vote to anyone any more.
Retracted ballots carry no count and are deleted. Everything else of the person goes
with the person row (ON DELETE CASCADE) or loses its reference (ON DELETE SET NULL).

`MYDATA_SECTIONS` names, for every table that refers to a person or an account, the
section of `/mydata` that shows it. A table refers to a person or an account when one of
its columns has a foreign key to `person` or `account`, is named `person_id` or
`account_id`, or holds a keyed hash of an account (marked `info={"account_hash": True}`);
tests/test_mydata_coverage.py fails for a table missing here, in `/mydata` or in
`/forget`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.ballots_repo import TokenKeys, drop_ballots, tokens_of
from storage.card_models import Card, ForgetRequest
from storage.connect_models import ConnectCode
from storage.meeting_models import (
    Meeting,
    Occurrence,
    Reminder,
    ReminderDelivery,
    ReminderPreference,
    Rsvp,
)
from storage.models import Account, Ag, Chat, Membership, Person, Role
from storage.poll_models import Poll, PollBallot, PollChoice, PollOption, SurveyRun
from storage.polls_repo import utc
from storage.welcome_models import WelcomeSeen

JsonDict = dict[str, Any]

# Table -> the /mydata section that shows its rows of the person.
MYDATA_SECTIONS = {
    "person": "person",
    "account": "accounts",
    "membership": "memberships",
    "card": "card",
    "poll_ballot": "votes",
    "meeting_rsvp": "rsvps",
    "reminder_preference": "reminders",
    "reminder_delivery": "reminders_sent",
    "survey_run": "survey",
    "poll": "polls_started",
    "meeting": "meetings_planned",
    "connect_code": "connect_codes",
    "forget_request": "forget_request",
    "welcome_seen": "greeted",
}


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- /mydata -----------------------------------------------------------------------------


async def export(
    session: AsyncSession, person_id: int, greeting_keys: Collection[str] = ()
) -> JsonDict:
    """Everything stored about the person, as plain JSON values. `greeting_keys`: the
    keyed hashes of the person's accounts that mark them as greeted (handlers/welcome.py).
    Anonymous ballots are left out on purpose: nobody, the voter included, gets a
    record of how they voted in an anonymous poll."""
    person = await session.get(Person, person_id)
    accounts = await repo.accounts_of(session, person_id)
    memberships = (
        await session.execute(
            select(Ag.slug, Ag.name, Membership.role, Membership.joined_at)
            .join(Membership, Membership.ag_id == Ag.id)
            .where(Membership.person_id == person_id)
            .order_by(Ag.slug)
        )
    ).all()
    card = await session.get(Card, person_id)
    return {
        "person": {
            "id": person_id,
            "language": person.language if person else None,
            "created_at": _time(person.created_at) if person else None,
        },
        "accounts": [
            {
                "network": a.platform,
                "id": a.external_id,
                "display_name": a.display_name,
                "username": a.username,
                "private_chat_possible": a.direct_reachable,
                "created_at": _time(a.created_at),
            }
            for a in accounts
        ],
        "memberships": [
            {"ag": slug, "name": name, "role": role, "joined_at": _time(joined)}
            for slug, name, role, joined in memberships
        ],
        "card": None
        if card is None
        else {
            "name": card.name,
            "organisation": card.org,
            "regions": [r for r in card.regions.split("\n") if r],
            "topics": [t for t in card.topics.split("\n") if t],
            "about": card.about,
            "contact": card.contact,
            "visibility": card.visibility,
            "updated_at": _time(card.updated_at),
        },
        "votes": await _votes(session, person_id),
        "rsvps": await _rsvps(session, person_id),
        "reminders": await _reminders(session, person_id),
        "reminders_sent": await _deliveries(session, person_id),
        "survey": await _survey(session, person_id),
        "polls_started": [
            {"poll": short_id, "question": question}
            for short_id, question in (
                await session.execute(
                    select(Poll.short_id, Poll.question)
                    .where(Poll.created_by == person_id)
                    .order_by(Poll.id)
                )
            ).all()
        ],
        "meetings_planned": [
            {"title": title, "start": _time(start)}
            for title, start in (
                await session.execute(
                    select(Meeting.title, Meeting.start_at)
                    .where(Meeting.created_by == person_id)
                    .order_by(Meeting.id)
                )
            ).all()
        ],
        "connect_codes": [
            {"valid_until": _time(code.expires_at), "used": code.used}
            for code in await session.scalars(
                select(ConnectCode)
                .join(Account, Account.id == ConnectCode.account_id)
                .where(Account.person_id == person_id)
                .order_by(ConnectCode.id)
            )
        ],
        "forget_request": await _forget_request(session, person_id),
        "greeted": [
            {"chat": title, "network": platform, "at": _time(at)}
            for title, platform, at in (
                await session.execute(
                    select(Chat.title, Chat.platform, WelcomeSeen.at)
                    .join(Chat, Chat.id == WelcomeSeen.chat_id)
                    .where(WelcomeSeen.who.in_(list(greeting_keys)))
                    .order_by(WelcomeSeen.at)
                )
            ).all()
        ],
    }


async def _deliveries(session: AsyncSession, person_id: int) -> list[JsonDict]:
    """Reminders sent (or to be sent) to the person privately."""
    rows = (
        await session.execute(
            select(ReminderDelivery, Occurrence, Meeting.title)
            .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
            .join(Occurrence, Occurrence.id == Reminder.occurrence_id)
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .where(ReminderDelivery.person_id == person_id)
            .order_by(ReminderDelivery.id)
        )
    ).all()
    return [
        {
            "meeting": occurrence.title if occurrence.title is not None else title,
            "start": _time(occurrence.start_at),
            "status": delivery.status,
            "sent_at": _time(delivery.sent_at),
        }
        for delivery, occurrence, title in rows
    ]


async def _forget_request(session: AsyncSession, person_id: int) -> JsonDict | None:
    request = await session.get(ForgetRequest, person_id)
    return None if request is None else {"valid_until": _time(request.expires_at)}


async def _votes(session: AsyncSession, person_id: int) -> list[JsonDict]:
    """The person's answers to named polls (anonymous ballots carry no identity)."""
    ballots = (
        await session.execute(
            select(PollBallot, Poll.short_id, Poll.question)
            .join(Poll, Poll.id == PollBallot.poll_id)
            .where(PollBallot.person_id == person_id)
            .order_by(PollBallot.id)
        )
    ).all()
    out: list[JsonDict] = []
    for ballot, short_id, question in ballots:
        chosen = list(
            await session.scalars(
                select(PollOption.text)
                .join(
                    PollChoice,
                    (PollChoice.poll_id == PollOption.poll_id)
                    & (PollChoice.position == PollOption.position),
                )
                .where(PollChoice.ballot_id == ballot.id)
                .order_by(PollOption.position)
            )
        )
        out.append(
            {
                "poll": short_id,
                "question": question,
                "answers": chosen,
                "network": ballot.platform,
                "cast_at": _time(ballot.cast_at),
                "counted": ballot.counted,
            }
        )
    return out


async def _rsvps(session: AsyncSession, person_id: int) -> list[JsonDict]:
    rows = (
        await session.execute(
            select(Rsvp, Occurrence, Meeting.title, Ag.slug)
            .join(Occurrence, Occurrence.id == Rsvp.occurrence_id)
            .join(Meeting, Meeting.id == Occurrence.meeting_id)
            .join(Ag, Ag.id == Meeting.ag_id)
            .where(Rsvp.person_id == person_id)
            .order_by(Occurrence.start_at)
        )
    ).all()
    return [
        {
            "ag": slug,
            "meeting": occurrence.title if occurrence.title is not None else title,
            "start": _time(occurrence.start_at),
            "answer": rsvp.answer,
            "answered_at": _time(rsvp.answered_at),
        }
        for rsvp, occurrence, title, slug in rows
    ]


async def _reminders(session: AsyncSession, person_id: int) -> JsonDict | None:
    pref = await session.get(ReminderPreference, person_id)
    if pref is None:
        return None
    return {
        "private_reminders": pref.direct,
        "last_undeliverable": _time(pref.unreachable_at),
        "updated_at": _time(pref.updated_at),
    }


async def _survey(session: AsyncSession, person_id: int) -> JsonDict | None:
    run = await session.get(SurveyRun, person_id)
    if run is None:
        return None
    return {
        "step": run.step,
        "started_at": _time(run.started_at),
        "finished_at": _time(run.finished_at),
    }


# --- /forget -----------------------------------------------------------------------------


async def set_forget_request(
    session: AsyncSession, person_id: int, code: str, expires_at: datetime
) -> None:
    await session.execute(delete(ForgetRequest).where(ForgetRequest.person_id == person_id))
    session.add(ForgetRequest(person_id=person_id, code=code, expires_at=expires_at))
    await session.flush()


async def forget_request(session: AsyncSession, person_id: int) -> ForgetRequest | None:
    return await session.get(ForgetRequest, person_id)


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
    await session.execute(
        update(Meeting).where(Meeting.created_by == person_id).values(created_by=None)
    )
    await session.execute(delete(Person).where(Person.id == person_id))
    await session.flush()
    return [ag for ag in led if await repo.count_leads(session, ag.id) == 0]
