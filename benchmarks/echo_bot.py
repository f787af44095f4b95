"""A bare matrix-nio echo bot in its own process, the floor of benchmark 2.

    python -m benchmarks.echo_bot HOMESERVER USER_ID PASSWORD STAGES [--store DIR]

Answers every text from someone else with the same text as a notice, from inside nio's
own `sync_forever`; joins every room it is invited to. With `--store` nio's encryption is
on (its store in DIR, device keys uploaded before the first sync), otherwise there is no
store and no encryption. Writes the same stage lines as the bot (bot/stages.py): `sync`
(the sync response arrived), `callback`, `send`, `sent`, keyed by the event answered.
Runs until killed (SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from pathlib import Path
from typing import IO

import nio


class EchoClient(nio.AsyncClient):
    """nio's client, noting when each sync response arrived."""

    synced_at_ns = 0

    async def receive_response(self, response: nio.Response) -> None:
        if isinstance(response, nio.SyncResponse):
            self.synced_at_ns = time.monotonic_ns()
        await super().receive_response(response)


async def run(homeserver: str, user_id: str, password: str, stages: IO[str], store: str) -> None:
    if store:
        config = nio.AsyncClientConfig(encryption_enabled=True)
        client = EchoClient(homeserver, user_id, store_path=store, config=config)
    else:
        client = EchoClient(homeserver, user_id, config=nio.AsyncClientConfig())
    resp = await client.login(password, device_name="echo")
    if not isinstance(resp, nio.LoginResponse):
        raise SystemExit(f"echo bot: login failed: {resp}")
    if store and client.should_upload_keys:
        await client.keys_upload()

    def mark(key: str, stage: str, at_ns: int | None = None) -> None:
        stages.write(f"{key} {stage} {at_ns or time.monotonic_ns()}\n")

    async def echo(room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        if event.sender == user_id:
            return
        mark(event.event_id, "sync", client.synced_at_ns)
        mark(event.event_id, "callback")
        content = {"msgtype": "m.notice", "body": event.body}
        mark(event.event_id, "send")
        await client.room_send(room.room_id, "m.room.message", content)
        mark(event.event_id, "sent")

    async def invited(room: nio.MatrixRoom, _event: nio.InviteMemberEvent) -> None:
        await client.join(room.room_id)

    client.add_event_callback(echo, nio.RoomMessageText)
    client.add_event_callback(invited, nio.InviteMemberEvent)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    syncing = asyncio.create_task(client.sync_forever(timeout=30_000))
    await stop.wait()
    syncing.cancel()
    await asyncio.gather(syncing, return_exceptions=True)
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="echo_bot")
    for name in ("homeserver", "user_id", "password", "stages"):
        parser.add_argument(name)
    parser.add_argument("--store", default="", help="nio store folder: encryption on")
    args = parser.parse_args()
    if args.store:
        Path(args.store).mkdir(parents=True, exist_ok=True)
    with open(args.stages, "a", buffering=1, encoding="utf-8") as stages:
        asyncio.run(run(args.homeserver, args.user_id, args.password, stages, args.store))


if __name__ == "__main__":
    main()
