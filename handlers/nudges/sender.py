"""Sending one notice exactly once: claim its row (`pending` -> `sending`, one process
wins), check that it is still wanted (a nudge: not answered meanwhile, private messages
still on, the poll still open), write privately with the send key `notice:<id>`, mark it.

A crash after the claim leaves the row `sending`; the next start resumes it with the
same key (Matrix drops the duplicate by its transaction id; Telegram may show one). A
database outage delays a notice, it does not lose it: the send is tried again with
backoff until the database answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from functools import partial

from bot.context import Services
from bot.core import DirectMessageUnavailable
from bot.outbox import Audience
from handlers.nudges import subjects
from handlers.nudges.text import compose
from handlers.people import account_ref
from storage import repo
from storage.db import DatabaseUnavailable
from storage.meetings import settings as prefs
from storage.models import Account
from storage.notices import rows
from storage.notices import subjects as subject_rows
from storage.notices.models import Notice, NoticeKind, NoticeStatus

log = logging.getLogger(__name__)

PARALLEL = 8  # notices sent at once
DB_RETRY_BASE = 2.0  # seconds until a send stopped by a database outage is tried again
DB_RETRY_MAX = 60.0


def send_key(notice_id: int) -> str:
    return f"notice:{notice_id}"


async def deliver_all(services: Services, notice_ids: Iterable[int]) -> list[NoticeStatus]:
    """Send these notices (a few at once); the status each ended in."""
    slots = asyncio.Semaphore(PARALLEL)

    async def one(notice_id: int) -> NoticeStatus:
        async with slots:
            return await deliver(services, notice_id)

    return list(await asyncio.gather(*(one(i) for i in notice_ids)))


async def deliver(services: Services, notice_id: int, *, resume: bool = False) -> NoticeStatus:
    """One notice to the end, waiting out database outages."""
    attempt = 0
    while True:
        try:
            return await _deliver(services, notice_id, resume=resume)
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


async def _deliver(services: Services, notice_id: int, *, resume: bool) -> NoticeStatus:
    if not await services.db.run(lambda s: rows.claim(s, notice_id, resume=resume)):
        return NoticeStatus.SENDING  # another process has it, or it is done
    async with services.db.read() as session:
        notice = await session.get(Notice, notice_id)
        if notice is None:
            return NoticeStatus.SKIPPED
        kind, subject_key, person_id = notice.kind, notice.subject, notice.person_id
        direct = person_id in await subject_rows.wants_direct(session, [person_id])
        accounts = await repo.accounts_of(session, person_id)
        language = await repo.person_language(session, person_id)
    status = await _send(
        services, notice_id, kind, subject_key, person_id, direct, accounts, language
    )
    if status is not NoticeStatus.SENDING:
        await _record(services, notice_id, status)
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
    running = [a for a in accounts if a.platform in services.transports]
    running.sort(key=lambda a: not a.direct_reachable)
    unreachable = 0
    for account in running:
        audience = Audience.of_account(account_ref(account), language)
        try:
            await services.outbox.send(audience, text, key=send_key(notice_id))
            return NoticeStatus.SENT
        except DirectMessageUnavailable:
            unreachable += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("notice %d: could not write on %s: %r", notice_id, account.platform, exc)
    if running and unreachable == len(running):
        return NoticeStatus.FAILED
    if not accounts:
        return NoticeStatus.FAILED
    # A network error or a network not running now: left `sending`, the next start resumes it.
    return NoticeStatus.SENDING


async def _record(services: Services, notice_id: int, status: NoticeStatus) -> None:
    """Mark the outcome, waiting out a database outage: a sent notice left `sending`
    would be sent a second time."""
    attempt = 0
    while True:
        try:
            await services.db.run(
                partial(rows.mark, notice_id=notice_id, status=status, now=services.now())
            )
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


async def resume(services: Services) -> None:
    """At start-up: notices a crash or an outage left unfinished, with their keys. The
    picked date's notices are resumed by their own sender (handlers/datepoll/notify.py):
    one resumer per notice, or a row caught in `sending` would be claimed twice."""
    async with services.db.read() as session:
        waiting = [
            n.id for n in await rows.unfinished(session) if n.kind != NoticeKind.PICKED.value
        ]
    if waiting:
        log.info("resuming %d unfinished notices", len(waiting))
    for notice_id in waiting:
        await deliver(services, notice_id, resume=True)
