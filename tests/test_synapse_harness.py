"""Proves the Synapse harness itself, so Matrix test failures point at the bot, not the rig."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nio
import pytest

from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name

pytestmark = pytest.mark.synapse


async def test_two_humans_talk(synapse: SynapseServer) -> None:
    alice = await MatrixHuman.login(synapse, unique_name("alice"))
    bob = await MatrixHuman.login(synapse, unique_name("bob"))
    try:
        await alice.start_sync()
        await bob.start_sync()
        room_id = await alice.create_room("harness", invite=[bob.user_id])
        await bob.wait_for_membership(room_id, bob.user_id, "invite")
        await bob.join(room_id)
        await alice.wait_for_membership(room_id, bob.user_id, "join")

        event_id = await alice.send_text(room_id, "hello bob")
        seen = await bob.wait_for(lambda e: e.event_id == event_id)
        assert isinstance(seen.event, nio.RoomMessageText)
        assert (seen.room_id, seen.sender, seen.body) == (room_id, alice.user_id, "hello bob")

        mark = bob.mark()
        await alice.send_text(room_id, "a notice", msgtype="m.notice")
        notice = await bob.wait_for_notice(room_id, alice.user_id, contains="notice", since=mark)
        assert isinstance(notice.event, nio.RoomMessageNotice)

        poll_id = await alice.send_event(
            room_id, "org.matrix.msc3381.poll.start", {"org.matrix.msc1767.text": "Q?"}
        )
        poll = await bob.wait_for(lambda e: e.event_id == poll_id)
        assert isinstance(poll.event, nio.UnknownEvent)
        assert poll.type == "org.matrix.msc3381.poll.start"
    finally:
        await alice.close()
        await bob.close()


async def test_encrypted_room(synapse: SynapseServer, tmp_path: Path) -> None:
    alice = await MatrixHuman.login(synapse, unique_name("alice"), store_path=tmp_path / "a")
    bob = await MatrixHuman.login(synapse, unique_name("bob"), store_path=tmp_path / "b")
    try:
        await alice.start_sync()
        await bob.start_sync()
        room_id = await alice.create_room("secret", invite=[bob.user_id], encrypted=True)
        await bob.wait_for_membership(room_id, bob.user_id, "invite")
        await bob.join(room_id)
        await alice.wait_for_membership(room_id, bob.user_id, "join")
        assert await alice.trust_all_devices() >= 1

        event_id = await alice.send_text(room_id, "for bob only")
        seen = await bob.wait_for(lambda e: e.event_id == event_id)
        assert isinstance(seen.event, nio.RoomMessageText), seen
        assert seen.event.decrypted
        assert seen.body == "for bob only"
    finally:
        await alice.close()
        await bob.close()


async def test_restart_keeps_users_and_clients_reconnect(tmp_path: Path) -> None:
    """Own server: restarting the shared one would stall every other test's clients."""
    server = SynapseServer(tmp_path / "hs")
    await asyncio.to_thread(server.start)
    try:
        alice = await MatrixHuman.login(server, "alice")
        bob = await MatrixHuman.login(server, "bob")
        await alice.start_sync()
        room_id = await bob.create_room("persistent", invite=[alice.user_id])
        await alice.wait_for_membership(room_id, alice.user_id, "invite")
        await alice.join(room_id)
        await bob.close()
        port = server.port

        # In a thread so Alice's sync loop keeps running and has to reconnect by itself.
        await asyncio.to_thread(server.restart)
        assert server.port == port

        bob = await MatrixHuman.login(server, "bob")  # same password: the user survived
        event_id = await bob.send_text(room_id, "after restart")

        def after_restart(e: SeenEvent) -> bool:
            return e.event_id == event_id

        seen = await alice.wait_for(after_restart, timeout=20)
        assert seen.body == "after restart"
        await alice.close()
        await bob.close()
    finally:
        await asyncio.to_thread(server.stop)
    assert not server.running
