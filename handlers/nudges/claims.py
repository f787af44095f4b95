"""The one way a notice goes out, shared by both senders of notices (the nudges and
deadline notices in sender.py, a Terminumfrage's picked date in handlers/datepoll/notify.py):
taking its row is one conditional UPDATE with a lease to this process (`services.node_id`),
so of several processes exactly one sends it, and a row whose holder died is free once its
lease ran out; writing tries the person's networks in turn (`write_privately`); the
outcome ends the lease.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core import DirectMessageUnavailable, SentRef
from bot.lease_keeper import RENEW_EVERY, kept
from bot.outbox import Audience, Text
from handlers.people import account_ref
from storage.leases import LEASE
from storage.models import Account
from storage.notices import rows
from storage.notices.models import NoticeStatus

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

# A notice that could not go out now (a network down or not running here) stays with its
# holder this long before it is tried again, by the holder or by a rescan of the leader.
HOLD = timedelta(minutes=5)


def send_key(notice_id: int) -> str:
    """The key of a notice's message: Matrix makes it the transaction id, so a resend
    after a crash is dropped."""
    return f"notice:{notice_id}"


async def claim(
    services: Services, notice_id: int, *, resume: bool = False, free_only: bool = False
) -> bool:
    """Whether this process won the notice (see `storage.notices.rows.claim`)."""
    owner, now = services.node_id, services.now()
    return await services.db.run(
        lambda s: rows.claim(s, notice_id, owner=owner, now=now, resume=resume, free_only=free_only)
    )


async def hold(services: Services, notice_id: int) -> None:
    """Keep the notice for `HOLD` (it stays `sending`, with our lease)."""
    owner, now = services.node_id, services.now()
    await services.db.run(lambda s: rows.hold(s, notice_id, owner=owner, now=now, ttl=HOLD))


def keeping(services: Services, notice_id: int) -> AbstractAsyncContextManager[None]:
    """Renew our lease on the notice while the block sends it (until it is marked): a
    send may take longer than the lease, and a rescan would then send it again."""

    async def renew() -> None:
        owner, now = services.node_id, services.now()
        await services.db.run(lambda s: rows.hold(s, notice_id, owner=owner, now=now, ttl=LEASE))

    return kept(renew, what=f"notice {notice_id}", every=RENEW_EVERY)


async def mark(services: Services, notice_id: int, status: NoticeStatus) -> None:
    """The outcome; the lease ends with it."""
    now = services.now()
    await services.db.run(lambda s: rows.mark(s, notice_id, status, now))


async def free(services: Services) -> list[tuple[int, str]]:
    """(id, kind) of the open notices nobody holds (start-up and rescans resume them)."""
    now = services.now()
    async with services.db.read() as session:
        return [(n.id, n.kind) for n in await rows.unfinished(session, now)]


@dataclass(frozen=True)
class Written:
    """How writing a notice went: `sent` (where: `audience`, `sent`), `failed` (the
    person cannot be written to privately anywhere) or `sending` (kept: try again)."""

    status: NoticeStatus
    audience: Audience | None = None
    sent: SentRef | None = None


async def write_privately(
    services: Services,
    notice_id: int,
    accounts: list[Account],
    language: str | None,
    text: Text,
    *,
    errors_raise: bool = False,
) -> Written:
    """Each network of the person (linked by /connect) in turn, the ones known to reach
    them privately first: one that cannot (never started, or blocked the bot) is no
    reason to give up. Another error is logged and the next network tried, or raised
    (`errors_raise`: the caller retries with backoff)."""
    running = [a for a in accounts if a.platform in services.transports]
    running.sort(key=lambda a: not a.direct_reachable)
    unreachable = 0
    for account in running:
        audience = Audience.of_account(account_ref(account), language)
        try:
            sent = await services.outbox.send(audience, text, key=send_key(notice_id))
        except DirectMessageUnavailable:
            unreachable += 1
            continue
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if errors_raise:
                raise
            log.warning("notice %d: could not write on %s: %r", notice_id, account.platform, exc)
            continue
        return Written(NoticeStatus.SENT, audience, sent)
    if not accounts or (running and unreachable == len(running)):
        return Written(NoticeStatus.FAILED)
    # A network error or a network not running here: kept (`hold`), tried again later.
    return Written(NoticeStatus.SENDING)
