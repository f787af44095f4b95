"""Sending one notice exactly once: claim its row (`pending` -> `sending` with a lease,
one process wins: claims.py), check that it is still wanted (a nudge: not answered
meanwhile, private messages still on, the poll still open), write privately with the send
key `notice:<id>`, mark it.

A crash after the claim leaves the row `sending` with the dead process's lease; once it
ran out, the next start or the leader's rescan resumes it with the same key (Matrix drops
the duplicate by its transaction id; Telegram may show one). A notice no network could
take now is held for `claims.HOLD`, then tried again. A database outage delays a notice,
it does not lose it: the send is tried again with backoff until the database answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from bot.context import Services
from handlers.nudges import claims, subjects
from handlers.nudges.text import compose
from storage import repo
from storage.db import DatabaseUnavailable
from storage.meetings import settings as prefs
from storage.models import Account
from storage.notices import subjects as subject_rows
from storage.notices.models import Notice, NoticeKind, NoticeStatus

log = logging.getLogger(__name__)

PARALLEL = 8  # notices sent at once
DB_RETRY_BASE = 2.0  # seconds until a send stopped by a database outage is tried again
DB_RETRY_MAX = 60.0


send_key = claims.send_key


async def deliver_all(services: Services, notice_ids: Iterable[int]) -> list[NoticeStatus]:
    """Send these notices (a few at once); the status each ended in."""
    slots = asyncio.Semaphore(PARALLEL)

    async def one(notice_id: int) -> NoticeStatus:
        async with slots:
            return await deliver(services, notice_id)

    return list(await asyncio.gather(*(one(i) for i in notice_ids)))


async def deliver(
    services: Services, notice_id: int, *, resume: bool = False, free_only: bool = False
) -> NoticeStatus:
    """One notice to the end, waiting out database outages. `free_only`: a rescan's,
    which never takes a notice this process is sending."""
    attempt = 0
    while True:
        try:
            return await _deliver(services, notice_id, resume=resume, free_only=free_only)
        except DatabaseUnavailable as exc:
            attempt += 1
            delay = min(DB_RETRY_BASE * 2 ** (attempt - 1), DB_RETRY_MAX)
            log.warning(
                "notice %d: the database is unavailable (%s); trying again in %.1f s",
                notice_id,
                exc,
                delay,
            )
            resume = True  # our own claim may have gone through before the outage
            await asyncio.sleep(delay)


async def _deliver(
    services: Services, notice_id: int, *, resume: bool, free_only: bool
) -> NoticeStatus:
    if not await claims.claim(services, notice_id, resume=resume, free_only=free_only):
        return NoticeStatus.SENDING  # another process has it, or it is done
    async with services.db.read() as session:
        notice = await session.get(Notice, notice_id)
        if notice is None:
            return NoticeStatus.SKIPPED
        kind, subject_key, person_id = notice.kind, notice.subject, notice.person_id
        direct = person_id in await subject_rows.wants_direct(session, [person_id])
        accounts = await repo.accounts_of(session, person_id)
        language = await repo.person_language(session, person_id)
    async with claims.keeping(services, notice_id):  # until it is marked
        status = await _send(
            services, notice_id, kind, subject_key, person_id, direct, accounts, language
        )
        if status is not NoticeStatus.SENDING:
            await _record(services, notice_id, status)
    if status is NoticeStatus.SENDING:  # after the renewals: they would shorten the hold
        await claims.hold(services, notice_id)
    if status is NoticeStatus.FAILED:
        now = services.now()
        await services.db.run(lambda s: prefs.mark_unreachable(s, person_id, now))
    log.info("notice %d (%s): %s", notice_id, kind, status.value)
    return status


async def _send(
    services: Services,
    notice_id: int,
    kind: str,
    subject_key: str,
    person_id: int,
    direct: bool,
    accounts: list[Account],
    language: str | None,
) -> NoticeStatus:
    what, _, raw_id = subject_key.partition(":")
    subject = await subjects.load(services, what, int(raw_id), only=person_id)
    if subject is None:
        return NoticeStatus.SKIPPED
    if kind == NoticeKind.NUDGE and not subjects.still_to_nudge(
        subject, person_id, direct, services.now()
    ):
        return NoticeStatus.SKIPPED
    text = await compose(services, kind, subject)
    if text is None:
        return NoticeStatus.SKIPPED
    written = await claims.write_privately(services, notice_id, accounts, language, text)
    return written.status


async def _record(services: Services, notice_id: int, status: NoticeStatus) -> None:
    """Mark the outcome, waiting out a database outage: a sent notice left `sending`
    would be sent a second time."""
    attempt = 0
    while True:
        try:
            await claims.mark(services, notice_id, status)
            return
        except DatabaseUnavailable as exc:
            attempt += 1
            delay = min(DB_RETRY_BASE * 2 ** (attempt - 1), DB_RETRY_MAX)
            log.warning(
                "notice %d: %s, but the database is unavailable (%s); recording it in %.1f s",
                notice_id,
                status.value,
                exc,
                delay,
            )
        await asyncio.sleep(delay)


async def resume(services: Services, *, free_only: bool = False) -> None:
    """At start-up and at each rescan: notices nobody holds (a crash, an outage, a holder
    whose lease ran out, a writer that died before sending), with their keys. The picked
    date's notices are resumed by their own sender (handlers/datepoll/notify.py)."""
    waiting = [i for i, kind in await claims.free(services) if kind != NoticeKind.PICKED.value]
    if waiting:
        log.info("resuming %d unfinished notices", len(waiting))
    for notice_id in waiting:
        await deliver(services, notice_id, resume=True, free_only=free_only)
