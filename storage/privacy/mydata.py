"""`/mydata`: everything stored about a person, as plain JSON values.

`MYDATA_SECTIONS` names, for every table that refers to a person or an account, the
section of `/mydata` that shows it. A table refers to a person or an account when one of
its columns has a foreign key to `person` or `account`, is named `person_id` or
`account_id`, or holds a keyed hash of an account (marked `info={"account_hash": True}`);
tests/test_mydata_coverage.py fails for a table missing here, in `/mydata` or in
`/forget` (storage/privacy/forget.py).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.cards import Card
from storage.connect.models import ConnectCode, ConnectMiss, ConnectShare
from storage.datepoll import polls as datepolls
from storage.meetings.models import (
    Meeting,
    Occurrence,
    Reminder,
    ReminderDelivery,
    ReminderPreference,
    Rsvp,
)
from storage.models import Account, Ag, Chat, JoinRequest, Membership, Person
from storage.notices import rows as notices
from storage.polls.models import Poll, PollBallot, PollChoice, PollOption, SurveyRun
from storage.privacy.forget import ForgetRequest
from storage.web import tokens as web_tokens
from storage.welcome import WelcomeSeen

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
    "connect_share": "linked_accounts_brought",
    "connect_miss": "wrong_codes",
    "join_request": "join_requests",
    "forget_request": "forget_request",
    "welcome_seen": "greeted",
    "date_poll_answer": "date_poll_answers",
    "date_poll": "date_polls_started",
    "notice": "notices",
    "web_token": "web_links",
}


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export(
    session: AsyncSession, person_id: int, greeting_keys: Collection[str] = ()
) -> JsonDict:
    """Everything stored about the person, as plain JSON values. `greeting_keys`: the
    keyed hashes of the person's accounts that mark them as greeted (handlers/welcome/service.py).
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
        "date_poll_answers": await datepolls.answers_of(session, person_id),
        "date_polls_started": await datepolls.started_by(session, person_id),
        "notices": await notices.of_person(session, person_id),
        "web_links": await web_tokens.of_person(session, person_id),
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
        "linked_accounts_brought": await _shares(session, person_id),
        "wrong_codes": [
            {"at": _time(at)}
            for at in await session.scalars(
                select(ConnectMiss.at)
                .join(Account, Account.id == ConnectMiss.account_id)
                .where(Account.person_id == person_id)
                .order_by(ConnectMiss.at)
            )
        ],
        "join_requests": [
            {"ag": slug, "requested_at": _time(at)}
            for slug, at in (
                await session.execute(
                    select(Ag.slug, JoinRequest.requested_at)
                    .join(JoinRequest, JoinRequest.ag_id == Ag.id)
                    .where(JoinRequest.person_id == person_id)
                    .order_by(Ag.slug)
                )
            ).all()
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


async def _shares(session: AsyncSession, person_id: int) -> list[JsonDict]:
    """What each of the person's accounts brought into a link (given back by /disconnect)."""
    rows = (
        await session.execute(
            select(ConnectShare, Account.platform, Ag.slug)
            .join(Account, Account.id == ConnectShare.account_id)
            .outerjoin(Ag, Ag.id == ConnectShare.ag_id)
            .where(Account.person_id == person_id)
            .order_by(ConnectShare.id)
        )
    ).all()
    return [
        {"network": platform, "kind": share.kind, "ag": slug, "role": share.role}
        for share, platform, slug in rows
    ]


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
    # Every chosen option of all these ballots in one query (not one query per ballot).
    chosen: dict[int, list[str]] = {ballot.id: [] for ballot, _, _ in ballots}
    if chosen:
        options = await session.execute(
            select(PollChoice.ballot_id, PollOption.text)
            .join(
                PollOption,
                (PollChoice.poll_id == PollOption.poll_id)
                & (PollChoice.position == PollOption.position),
            )
            .join(PollBallot, PollBallot.id == PollChoice.ballot_id)
            .where(PollBallot.person_id == person_id)
            .order_by(PollChoice.ballot_id, PollOption.position)
        )
        for ballot_id, text in options.all():
            chosen[ballot_id].append(text)
    out: list[JsonDict] = []
    for ballot, short_id, question in ballots:
        out.append(
            {
                "poll": short_id,
                "question": question,
                "answers": chosen[ballot.id],
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
