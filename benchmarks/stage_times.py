"""Where a command's time goes: the median time from each stage to the next, from the
stage lines the bot writes with BUENDNISBOT_STAGE_LOG (bot/stages.py)."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable


def step_medians(commands: Iterable[dict[str, int]], chain: tuple[str, ...]) -> dict[str, float]:
    """{"a->b": median ms} over the commands that reached both stages of each step."""
    steps: dict[str, list[float]] = {f"{a}->{b}": [] for a, b in itertools.pairwise(chain)}
    for times in commands:
        for a, b in itertools.pairwise(chain):
            if a in times and b in times:
                steps[f"{a}->{b}"].append((times[b] - times[a]) / 1e6)
    return {k: round(statistics.median(v), 3) for k, v in steps.items() if v}
