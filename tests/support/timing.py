"""Guards against a blow-up in time, not benchmarks.

A guard allows about 100x what the work takes on a quiet machine, and times the work with
the garbage collector off: late in a suite run a full collection walks a large heap for
longer than the parse being measured (once 1 s on CI), and the parse is what is meant.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

BOUND = 2.0  # seconds for one piece of hostile input of 64 KiB


def timed(work: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """What `work(*args)` returns and how long it took, without a garbage collection in it."""
    gc.disable()
    try:
        started = time.perf_counter()
        result = work(*args)
        return result, time.perf_counter() - started
    finally:
        gc.enable()


def seconds(work: Callable[..., Any], *args: Any) -> float:
    """How long `work(*args)` takes, without a garbage collection in it."""
    return timed(work, *args)[1]
