"""The one clock that everything reading the time reads: handlers, the reminder engine,
the timers that wake them, the rate limit.

In production it is the system's clock. Tests and simulations use a `ManualClock`, which
stands still until it is moved; whoever plans work for a later instant (bot/timers.py)
listens to its moves, so a job falls due when the test's clock says so, not the machine's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

Listener = Callable[[], None]


class Clock(Protocol):
    def __call__(self) -> datetime:
        """The current time, aware, in UTC."""
        ...

    def on_move(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` whenever the time jumps; returns a function that stops it."""
        ...


class SystemClock:
    """The machine's clock. It is never moved by hand, so nobody is ever told."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def on_move(self, listener: Listener) -> Callable[[], None]:
        return _nothing


def _nothing() -> None:
    return None


class ManualClock:
    """A clock that stands still until `set` or `advance` moves it (tests, simulations)."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the clock needs an aware time")
        self._now = now.astimezone(UTC)
        self._listeners: list[Listener] = []

    def __call__(self) -> datetime:
        return self._now

    @property
    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock needs an aware time")
        self._now = when.astimezone(UTC)
        for listener in list(self._listeners):
            listener()

    def advance(self, seconds: float = 0, **delta: float) -> None:
        self.set(self._now + timedelta(seconds=seconds, **delta))

    def on_move(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop
