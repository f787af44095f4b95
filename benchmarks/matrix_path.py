"""Benchmark 2: `!my` round trips through a real Synapse, each bot in its own process, the
way a person feels them.

Three bots on one local Synapse, each its own process started with this venv's python:
the whole bot (`python -m bot run`, a config on SQLite, the rate limit off), a bare nio
echo bot (no store, no encryption) and the same echo bot with nio's encryption on (store,
keys uploaded) (benchmarks/echo_bot.py). A human matrix-nio client here sends `!my` to
each in its own 2-member unencrypted room, in turns (bot, bare, e2e, the order rotating
every round), and a round trip ends when the human's own sync has the answer.

All four processes note monotonic stage times (bot/stages.py; one clock per machine), so
the output says where each round trip's time goes: the homeserver handing the event to
the bot's sync, the bot's work from the sync's arrival to its send, the send, and the
homeserver handing the answer to the human.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.stage_times import step_medians
from bot import stages
from tests.support.matrix_bot import wait_joined
from tests.support.synapse import MatrixHuman, SynapseServer

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 10.0  # seconds one round trip may take before the run counts as broken
START_TIMEOUT = 60.0  # seconds for a bot process to log in and join its room
SIDES = ("bot", "bare", "e2e")
# Stages in the order a command passes them (bot/stages.py); "seen" is the human's.
BOT_STAGES = (
    "sync",
    "callback",
    "dispatched",
    "task",
    "context",
    "handler",
    "reply",
    "send",
    "sent",
)
ECHO_STAGES = ("sync", "callback", "send", "sent")


def _config(workdir: Path, server: SynapseServer, user_id: str, password: str) -> Path:
    path = workdir / "buendnisbot.toml"
    path.write_text(
        f'database_url = "sqlite+aiosqlite:///{workdir / "bot.db"}"\n'
        f'ags_file = "{ROOT / "config" / "ags.toml"}"\n'
        f'heartbeat_file = "{workdir / "heartbeat"}"\n'
        'log_level = "WARNING"\n'
        "[limits]\ncommands_per_minute = 0\n"
        f'[matrix]\nhomeserver = "{server.base_url}"\nuser_id = "{user_id}"\n'
        f'password = "{password}"\nstore_path = "{workdir / "store"}"\n'
        'allowed_inviters = [":localhost"]\n'
    )
    return path


async def _process(
    args: list[str], log: Path, stage_file: Path, cwd: Path = ROOT
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUENDNISBOT_")}
    env[stages.ENV] = str(stage_file)
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=cwd, env=env, stdout=out, stderr=out
        )


async def _round_trip(human: MatrixHuman, room_id: str, bot_id: str) -> tuple[str, int, int]:
    """(event id of the command, ns when sent, ns when the human saw the answer)."""
    mark = human.mark()
    t0 = time.monotonic_ns()
    event_id = await human.send_text(room_id, "!my")
    await human.wait_for_notice(room_id, bot_id, TIMEOUT, since=mark)
    return event_id, t0, time.monotonic_ns()


async def _first_answer(human: MatrixHuman, room_id: str, bot_id: str) -> None:
    """Until the bot answers at all (it may still be starting)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            await _round_trip(human, room_id, bot_id)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "n": len(ordered),
        "p50_ms": statistics.median(ordered),
        "p95_ms": _pct(ordered, 0.95),
        "mean_ms": statistics.fmean(ordered),
        "min_ms": ordered[0],
        "max_ms": ordered[-1],
    }


def _stage_medians(
    trips: list[tuple[str, int, int]], marks: dict[str, dict[str, int]], names: tuple[str, ...]
) -> dict[str, float]:
    """Median milliseconds from each stage to the next: the human's send first, `seen`
    (the human's sync has the answer) last."""
    commands = [
        {"human_send": t0, **marks.get(event_id, {}), "seen": t1} for event_id, t0, t1 in trips
    ]
    found = step_medians(commands, ("human_send", *names, "seen"))
    for tail in ("nio_done", "after_sync_done"):  # the rest of the sync's handling
        found.update(step_medians(commands, ("callback", tail)))
    return found


async def matrix_command_path(n: int = 200, baseline: Path | None = None) -> dict[str, Any]:
    """`n` round trips per side, taken in turns, after a warm-up of 20 each. `baseline`: a
    copy of an older tree (`git archive`) whose bot runs as a fourth side, "before"."""
    sides = SIDES + (("before",) if baseline is not None else ())
    bots = {"bot": ROOT, **({"before": baseline} if baseline is not None else {})}
    with tempfile.TemporaryDirectory(prefix="buendnisbot-bench-mx-") as tmp:
        workdir = Path(tmp)
        server = SynapseServer(workdir / "synapse")
        await asyncio.to_thread(server.start)
        human: MatrixHuman | None = None
        procs: list[asyncio.subprocess.Process] = []
        try:
            accounts = {s: server.register(f"bench-{s}", f"pw-bench-{s}") for s in sides}
            files = {s: workdir / f"{s}.stages" for s in sides}
            for side, tree in bots.items():
                (workdir / side).mkdir()
                config = _config(workdir / side, server, accounts[side], f"pw-bench-{side}")
                args = ["-m", "bot", "--config", str(config), "run"]
                procs.append(await _process(args, workdir / f"{side}.log", files[side], tree))
            for side, store in (("bare", ""), ("e2e", str(workdir / "e2e-store"))):
                args = ["-m", "benchmarks.echo_bot", server.base_url, accounts[side]]
                args += [f"pw-bench-{side}", str(files[side])] + (
                    ["--store", store] if store else []
                )
                procs.append(await _process(args, workdir / f"{side}.log", files[side]))
            human = await MatrixHuman.login(server, "bench-human")
            await human.start_sync()
            rooms: dict[str, str] = {}
            for side in sides:
                rooms[side] = await human.create_room(f"Bench {side}", invite=[accounts[side]])
                await wait_joined(human, rooms[side], accounts[side], START_TIMEOUT)
                await _first_answer(human, rooms[side], accounts[side])
            for _ in range(20):  # caches, connections and the human's sender row exist after
                for side in sides:
                    await _round_trip(human, rooms[side], accounts[side])
            trips: dict[str, list[tuple[str, int, int]]] = {s: [] for s in sides}
            started = time.perf_counter()
            for i in range(n):
                order = sides[i % len(sides) :] + sides[: i % len(sides)]
                for side in order:
                    trips[side].append(await _round_trip(human, rooms[side], accounts[side]))
            elapsed = time.perf_counter() - started
            await asyncio.sleep(0.5)  # the last stage lines are flushed by now
            marks = {s: stages.read(str(files[s])) for s in sides}
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.terminate()
            for proc in procs:
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    proc.kill()
            if human is not None:
                await human.close()
            await asyncio.to_thread(server.stop)
    result: dict[str, Any] = {
        "name": "Matrix !my via Synapse, the bot's process vs bare and E2E nio echo processes",
        "n": n,
        "rooms": "private, unencrypted, 2 members",
        "seconds": elapsed,
    }
    for side in sides:
        result[side] = _summary([(t1 - t0) / 1e6 for _, t0, t1 in trips[side]])
        names = BOT_STAGES if side in bots else ECHO_STAGES
        result[side]["stages_p50_ms"] = _stage_medians(trips[side], marks[side], names)
    for floor in ("bare", "e2e", *bots.keys() - {"bot"}):
        for q in ("p50", "p95"):
            result[f"ratio_{q}_{floor}"] = result["bot"][f"{q}_ms"] / result[floor][f"{q}_ms"]
    result["goal"] = "p50 and p95 within 1.05x of both echo bots"
    return result


if __name__ == "__main__":
    import json

    count = int(sys.argv[1]) if sys.argv[1:] else 200
    older = Path(sys.argv[2]) if sys.argv[2:] else None
    print(json.dumps(asyncio.run(matrix_command_path(count, older)), indent=2))
