"""Benchmark 2: `!join ag2` / `!leave ag2` round trips through a real Synapse and the whole
bot (App, Matrix transport, SQLite, config/ags.toml), against a bare matrix-nio echo bot.

A round trip is what a person feels: the human's client sends the command and its own sync
sees the bot's notice. Both bots run on the same Synapse, in this process, and are asked by
the same human with the same code, in two rooms made the same way (private, unencrypted,
the human and one bot). The two sides take turns in blocks, so a busy machine (or Synapse
compacting its database) hits both alike; the ratio of medians is what the bot adds on top
of nio and Synapse.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import nio

from tests.support.matrix_bot import (
    bot_knows,
    bot_settings,
    notices_from,
    register_bot,
    room_with_bot,
    running_bot,
    wait_joined,
)
from tests.support.synapse import MatrixHuman, SynapseServer

TIMEOUT = 10.0  # seconds one round trip may take before the run counts as broken
COMMANDS = ("!join ag2", "!leave ag2")
ENCRYPTED = False  # both rooms; the floor echo bot has no E2E


class EchoBot:
    """The floor: nio's own `sync_forever`, answering each text with the same text as a
    notice. No store, no E2E, no database, nothing else."""

    def __init__(self, client: nio.AsyncClient) -> None:
        self.client = client
        self._task: asyncio.Task[None] | None = None
        client.add_event_callback(self._echo, nio.RoomMessageText)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @classmethod
    async def start(cls, server: SynapseServer, username: str) -> EchoBot:
        password = "pw-" + username
        user_id = server.register(username, password)
        config = nio.AsyncClientConfig(encryption_enabled=False)
        client = nio.AsyncClient(server.base_url, user_id, config=config)
        resp = await client.login(password, device_name="echo")
        if not isinstance(resp, nio.LoginResponse):
            await client.close()
            raise RuntimeError(f"echo bot login failed: {resp}")
        bot = cls(client)
        bot._task = asyncio.create_task(client.sync_forever(timeout=30_000), name="echo-sync")
        return bot

    async def _echo(self, room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        if event.sender != self.user_id:
            await self.client.room_send(
                room.room_id, "m.room.message", {"msgtype": "m.notice", "body": event.body}
            )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()


async def _round_trip(human: MatrixHuman, room_id: str, bot_id: str, text: str) -> float:
    """Milliseconds from sending `text` until the human's sync has the bot's next notice."""
    mark = human.mark()
    t0 = time.perf_counter()
    await human.send_text(room_id, text)
    await human.wait_for_notice(room_id, bot_id, TIMEOUT, since=mark)
    return (time.perf_counter() - t0) * 1000


def _summary(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "n": len(latencies),
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "mean_ms": statistics.fmean(ordered),
        "min_ms": ordered[0],
        "max_ms": ordered[-1],
        "round_trips_ms": [round(x, 2) for x in latencies],
    }


async def _settled(human: MatrixHuman, room_id: str, bot_id: str, since: int, want: int) -> int:
    """Notices the bot sent in the room since `since`, after a moment for stragglers: more
    than one per command would mean a round trip was matched with the wrong answer."""
    await asyncio.sleep(1.0)
    got = len(notices_from(human, room_id, bot_id, since=since))
    if got != want:
        raise RuntimeError(f"{bot_id} sent {got} notices for {want} commands")
    return got


async def matrix_command_path(n: int = 200, block: int = 20, warmup: int = 20) -> dict[str, Any]:
    """`n` round trips per side, in alternating blocks of `block`, after `warmup` each."""
    with tempfile.TemporaryDirectory(prefix="buendnisbot-bench-mx-") as tmp:
        workdir = Path(tmp)
        server = SynapseServer(workdir / "synapse")
        await asyncio.to_thread(server.start)
        human: MatrixHuman | None = None
        echo: EchoBot | None = None
        try:
            human = await MatrixHuman.login(server, "bench-human")
            await human.start_sync()
            echo = await EchoBot.start(server, "bench-echo")
            settings = dataclasses.replace(
                bot_settings(workdir / "bot", server, register_bot(server, "buendnisbot")),
                heartbeat_file=workdir / "bot" / "heartbeat",
            )
            async with running_bot(settings) as bot:
                bot_room = await room_with_bot(human, bot.user_id, encrypted=ENCRYPTED)
                await bot_knows(bot.transport, bot_room)
                echo_room = await human.create_room("Echo", invite=[echo.user_id])
                await echo.client.join(echo_room)
                await wait_joined(human, echo_room, echo.user_id)
                sides = {"bot": (bot_room, bot.user_id), "floor": (echo_room, echo.user_id)}
                latencies: dict[str, list[float]] = {"bot": [], "floor": []}
                marks = {side: human.mark() for side in sides}
                sent = 0
                for i in range(warmup):  # people, caches, connections exist afterwards
                    for room_id, bot_id in sides.values():
                        await _round_trip(human, room_id, bot_id, COMMANDS[i % 2])
                sent += warmup
                started = time.perf_counter()
                for b in range(-(-n // block)):
                    order = ("bot", "floor") if b % 2 == 0 else ("floor", "bot")
                    count = min(block, n - b * block)
                    for side in order:
                        room_id, bot_id = sides[side]
                        for i in range(count):
                            text = COMMANDS[(sent + i) % 2]
                            latencies[side].append(await _round_trip(human, room_id, bot_id, text))
                    sent += count
                elapsed = time.perf_counter() - started
                for side, (room_id, bot_id) in sides.items():
                    await _settled(human, room_id, bot_id, marks[side], sent)
        finally:
            if echo is not None:
                await echo.close()
            if human is not None:
                await human.close()
            await asyncio.to_thread(server.stop)
    bot_s, floor_s = _summary(latencies["bot"]), _summary(latencies["floor"])
    return {
        "name": "Matrix !join/!leave via Synapse, whole bot vs bare nio echo bot",
        "n": n,
        "block": block,
        "warmup": warmup,
        "rooms": "private, " + ("encrypted" if ENCRYPTED else "unencrypted") + ", 2 members",
        "seconds": elapsed,
        "bot": bot_s,
        "floor": floor_s,
        "ratio_p50": bot_s["p50_ms"] / floor_s["p50_ms"],
        "ratio_p95": bot_s["p95_ms"] / floor_s["p95_ms"],
        "goal": "p50 within 1.10x of the bare nio echo bot",
    }


if __name__ == "__main__":
    import json

    result = asyncio.run(matrix_command_path())
    for side in ("bot", "floor"):
        result[side].pop("round_trips_ms")
    print(json.dumps(result, indent=2))
