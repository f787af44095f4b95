"""The private side of a pick: each AG member who asked for private messages
(`/remind on`) gets the new meeting's announcement and its `.ics`, once.

Each is a PICKED notice row (storage/notices), written in the pick's transaction. Sending
claims the row with a lease (`pending` -> `sending`, one process wins), writes through
the person's networks in turn (both as every notice does: handlers/nudges/claims.py), sends with the key
`notice:<id>` (Matrix drops a resend with the same transaction id) and marks it `sent`;
someone who can no longer be written to privately is `failed`, someone who left the AG
or turned private messages off meanwhile is `skipped`. A row left `pending` or `sending`
(a crash, a network or database outage) is sent at the next start or by the leader's
rescan, once no live process holds it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import commands as c
from bot.rich import Rich, lines
from handlers.datepoll.files import ics_name, meeting_ics
from handlers.meetings.text import announcement, shown_end
from handlers.nudges import claims
from storage.datepoll import pick as picking
from storage.db import DatabaseUnavailable
from storage.notices.models import NoticeKind, NoticeStatus

if TYPE_CHECKING:
    from bot.context import Services
    from bot.core import SentRef
    from bot.outbox import Audience, Reader
    from storage.meetings.occurrences import OccurrenceView

feature = c.Feature("datepoll-notices")
PARALLEL = 8
RETRY_BASE = 2.0  # seconds until a failed notice is tried again, doubled per attempt
RETRY_MAX = 300.0
RETRIES = 10  # then it waits for the next start
RETRY_JOB = "notice-retry:"

log = logging.getLogger(__name__)


send_key = claims.send_key


async def tell_members(services: Services, notice_ids: Iterable[int]) -> None:
    """Send the notices just written, a few at once."""
    slots = asyncio.Semaphore(PARALLEL)

    async def one(notice_id: int) -> None:
        async with slots:
            await deliver(services, notice_id)

    await asyncio.gather(*(one(n) for n in notice_ids))


async def deliver(
    services: Services,
    notice_id: int,
    *,
    resume: bool = False,
    attempt: int = 0,
    free_only: bool = False,
) -> None:
    """Claim one notice and send it. A failure other than "cannot be written to" (the
    network or the database down) is tried again with backoff, `RETRIES` times, and
    after that at the next start. `free_only`: a rescan's (never a notice under way here)."""
    try:
        await _deliver(services, notice_id, resume, free_only)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if attempt >= RETRIES:
            log.warning("notice %d: not sent (%r); again at the next start", notice_id, exc)
            return
        delay = min(RETRY_BASE * 2**attempt, RETRY_MAX)
        log.warning("notice %d: not sent (%r); again in %.0f s", notice_id, exc, delay)
        when = services.now() + timedelta(seconds=delay)
        services.timers.at(f"{RETRY_JOB}{notice_id}", when, retry, services, notice_id, attempt + 1)


async def retry(services: Services, notice_id: int, attempt: int) -> None:
    """The timer job of a notice whose send failed: it is `sending` (or still `pending`
    when the database was down), so it is claimed as at start-up."""
    await deliver(services, notice_id, resume=True, attempt=attempt)


async def _deliver(services: Services, notice_id: int, resume: bool, free_only: bool) -> None:
    if not await claims.claim(services, notice_id, resume=resume, free_only=free_only):
        return  # another process has it, or it is done
    async with services.db.read() as session:
        found = await picking.picked_notice(session, notice_id)
    if found is None:
        return
    meeting = found.meeting
    if meeting is None or not found.wanted or meeting.cancelled or meeting.start <= services.now():
        await _mark(services, notice_id, NoticeStatus.SKIPPED)
        return

    def text(reader: Reader) -> Rich:
        tz_start = meeting.start.astimezone(ZoneInfo(meeting.meeting.timezone))
        return lines(
            reader.t("Der Termin steht fest:"),
            announcement(
                reader.lang,
                reader.prefix,
                occurrence_id=meeting.id,
                title=meeting.title,
                ag_name=meeting.ag.name,
                start=tz_start,
                end=shown_end(tz_start, meeting.meeting.duration_minutes),
                repeat=None,
                place=meeting.meeting.place,
                url=meeting.meeting.url,
                buttons=False,
            ),
        )

    async with claims.keeping(services, notice_id):  # until it is marked
        # The person's networks in turn; an error other than "cannot be written to
        # privately" is raised: `deliver` tries again with backoff.
        written = await claims.write_privately(
            services, notice_id, found.accounts, found.language, text, errors_raise=True
        )
        if written.status is NoticeStatus.SENDING:
            pass  # held below, after the renewals (they would shorten the hold)
        elif written.audience is None or written.sent is None:
            await _mark(services, notice_id, NoticeStatus.FAILED)
            return
        else:
            await _send_ics(services, notice_id, meeting, written.audience, written.sent)
            await _record_sent(services, notice_id)
    if written.status is NoticeStatus.SENDING:
        log.warning("notice %d: no running network reaches the person; kept", notice_id)
        await claims.hold(services, notice_id)
        return
    log.info("notice %d (picked m%d) sent", notice_id, meeting.id)


async def _send_ics(
    services: Services, notice_id: int, meeting: OccurrenceView, audience: Audience, sent: SentRef
) -> None:
    """The meeting as a calendar file after the notice, where the network takes files."""
    reader = services.outbox.reader(audience)
    transport = services.outbox.transport(audience)
    if transport is not None and reader.capabilities.files:
        data = meeting_ics(reader.lang, meeting, services.now())
        await transport.send_file(
            sent.chat,
            ics_name(meeting.id),
            data,
            "text/calendar",
            reader.t("Zum Importieren in deinen Kalender."),
            key=send_key(notice_id) + ":ics",
        )


async def _mark(services: Services, notice_id: int, status: NoticeStatus) -> None:
    await claims.mark(services, notice_id, status)


async def _record_sent(services: Services, notice_id: int) -> None:
    """Mark it `sent`, waiting out a database outage: left `sending`, it would be sent a
    second time."""
    for attempt in itertools.count():
        try:
            await _mark(services, notice_id, NoticeStatus.SENT)
            return
        except DatabaseUnavailable as exc:
            delay = min(RETRY_BASE * 2**attempt, RETRY_MAX)
            log.warning("notice %d: sent, database unavailable (%s); again in %.0f s",
                        notice_id, exc, delay)  # fmt: skip
            await asyncio.sleep(delay)


@feature.on_start
async def resume_notices(services: Services) -> None:
    """After a restart: send the PICKED notices a crash or an outage left unsent (none
    that another live process holds)."""
    await _resume(services, free_only=False)


@feature.on_rescan
async def rescan_notices(services: Services) -> None:
    """The leader's repeated look: PICKED notices whose writer or holder is gone."""
    await _resume(services, free_only=True)


async def _resume(services: Services, *, free_only: bool) -> None:
    left = [i for i, kind in await claims.free(services) if kind == NoticeKind.PICKED.value]
    for notice_id in left:
        await deliver(services, notice_id, resume=True, free_only=free_only)
