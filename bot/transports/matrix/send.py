"""Sending to a Matrix homeserver through rate limits and outages: how long to wait after
an error answer, the loop that retries a call within a time budget, and `RoomSender`,
which sends room events and lets stop() wait for the sends under way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import nio

from bot import stages

log = logging.getLogger(__name__)

SEND_BUDGET = 60.0  # seconds a send may keep retrying (rate limits, outages)
MAX_BACKOFF = 8.0


class MatrixSendError(RuntimeError):
    """A send the homeserver refused for good, or that kept failing for its budget."""


async def retrying(
    call: Callable[[], Awaitable[Any]],
    expected: type,
    what: str,
    *,
    budget: float,
    done: Callable[[Any], bool] | None = None,
) -> Any:
    """Repeat `call` through rate limits and outages for at most `budget` seconds; `done`
    may accept an error answer as the end.

    nio already waits out `M_LIMIT_EXCEEDED` and reconnects inside one call (with the
    same transaction id in the URL); this loop bounds that and retries server errors.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    attempt = 0
    while True:
        attempt += 1
        try:
            async with asyncio.timeout_at(deadline):
                resp = await call()
        except TimeoutError:
            raise MatrixSendError(f"{what}: gave up after {budget:.0f} s") from None
        except nio.LocalProtocolError as exc:
            raise MatrixSendError(f"{what}: {exc}") from None
        except (aiohttp.ClientError, OSError) as exc:
            resp = exc  # nio retries connection errors itself; anything else lands here
        if isinstance(resp, expected) or (done is not None and done(resp)):
            return resp
        delay = retry_delay(resp, attempt)
        if delay is None or loop.time() + delay > deadline:
            raise MatrixSendError(f"{what}: {getattr(resp, 'status_code', None) or resp}")
        log.debug("matrix: %s failed (%s); retry in %.1f s", what, resp, delay)
        await asyncio.sleep(delay)


def backoff(attempt: int) -> float:
    return float(min(0.5 * 2 ** max(attempt - 1, 0), MAX_BACKOFF))


def retry_delay(resp: Any, attempt: int) -> float | None:
    """Seconds to wait before retrying an error answer, or None if retrying cannot help."""
    if getattr(resp, "status_code", None) == "M_LIMIT_EXCEEDED":
        retry_ms = getattr(resp, "retry_after_ms", None)
        return retry_ms / 1000 if retry_ms else backoff(attempt)
    status = http_status(resp)
    if status is None or status >= 500 or status == 429:
        return backoff(attempt)
    return None


def http_status(resp: Any) -> int | None:
    status = getattr(getattr(resp, "transport_response", None), "status", None)
    return status if isinstance(status, int) else None


class RoomSender:
    """Room events out, each retried within `budget` seconds; counts the sends under way
    so that stop() can wait for them and refuse new ones after."""

    def __init__(self, client: nio.AsyncClient, budget: float) -> None:
        self.client = client
        self.budget = budget
        self.in_flight = 0
        self.stopped = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def idle(self) -> None:
        """Until no send is under way."""
        await self._idle.wait()

    @contextlib.asynccontextmanager
    async def busy(self) -> AsyncIterator[None]:
        """Around each send or upload: stop() waits for these, and refuses new ones after."""
        if self.stopped:
            raise MatrixSendError("the Matrix transport is stopped")
        self.in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def retrying(
        self,
        call: Callable[[], Awaitable[Any]],
        expected: type,
        what: str,
        *,
        budget: float | None = None,
        done: Callable[[Any], bool] | None = None,
    ) -> Any:
        """`call` repeated through rate limits and outages for at most `budget` seconds
        (default: the sender's); see `retrying` above."""
        budget = self.budget if budget is None else budget
        return await retrying(call, expected, what, budget=budget, done=done)

    async def send_event(
        self,
        room_id: str,
        event_type: str,
        content: dict[str, Any],
        tx_id: str,
        *,
        done: Callable[[Any], bool] | None = None,
    ) -> str:
        """Send any room event (encrypted where the room is); returns its event id, or ""
        when `done` accepted an error answer as success."""
        async with self.busy():
            stages.mark("send")
            resp = await self.retrying(
                lambda: self.client.room_send(
                    room_id,
                    event_type,
                    dict(content),
                    tx_id=tx_id,
                    ignore_unverified_devices=True,
                ),
                nio.RoomSendResponse,
                "send",
                done=done,
            )
            stages.mark("sent")
            return str(resp.event_id) if isinstance(resp, nio.RoomSendResponse) else ""
