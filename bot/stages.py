"""Stage times of the command path, for the benchmarks (benchmarks/matrix_path.py).

With `BUENDNISBOT_STAGE_LOG` set to a file, the bot appends one line per stage a command
passes: `<key> <stage> <monotonic ns>`, keyed by the incoming message's id (a Matrix event
id), so a benchmark in another process can tell where the time between the homeserver
and the reply goes (CLOCK_MONOTONIC is one clock for all processes of a machine). Without
it every call is one test of a module flag. Never on in production: the file grows with
every command, and it names message ids (not their text).
"""

from __future__ import annotations

import contextvars
import os
import time
from typing import IO

ENV = "BUENDNISBOT_STAGE_LOG"

_out: IO[str] | None = None
enabled = False
# The incoming message the current task works for; tasks inherit it from the dispatcher.
current: contextvars.ContextVar[str] = contextvars.ContextVar("stage_key", default="")


def setup(path: str | None = None) -> None:
    """Start writing stages to `path` (default: the file named by BUENDNISBOT_STAGE_LOG)."""
    global _out, enabled
    path = path if path is not None else os.environ.get(ENV)
    if not path:
        return
    _out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (the process's life)
    enabled = True


def mark(stage: str, key: str | None = None, at_ns: int | None = None) -> None:
    """Note that the command `key` (default: the current task's) reached `stage` now."""
    if not enabled or _out is None:
        return
    key = key if key is not None else current.get()
    if key:
        _out.write(f"{key} {stage} {at_ns if at_ns is not None else time.monotonic_ns()}\n")


def read(path: str) -> dict[str, dict[str, int]]:
    """A stage file as {key: {stage: ns}} (the first time a key reached a stage)."""
    found: dict[str, dict[str, int]] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    found.setdefault(parts[0], {}).setdefault(parts[1], int(parts[2]))
    except FileNotFoundError:
        pass
    return found


def close() -> None:
    """Stop writing stages (a benchmark's pass with them is over)."""
    global _out, enabled
    enabled = False
    if _out is not None:
        _out.close()
    _out = None
