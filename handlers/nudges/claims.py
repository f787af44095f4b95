"""Taking a notice row for sending, shared by both senders of notices (the nudges and
deadline notices in sender.py, a Terminumfrage's picked date in handlers/datepoll/notify.py):
one conditional UPDATE with a lease to this process (`services.node_id`), so of several
processes exactly one sends it, and a row whose holder died is free once its lease ran out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from storage.notices import rows
from storage.notices.models import NoticeStatus

if TYPE_CHECKING:
    from bot.context import Services

# A notice that could not go out now (a network down or not running here) stays with its
# holder this long before it is tried again, by the holder or by a rescan of the leader.
HOLD = timedelta(minutes=5)


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


async def mark(services: Services, notice_id: int, status: NoticeStatus) -> None:
    """The outcome; the lease ends with it."""
    now = services.now()
    await services.db.run(lambda s: rows.mark(s, notice_id, status, now))


async def free(services: Services) -> list[tuple[int, str]]:
    """(id, kind) of the open notices nobody holds (start-up and rescans resume them)."""
    now = services.now()
    async with services.db.read() as session:
        return [(n.id, n.kind) for n in await rows.unfinished(session, now)]
