"""A bare matrix-nio echo bot in its own process, the floor of benchmark 2.

    python -m benchmarks.echo_bot HOMESERVER USER_ID PASSWORD STAGES [--store DIR]
        [--content FILE] [--from-task]

Answers every text from someone else with the same text as a notice, from inside nio's
own `sync_forever`; joins every room it is invited to. With `--store` nio's encryption is
on (its store in DIR, device keys uploaded before the first sync), otherwise there is no
store and no encryption. Writes the same stage lines as the bot (bot/stages.py): `sync`
(the sync response arrived), `callback`, `send`, `sent`, keyed by the event answered.
Runs until killed (SIGTERM).

For experiments that change one thing against the bot (the row-2 text in report.py):
`--content FILE` answers with that JSON content instead (e.g. the bot's notice, with its
HTML and `m.mentions`), `--from-task` sends from a task, so that nio's next sync goes out
while the answer is being sent, as the bot's did before its sync waited for its commands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from pathlib import Path
from typing import IO, Any

import nio


class EchoClient(nio.AsyncClient):
    """nio's client, noting when each sync response arrived."""

    synced_at_ns = 0

    async def receive_response(self, response: nio.Response) -> None:
        if isinstance(response, nio.SyncResponse):
            self.synced_at_ns = time.monotonic_ns()
        await super().receive_response(response)


async def run(
    homeserver: str,
    user_id: str,
    password: str,
    stages: IO[str],
    store: str,
    content: dict[str, Any] | None = None,
    from_task: bool = False,
) -> None:
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

    async def answer(room_id: str, key: str, answer: dict[str, Any]) -> None:
        mark(key, "send")
        await client.room_send(room_id, "m.room.message", answer)
        mark(key, "sent")

    sending: set[asyncio.Task[None]] = set()

    async def echo(room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        if event.sender == user_id:
            return
        mark(event.event_id, "sync", client.synced_at_ns)
        mark(event.event_id, "callback")
        reply = dict(content) if content else {"msgtype": "m.notice", "body": event.body}
        if not from_task:
            await answer(room.room_id, event.event_id, reply)
            return
        task = asyncio.create_task(answer(room.room_id, event.event_id, reply))
        sending.add(task)
        task.add_done_callback(sending.discard)

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
    parser.add_argument("--content", default="", help="JSON file: answer with this content")
    parser.add_argument("--from-task", action="store_true", help="send from a task")
    args = parser.parse_args()
    if args.store:
        Path(args.store).mkdir(parents=True, exist_ok=True)
    content = json.loads(Path(args.content).read_text("utf-8")) if args.content else None
    with open(args.stages, "a", buffering=1, encoding="utf-8") as stages:
        asyncio.run(
            run(
                args.homeserver,
                args.user_id,
                args.password,
                stages,
                args.store,
                content,
                args.from_task,
            )
        )


if __name__ == "__main__":
    main()
