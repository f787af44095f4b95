"""Which Matrix rooms count as someone's private chat with the bot, against a real Synapse.

A head count is not enough: a room someone else set up for the bot and a victim, a group
with an invite still open, a room a third person passed through, a public room, a room
with world-readable history all have exactly two joined members. What the bot says
privately (a `/connect` code here) must never go there, and a command there is a group
command. The bot's own private rooms are invite-only, encrypted from the start and in its
`m.direct`; a person's own proper private room keeps working until someone else enters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nio
import pytest

from bot.rich import AccountRef, text
from bot.transports.matrix.private import PrivateRooms
from tests.support.matrix_bot import (
    ask,
    bot_settings,
    notices_from,
    register_bot,
    room_with_bot,
    running_bot,
    wait_joined,
)
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name

synapse_test = pytest.mark.synapse
CODE = "Dein Code"  # the start of `!connect`'s answer in a private chat
ONLY_PRIVATE = "nur im privaten Chat"  # its refusal anywhere else


async def joined_by_invite(human: MatrixHuman, room_id: str) -> None:
    await human.wait_for_membership(room_id, human.user_id, "invite")
    await human.join(room_id)


async def put_state(human: MatrixHuman, room_id: str, kind: str, content: dict[str, str]) -> None:
    resp = await human.client.room_put_state(room_id, kind, content)
    assert isinstance(resp, nio.RoomPutStateResponse), resp


async def state_of(human: MatrixHuman, room_id: str) -> dict[str, dict[str, object]]:
    """The room's current state as the human's homeserver has it: type -> content."""
    resp = await human.client.room_get_state(room_id)
    assert isinstance(resp, nio.RoomGetStateResponse), resp
    return {e["type"]: e["content"] for e in resp.events if e.get("state_key") == ""}


# --- the rule on synced state, without a homeserver ------------------------------------------

BOT, ANNA, EVE = "@bot:example.org", "@anna:example.org", "@eve:example.org"


def member(user_id: str, membership: Any, n: int) -> dict[str, Any]:
    return {
        "type": "m.room.member",
        "sender": user_id,
        "state_key": user_id,
        "content": {"membership": membership},
        "event_id": f"$m{n}",
        "origin_server_ts": n,
    }


async def judged(state: list[dict[str, Any]], timeline: list[dict[str, Any]]) -> str | None:
    """Whom the rule finds the room private with, after a nio client took this sync."""
    client = nio.AsyncClient("http://127.0.0.1:9", BOT)
    private = PrivateRooms(BOT)
    room = {
        "state": {"events": state},
        "timeline": {"events": timeline, "limited": False},
        "ephemeral": {"events": []},
        "account_data": {"events": []},
    }
    sync = {"next_batch": "s1", "rooms": {"join": {"!r:example.org": room}}}
    response = nio.SyncResponse.from_dict(sync)
    assert isinstance(response, nio.SyncResponse)
    private.see_sync(response)
    await client.receive_response(response)
    await client.close()
    return private.partner(client.rooms["!r:example.org"])


async def test_the_rule_on_synced_state() -> None:
    both = [member(BOT, "join", 1), member(ANNA, "join", 2)]
    assert await judged([], both) == ANNA
    # Eve's member event nio cannot parse still names her: nio's room shows two people.
    assert await judged([member(EVE, 5, 0)], both) is None
    assert await judged([member(EVE, "leave", 0)], both) is None  # she was there before
    knock = {"type": "m.room.join_rules", "sender": ANNA, "state_key": "", "event_id": "$j"}
    knock |= {"content": {"join_rule": "knock"}, "origin_server_ts": 3}
    assert await judged([], [*both, knock]) is None  # anyone may ask to come in
    assert await judged([], [member(BOT, "join", 1), member(ANNA, "leave", 2)]) is None


# --- against Synapse ----------------------------------------------------------------------------


@synapse_test
async def test_rooms_that_only_look_private(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    people = {
        name: await MatrixHuman.login(synapse, unique_name(name))
        for name in ("anna", "eve", "carol", "bob")
    }
    anna, eve, carol, bob = people.values()
    try:
        for human in people.values():
            await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, account)) as bot:
            # (a) Eve's trap: she creates the room, invites the bot and Anna, and leaves.
            trap = await room_with_bot(eve, bot.user_id, invite=(anna.user_id,), name="Falle")
            await joined_by_invite(anna, trap)
            await wait_joined(eve, trap, anna.user_id)
            await eve.leave(trap)
            # (b) A group whose second invitee has not come yet.
            pending = await room_with_bot(anna, bot.user_id, invite=(bob.user_id,), name="AG")
            # (c) Carol joined and left again.
            passed = await room_with_bot(anna, bot.user_id, invite=(carol.user_id,), name="AG2")
            await joined_by_invite(carol, passed)
            await wait_joined(anna, passed, carol.user_id)
            await carol.leave(passed)
            # Anyone may enter, or anyone may read along.
            public = await room_with_bot(anna, bot.user_id, name="offen")
            await put_state(anna, public, "m.room.join_rules", {"join_rule": "public"})
            readable = await room_with_bot(anna, bot.user_id, name="lesbar")
            await put_state(
                anna,
                readable,
                "m.room.history_visibility",
                {"history_visibility": "world_readable"},
            )
            lookalikes = (trap, pending, passed, public, readable)
            mark = anna.mark()

            # Each has the bot and Anna as its only joined members, yet none is private:
            # a command there is a group command.
            names = ("a trap", "b pending", "c passed", "public", "readable")
            answers = {
                name: (await ask(anna, room_id, bot.user_id, "!connect")).body
                for name, room_id in zip(names, lookalikes, strict=True)
            }
            taken_as_private = [n for n, body in answers.items() if ONLY_PRIVATE not in body]
            assert taken_as_private == [], answers

            # Sending privately, the bot opens a room of its own instead of using one.
            anna_account = AccountRef("matrix", anna.user_id, "Anna")
            sent = await bot.transport.send_direct(anna_account, text("nur für Anna"), key="p:1")
            assert sent.chat.id not in lookalikes
            assert all(
                CODE not in n.body and "nur für Anna" not in n.body
                for room_id in lookalikes
                for n in notices_from(anna, room_id, bot.user_id, since=mark)
            )
            await anna.wait_for_membership(sent.chat.id, anna.user_id, "invite")
    finally:
        for human in people.values():
            await human.close()


@synapse_test
async def test_the_bots_own_private_room(synapse: SynapseServer, tmp_path: Path) -> None:
    """(d) Opened invite-only, encrypted from the start, recorded in m.direct; what the
    bot says there arrives encrypted and Anna's client can read it."""
    account = register_bot(synapse)
    anna = await MatrixHuman.login(synapse, unique_name("anna"), store_path=tmp_path / "anna")
    try:
        await anna.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, account)) as bot:
            anna_account = AccountRef("matrix", anna.user_id, "Anna")
            sent = await bot.transport.send_direct(anna_account, text("Hallo Anna"), key="d:1")
            room_id = sent.chat.id
            await joined_by_invite(anna, room_id)

            state = await state_of(anna, room_id)
            assert state["m.room.encryption"]["algorithm"] == "m.megolm.v1.aes-sha2"
            assert state["m.room.join_rules"]["join_rule"] == "invite"
            assert state["m.room.history_visibility"]["history_visibility"] != "world_readable"
            direct = await bot.transport.client.list_direct_rooms()
            assert isinstance(direct, nio.DirectRoomsResponse), direct
            assert room_id in direct.rooms[anna.user_id]

            hello = await anna.wait_for_notice(room_id, bot.user_id, contains="Hallo Anna")
            assert hello.event.decrypted  # it came encrypted and Anna could read it
            code = await ask(anna, room_id, bot.user_id, "!connect", contains=CODE)
            assert code.event.decrypted
            again = await bot.transport.send_direct(anna_account, text("Noch was"), key="d:2")
            assert again.chat.id == room_id
    finally:
        await anna.close()


@synapse_test
async def test_a_persons_own_private_room(synapse: SynapseServer, tmp_path: Path) -> None:
    """(e) Anna's own "start chat" (as Element makes it: is_direct, encrypted, invite-only)
    is her private chat with the bot until someone else is invited into it; after that it
    stays a group, also once Carol has come and gone and the bot has restarted (nio
    forgets who left; the bot reads it from the room state again)."""
    account = register_bot(synapse)
    settings = bot_settings(tmp_path, synapse, account)
    anna = await MatrixHuman.login(synapse, unique_name("anna"), store_path=tmp_path / "anna")
    carol = await MatrixHuman.login(synapse, unique_name("carol"))
    anna_account = AccountRef("matrix", anna.user_id, "Anna")
    try:
        await anna.start_sync()
        await carol.start_sync()
        async with running_bot(settings) as bot:
            room_id = await anna.create_room(None, [bot.user_id], encrypted=True, is_direct=True)
            await wait_joined(anna, room_id, bot.user_id)
            await ask(anna, room_id, bot.user_id, "!connect", contains=CODE)
            sent = await bot.transport.send_direct(anna_account, text("Hier"), key="e:1")
            assert sent.chat.id == room_id

            # Carol is invited: from now on it is a group.
            await anna.invite(room_id, carol.user_id)
            await ask(anna, room_id, bot.user_id, "!connect", contains=ONLY_PRIVATE)
            moved = await bot.transport.send_direct(anna_account, text("Woanders"), key="e:2")
            assert moved.chat.id != room_id
            await joined_by_invite(carol, room_id)
            await wait_joined(anna, room_id, carol.user_id)
            await carol.leave(room_id)

        async with running_bot(settings) as bot:
            await ask(anna, room_id, bot.user_id, "!connect", contains=ONLY_PRIVATE)
            again = await bot.transport.send_direct(anna_account, text("Neu"), key="e:3")
            assert again.chat.id == moved.chat.id
    finally:
        await anna.close()
        await carol.close()
