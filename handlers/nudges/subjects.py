"""A poll or Terminumfrage as the notices see it, and the rules read off it: when its
automatic nudge is due, who is to be nudged, who hears that everyone answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.context import Services
from handlers.polls.secret import voter_keys
from storage.datepoll import polls as datepolls
from storage.models import NUDGE_DEFAULT_MINUTES
from storage.notices import subjects as rows
from storage.notices.models import subject_of
from storage.notices.subjects import DATEPOLL, POLL, SubjectRow
from storage.polls.polls import looks_like_short_id, poll_by_short_id

__all__ = ["DATEPOLL", "POLL", "SubjectRow", "find", "load", "nudge_minutes"]


async def load(
    services: Services, kind: str, poll_id: int, only: int | None = None
) -> SubjectRow | None:
    """The subject as it is now (members and answers read fresh); `only`: the one person
    whose answer matters (spares hashing every member's accounts in anonymous polls)."""
    if kind == POLL:
        keys = await voter_keys(services.settings)
        async with services.db.read() as session:
            return await rows.poll_subject(session, poll_id, keys, None if only is None else [only])
    async with services.db.read() as session:
        return await rows.datepoll_subject(session, poll_id)


async def find(services: Services, typed: str) -> tuple[str, int] | None:
    """A typed id: a poll or a Terminumfrage (they share one id space)."""
    value = typed.strip().lower()
    if not looks_like_short_id(value):
        return None
    async with services.db.read() as session:
        poll = await poll_by_short_id(session, value)
        if poll is not None and poll.ag_id is not None:
            return POLL, poll.id
        found = await datepolls.by_short_id(session, value)
    return (DATEPOLL, found.id) if found is not None else None


def key(subject: SubjectRow) -> str:
    """The notice rows' `subject`: `poll:12` / `datepoll:4`."""
    return subject_of(subject.kind, subject.id)


def nudge_minutes(minutes: int | None) -> int:
    """An AG's setting in force: None is the default (a day), 0 is off."""
    return NUDGE_DEFAULT_MINUTES if minutes is None else minutes


def takes_answers(subject: SubjectRow, now: datetime) -> bool:
    """Open, before its deadline, and its AG not archived (an archived AG is not nudged)."""
    return (
        subject.open
        and not subject.ag.archived
        and (subject.closes_at is None or now < subject.closes_at)
    )


def nudge_due(subject: SubjectRow) -> datetime | None:
    """When the automatic nudge is due: the AG's minutes before the deadline. None: no
    automatic nudge (no deadline, nudges off, or the poll started after that instant:
    a poll that runs shorter than the nudge interval needs no reminder at its start)."""
    minutes = nudge_minutes(subject.ag.nudge_minutes)
    if subject.closes_at is None or minutes <= 0 or subject.answered is None:
        return None
    due = subject.closes_at - timedelta(minutes=minutes)
    return due if due >= subject.created_at else None


@dataclass(frozen=True)
class Targets:
    """Members who have not answered: those to nudge (private messages on) and the rest."""

    nudge: list[int]
    silent_without_dm: int


async def targets(services: Services, subject: SubjectRow) -> Targets:
    answered = subject.answered or frozenset()
    missing = [p for p in subject.members if p not in answered]
    async with services.db.read() as session:
        direct = await rows.wants_direct(session, missing)
    return Targets([p for p in missing if p in direct], len(missing) - len(direct))


def still_to_nudge(subject: SubjectRow, person_id: int, direct: bool, now: datetime) -> bool:
    """Checked again at send time: a member who has not answered, with private messages
    on, while the subject still takes answers."""
    return (
        direct
        and takes_answers(subject, now)
        and subject.answered is not None
        and person_id in subject.members
        and person_id not in subject.answered
    )


def lead_recipients(subject: SubjectRow) -> list[int]:
    """Who hears about the subject as its lead: its creator while a member of the AG,
    else the AG's leads."""
    if subject.created_by is not None and subject.created_by in subject.members:
        return [subject.created_by]
    return list(subject.leads)


# "Everyone has answered" says nothing in an AG of one.
ALL_ANSWERED_MIN = 2


def all_answered(subject: SubjectRow) -> bool:
    return (
        subject.answered is not None
        and len(subject.members) >= ALL_ANSWERED_MIN
        and all(p in subject.answered for p in subject.members)
    )
