"""nio's client as the transport uses it: each sync is shown to the private-room rule
before nio handles it (private.py needs every member event of a sync first), and, for the
benchmarks only (bot/stages.py), the time a sync arrived is kept for its commands.

`QuietStore`: nio saves the sync's newly encrypted rooms after every sync, on the event
loop, even when there are none: a blocking SQLite query (about 1 ms) twice per command
(the command's sync and the one with the bot's own answer), in which nothing else runs.
"""

from __future__ import annotations

import time
from typing import Any

import nio
from nio.store import DefaultStore

from bot import stages
from bot.transports.matrix.private import PrivateRooms


class QuietStore(DefaultStore):
    """nio's store, without the database trip for an empty set of encrypted rooms."""

    def save_encrypted_rooms(self, rooms: Any) -> None:
        if rooms:
            super().save_encrypted_rooms(rooms)


class StagedClient(nio.AsyncClient):
    """nio's client, showing each sync to the private-room rule before handling it."""

    private: PrivateRooms | None = None
    # Benchmarks only (bot/stages.py): when the sync arrived, and the commands it held.
    synced_at_ns = 0
    stage_keys: tuple[str, ...] = ()

    def staged(self, key: str) -> None:
        """A command arrived in the sync under way (benchmarks only)."""
        stages.mark("sync", key, self.synced_at_ns)
        stages.mark("callback", key)
        self.stage_keys += (key,)

    async def receive_response(self, response: nio.Response) -> None:
        sync = isinstance(response, nio.SyncResponse)
        if sync and stages.enabled:
            self.synced_at_ns, self.stage_keys = time.monotonic_ns(), ()
        if sync and self.private is not None:
            self.private.see_sync(response)
        await super().receive_response(response)
        if sync and stages.enabled:
            for key in self.stage_keys:
                stages.mark("nio_done", key)
