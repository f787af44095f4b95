"""The Matrix doors against a real Synapse: inviting an account to an AG's room (and
knowing who is in or invited already), kicking, and the power levels the bot needs for
both, called exactly as the handlers do (`doors(transport).let_in(...)`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import nio
import pytest

from bot.admission import ChatRight, MissingRight, Way, WayKind, doors
from bot.core import ChatRef
from bot.rich import AccountRef
from bot.transports.matrix import MatrixTransport
from tests.support.matrix_bot import (
    RunningBot,
    bot_knows,
    bot_sees,
    bot_settings,
    register_bot,
    running_bot,
    wait_joined,
)
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name

synapse_test = pytest.mark.synapse


@asynccontextmanager
async def people(server: SynapseServer, *names: str) -> AsyncIterator[list[MatrixHuman]]:
    humans = [await MatrixHuman.login(server, unique_name(name)) for name in names]
    try:
        for human in humans:
            await human.start_sync()
        yield humans
    finally:
        for human in humans:
            await human.close()


async def room_of(
    anna: MatrixHuman, bot: RunningBot, *, levels: dict[str, object] | None = None
) -> ChatRef:
    """A room Anna made (with power levels `levels` overriding the defaults), the bot in it."""
    resp = await anna.client.room_create(
        name="AG-Raum", invite=[bot.user_id], power_level_override=levels
    )
    assert isinstance(resp, nio.RoomCreateResponse), resp
    await wait_joined(anna, resp.room_id, bot.user_id)
    await bot_knows(bot.transport, resp.room_id)
    return ChatRef("matrix", resp.room_id, False, "AG-Raum")


def account(human: MatrixHuman) -> AccountRef:
    return AccountRef("matrix", human.user_id, "Bob")


def member_state(transport: MatrixTransport, room_id: str, user_id: str) -> str:
    room = transport.client.rooms[room_id]
    if user_id in room.invited_users:
        return "invite"
    return "join" if user_id in room.users else "none"


@synapse_test
async def test_let_in_invites_then_knows_invited_and_already(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    async with (
        people(synapse, "anna", "bob") as (anna, bob),
        running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot,
    ):
        room = await room_of(anna, bot)
        door = doors(bot.transport)

        assert await door.let_in(room, account(bob), link=None) == Way(room, WayKind.INVITED)
        await bob.wait_for_membership(room.id, bob.user_id, "invite")  # bob's client sees it

        await bot_sees(
            bot.transport, lambda: member_state(bot.transport, room.id, bob.user_id) == "invite"
        )
        assert await door.let_in(room, account(bob), link=None) == Way(room, WayKind.INVITED)

        await bob.join(room.id)
        await bot_sees(
            bot.transport, lambda: member_state(bot.transport, room.id, bob.user_id) == "join"
        )
        assert await door.let_in(room, account(bob), link=None) == Way(room, WayKind.ALREADY)


@synapse_test
async def test_let_in_without_the_invite_level_is_a_missing_right(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    async with (
        people(synapse, "anna", "bob") as (anna, bob),
        running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot,
    ):
        room = await room_of(anna, bot, levels={"invite": 50})  # the bot has 0

        with pytest.raises(MissingRight) as caught:
            await doors(bot.transport).let_in(room, account(bob), link=None)

        assert (caught.value.right, caught.value.chat) == (ChatRight.INVITE, room)
        assert bob.client.invited_rooms == {}  # nothing was sent


@synapse_test
async def test_a_refused_invite_is_a_missing_right(synapse: SynapseServer, tmp_path: Path) -> None:
    """The bot's view of the power levels may be old: the server's M_FORBIDDEN counts."""
    async with (
        people(synapse, "anna", "bob") as (anna, bob),
        running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot,
    ):
        room = await room_of(anna, bot, levels={"invite": 50})
        nio_room = bot.transport.client.rooms[room.id]
        nio_room.power_levels.defaults.invite = 0  # as if the last sync were older

        with pytest.raises(MissingRight) as caught:
            await doors(bot.transport).let_in(room, account(bob), link=None)

        assert caught.value.right is ChatRight.INVITE


@synapse_test
async def test_remove_member_kicks_with_the_kick_level(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    settings = bot_settings(tmp_path, synapse, register_bot(synapse))
    async with (
        people(synapse, "anna", "bob") as (anna, bob),
        running_bot(settings) as bot,
    ):
        levels = {"users": {bot.user_id: 50}}  # room v12: anna, the creator, stands above all
        room = await room_of(anna, bot, levels=levels)
        await anna.invite(room.id, bob.user_id)
        await bob.wait_for_membership(room.id, bob.user_id, "invite")
        await bob.join(room.id)
        await bot_sees(
            bot.transport, lambda: member_state(bot.transport, room.id, bob.user_id) == "join"
        )

        assert await doors(bot.transport).remove_member(room, account(bob)) is True

        await anna.wait_for_membership(room.id, bob.user_id, "leave")
        await bot_sees(
            bot.transport, lambda: member_state(bot.transport, room.id, bob.user_id) == "none"
        )
        assert await doors(bot.transport).remove_member(room, account(bob)) is False


@synapse_test
async def test_remove_member_without_the_kick_level_is_a_missing_right(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    async with (
        people(synapse, "anna", "bob") as (anna, bob),
        running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot,
    ):
        room = await room_of(anna, bot)  # kick needs 50, the bot has 0
        await anna.invite(room.id, bob.user_id)
        await bob.wait_for_membership(room.id, bob.user_id, "invite")
        await bob.join(room.id)
        await bot_sees(
            bot.transport, lambda: member_state(bot.transport, room.id, bob.user_id) == "join"
        )

        with pytest.raises(MissingRight) as caught:
            await doors(bot.transport).remove_member(room, account(bob))

        assert (caught.value.right, caught.value.chat) == (ChatRight.REMOVE, room)
        assert member_state(bot.transport, room.id, bob.user_id) == "join"


@synapse_test
async def test_remove_member_leaves_those_of_equal_or_higher_power(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    """The bot may kick, but not a moderator of its own level nor the room's creator: they
    stay, and no right is missing (a missing right would be told to the AG's leads)."""
    settings = bot_settings(tmp_path, synapse, register_bot(synapse))
    async with (
        people(synapse, "anna", "bob") as (anna, bob),
        running_bot(settings) as bot,
    ):
        levels = {"users": {bot.user_id: 50, bob.user_id: 50}}
        room = await room_of(anna, bot, levels=levels)
        await anna.invite(room.id, bob.user_id)
        await bob.wait_for_membership(room.id, bob.user_id, "invite")
        await bob.join(room.id)
        await bot_sees(
            bot.transport, lambda: member_state(bot.transport, room.id, bob.user_id) == "join"
        )

        assert await doors(bot.transport).remove_member(room, account(bob)) is False
        assert await doors(bot.transport).remove_member(room, account(anna)) is False
        assert member_state(bot.transport, room.id, bob.user_id) == "join"
        assert member_state(bot.transport, room.id, anna.user_id) == "join"


@synapse_test
async def test_a_room_the_bot_is_not_in_is_a_missing_right(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    async with (
        people(synapse, "bob") as (bob,),
        running_bot(bot_settings(tmp_path, synapse, register_bot(synapse))) as bot,
    ):
        gone = ChatRef("matrix", "!nowhere:localhost", False, "Weg")
        with pytest.raises(MissingRight) as caught:
            await doors(bot.transport).let_in(gone, account(bob), link=None)
        assert caught.value.right is ChatRight.INVITE


def test_right_hints_name_element_settings() -> None:
    from bot.transports.matrix.doors import MatrixDoors

    hint = MatrixDoors().right_hint(ChatRight.INVITE)
    assert "Rollen & Berechtigungen" in hint and "einladen" in hint
    assert MatrixDoors().right_hint(ChatRight.MANAGE_TOPICS) == ""


@pytest.mark.parametrize(
    ("versions", "chosen"),
    [
        ({"default": "12", "available": {"12": "stable", "10": "stable"}}, "12"),
        ({"default": "6", "available": {"6": "stable", "10": "stable", "11": "stable"}}, "10"),
        ({"default": "6", "available": {"6": "stable", "9": "stable", "8": "stable"}}, "9"),
        ({"default": "6", "available": {"6": "stable", "9": "unstable"}}, None),
        ({}, None),
    ],
)
def test_the_room_version_for_restricted_joins(
    versions: dict[str, object], chosen: str | None
) -> None:
    from bot.transports.matrix.rooms import restricted_version

    assert restricted_version({"m.room_versions": versions} if versions else {}) == chosen
