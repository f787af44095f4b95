"""Trying a Bot API call again after a transient failure (a time-out, HTTP 5xx, a
`RetryAfter` the rate limiter gave up on), a few times with backoff, so that a command's
reply is not lost to a hiccup. Any other failure, or the last one, is raised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.logs import pseudonym
from bot.transports.telegram.convert import PLATFORM

log = logging.getLogger(__name__)

# Seconds before each further attempt after a transient failure (five attempts in all).
SEND_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)

T = TypeVar("T")


async def retried(
    shown: str,
    call: Callable[[int | str], Awaitable[T]],
    target: int | str,
    delays: Sequence[float] = SEND_RETRY_DELAYS,
) -> T:
    """`call(target)`, tried again after each of `delays` while it fails transiently;
    `shown` is the chat id the log names (pseudonymised)."""
    for attempt, delay in enumerate((*delays, None), start=1):
        try:
            return await call(target)
        except TelegramError as exc:
            if delay is None or not transient(exc):
                raise
            if isinstance(exc, RetryAfter):
                delay = max(delay, _seconds(exc.retry_after))
            log.warning(
                "telegram: a send to chat %s failed (%s: %s), attempt %d; again in %.1f s",
                pseudonym(PLATFORM, shown),
                type(exc).__name__,
                exc.message,
                attempt,
                delay,
            )
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def transient(exc: TelegramError) -> bool:
    """A failure that may pass: no answer in time (`TimedOut`), a server or connection
    error (`NetworkError`, except the `BadRequest` PTB derives from it), or flood control."""
    if isinstance(exc, RetryAfter):
        return True
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
