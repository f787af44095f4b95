"""When notices go out on their own, rebuilt from the database at every start.

- The nudge of a poll or Terminumfrage with a deadline: a job at the deadline minus the
  AG's `nudge_minutes` (default a day). A poll that started later than that instant gets
  no automatic nudge: it runs shorter than the interval, and a reminder at its very start
  would only repeat the poll. Anonymous polls posted as native Telegram polls get none
  either: nobody, not even the bot, can tell who has answered them.
- The deadline of a Terminumfrage: a job at `closes_at` that tells its creator (else the
  AG's leads) privately that it is time to pick, with the best date.
- "Everyone has answered": `answered(services, kind, poll_id)`, called by every answer path.

Each notice is a row per person (storage/notices), so a job that runs twice, a restart
or a second `/erinnern` never writes to anyone twice. A job stopped by a database outage
comes back `RETRY_SECONDS` later.

Only the leader runs timers: a poll started on another process is planned here by the
rescan (`@feature.on_rescan`), which also resumes notices nobody holds any more.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

from bot.commands import Feature
from bot.context import Services
from bot.timers import JobFunc
from handlers.datepoll import live
from handlers.nudges import sender, subjects
from handlers.nudges.subjects import DATEPOLL, SubjectRow
from storage.db import DatabaseUnavailable
from storage.notices import rows
from storage.notices import subjects as subject_rows
from storage.notices.models import NoticeKind, NoticeStatus

feature = Feature("nudges")

log = logging.getLogger(__name__)

RETRY_SECONDS = 30
# A Terminumfrage whose deadline passed longer ago than this when the bot starts (it was
# down, or the deadline came before this feature) gets no "deadline passed" notice.
CLOSED_GRACE = timedelta(days=7)


def nudge_job(kind: str, poll_id: int) -> str:
    return f"nudge:{kind}:{poll_id}"


def deadline_job(poll_id: int) -> str:
    return f"deadline:{DATEPOLL}:{poll_id}"


def known_job(kind: str, poll_id: int) -> str:
    """A job that does nothing: it marks a subject as planned by this process (a rescan
    plans it again only once this has run, `REPLAN` later)."""
    return f"nudges-known:{kind}:{poll_id}"


# How long a rescan trusts this process's plan of a subject that has no job to run.
REPLAN = timedelta(hours=1)


async def plan(services: Services, kind: str, poll_id: int) -> None:
    """(Re)plan the jobs of one poll or Terminumfrage: after it started, after its AG's
    nudge time changed, at start-up."""
    subject = await subjects.load(services, kind, poll_id)
    services.timers.cancel(nudge_job(kind, poll_id))
    services.timers.at(known_job(kind, poll_id), services.now() + REPLAN, _known, kind, poll_id)
    if subject is None or not subject.open:
        return
    due = subjects.nudge_due(subject)
    if due is not None and subjects.takes_answers(subject, services.now()):
        services.timers.at(nudge_job(kind, poll_id), due, nudge_due, services, kind, poll_id)
    closes = subject.closes_at
    if kind == DATEPOLL and closes is not None and closes > services.now() - CLOSED_GRACE:
        async with services.db.read() as session:
            told = await rows.of_subject(session, NoticeKind.CLOSED, subjects.key(subject))
        if not told:
            services.timers.at(deadline_job(poll_id), closes, deadline_due, services, poll_id)


async def plan_ag(services: Services, ag_id: int) -> None:
    async with services.db.read() as session:
        found = await subject_rows.open_of_ag(session, ag_id)
    for kind, poll_id in found:
        await plan(services, kind, poll_id)


async def _known(kind: str, poll_id: int) -> None:
    """The end of `known_job`'s trust: nothing to do."""


def _again(services: Services, job_id: str, func: JobFunc, *args: Any) -> None:
    services.timers.at(job_id, services.now() + timedelta(seconds=RETRY_SECONDS), func, *args)


async def nudge_due(services: Services, kind: str, poll_id: int) -> None:
    """The scheduler's job: nudge everyone still to nudge, once each."""
    try:
        subject = await subjects.load(services, kind, poll_id)
        if subject is None or not subjects.takes_answers(subject, services.now()):
            return
        due = subjects.nudge_due(subject)
        if due is None:
            return
        if due > services.now():  # the setting changed, or the clock ran ahead of us
            services.timers.at(nudge_job(kind, poll_id), due, nudge_due, services, kind, poll_id)
            return
        services.timers.cancel(nudge_job(kind, poll_id))
        found = await nudge(services, subject)
    except DatabaseUnavailable as exc:
        log.warning("nudge of %s %d: the database is unavailable (%s)", kind, poll_id, exc)
        _again(services, nudge_job(kind, poll_id), nudge_due, services, kind, poll_id)
        return
    log.info("%s %s: nudged %d", kind, subject.short_id, found.count(NoticeStatus.SENT))


async def nudge(services: Services, subject: SubjectRow) -> list[NoticeStatus]:
    """Nudge the members who have not answered and want private messages, except those
    nudged before; the statuses of the nudges written now."""
    targets = await subjects.targets(services, subject)
    key = subjects.key(subject)
    ids = await services.db.run(lambda s: rows.want(s, NoticeKind.NUDGE, key, targets.nudge))
    return await sender.deliver_all(services, ids)


async def deadline_due(services: Services, poll_id: int) -> None:
    """A Terminumfrage's deadline: tell its lead, once (answers are refused from now on)."""
    try:
        subject = await subjects.load(services, DATEPOLL, poll_id)
        if subject is None or not subject.open or subject.closes_at is None:
            return
        if subject.closes_at > services.now():
            services.timers.at(
                deadline_job(poll_id), subject.closes_at, deadline_due, services, poll_id
            )
            return
        services.timers.cancel(deadline_job(poll_id))
        await _tell_lead(services, subject, NoticeKind.CLOSED)
        await last_summary_edit(services, poll_id)
    except DatabaseUnavailable as exc:
        log.warning("deadline of date poll %d: the database is unavailable (%s)", poll_id, exc)
        _again(services, deadline_job(poll_id), deadline_due, services, poll_id)


async def last_summary_edit(services: Services, poll_id: int) -> None:
    """At the deadline the summaries in the chats get their last state (no answer
    buttons: the poll takes no more answers)."""
    await live.refresh(services, poll_id)


async def _tell_lead(services: Services, subject: SubjectRow, kind: NoticeKind) -> None:
    people = subjects.lead_recipients(subject)
    key = subjects.key(subject)
    ids = await services.db.run(lambda s: rows.want(s, kind, key, people))
    await sender.deliver_all(services, ids)


async def answered(services: Services, kind: str, poll_id: int) -> None:
    """Someone answered (any network, any way): when every member of the AG has, the lead
    is told privately, once. Never raises: an answer must not fail for a notice."""
    try:
        subject = await subjects.load(services, kind, poll_id)
        if subject is None or not subjects.takes_answers(subject, services.now()):
            return
        if subjects.all_answered(subject):
            await _tell_lead(services, subject, NoticeKind.ALL_ANSWERED)
    except Exception:
        log.exception("%s %d: the 'everyone answered' check failed", kind, poll_id)


def _overdue(services: Services, job_id: str) -> bool:
    """Take a job that is due already out of the timers (start-up runs it at once)."""
    due = services.timers.due(job_id)
    if due is None or due > services.now():
        return False
    services.timers.cancel(job_id)
    return True


@feature.on_start
async def resume_notices(services: Services) -> None:
    """After a restart: finish the notices a crash left, plan every deadline's jobs, run
    at once those that fell due while the bot was down, and tell leads whose poll was
    answered by everyone meanwhile (once, as always)."""
    await sender.resume(services)
    async with services.db.read() as session:
        found = await subject_rows.with_deadline(session)
    overdue: list[Callable[[], Awaitable[None]]] = []
    for kind, poll_id in found:
        await plan(services, kind, poll_id)
        if _overdue(services, nudge_job(kind, poll_id)):
            overdue.append(partial(nudge_due, services, kind, poll_id))
        if kind == DATEPOLL and _overdue(services, deadline_job(poll_id)):
            overdue.append(partial(deadline_due, services, poll_id))
    for run in overdue:
        await run()
    # An answer whose "everyone answered" check an outage or a crash cut short.
    async with services.db.read() as session:
        running = await subject_rows.with_deadline(session, deadline=False)
    for kind, poll_id in running:
        await answered(services, kind, poll_id)


@feature.on_rescan
async def rescan_notices(services: Services) -> None:
    """The leader's repeated look: notices nobody holds (their writer or holder died), and
    the polls and Terminumfragen with a deadline that another process started (this one
    has no job for them)."""
    await sender.resume(services, free_only=True)
    async with services.db.read() as session:
        found = await subject_rows.with_deadline(session)
    timers = services.timers
    for kind, poll_id in found:
        jobs = (known_job(kind, poll_id), nudge_job(kind, poll_id), deadline_job(poll_id))
        if any(timers.due(job) is not None for job in jobs):
            continue
        await plan(services, kind, poll_id)
        if _overdue(services, nudge_job(kind, poll_id)):
            await nudge_due(services, kind, poll_id)
        if kind == DATEPOLL and _overdue(services, deadline_job(poll_id)):
            await deadline_due(services, poll_id)
