"""The alliance's Space and the AG rooms in it, on a real Synapse with the whole bot:
`!space neu`, `!space #alias`, `!ag room ag2` (the state events read back from the
server), restricted joins for the Space's members, the encrypted room answering, and a
Space where the bot may not add rooms."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import nio
import pytest

from bot.admission import Way, WayKind, doors
from bot.core import ChatRef
from bot.rich import AccountRef
from storage import repo
from storage.access.problems import missing_rights
from storage.models import Chat
from tests.support.matrix_bot import (
    RunningBot,
    ask,
    bot_sees,
    bot_settings,
    register_bot,
    room_with_bot,
    running_bot,
)
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name

synapse_test = pytest.mark.synapse
AG2 = "Transparenz und Beteiligung"
LINK = re.compile(r"https://matrix\.to/#/(![^?\s)]+)\?via=localhost")


def links(body: str) -> list[str]:
    return [m.replace("%3A", ":") for m in LINK.findall(body)]


def url(room_id: str) -> str:
    return f"https://matrix.to/#/{room_id.replace(':', '%3A')}?via=localhost"


async def state_of(human: MatrixHuman, room_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    resp = await human.client.room_get_state(room_id)
    assert isinstance(resp, nio.RoomGetStateResponse), resp
    return {(e["type"], e["state_key"]): e["content"] for e in resp.events}


async def accept(human: MatrixHuman, room_id: str) -> None:
    await human.wait_for_membership(room_id, human.user_id, "invite")
    await human.join(room_id)
    await human.wait_for_membership(room_id, human.user_id, "join")


async def bot_and_anna(synapse: SynapseServer, tmp_path: Path) -> tuple[MatrixHuman, Any]:
    anna = await MatrixHuman.login(synapse, unique_name("anna"), store_path=tmp_path / "anna")
    await anna.start_sync()
    account = register_bot(synapse)
    settings = bot_settings(tmp_path, synapse, account, admins=(f"matrix:{anna.user_id}",))
    return anna, settings


@synapse_test
async def test_space_and_ag_room_with_restricted_join(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    anna, settings = await bot_and_anna(synapse, tmp_path)
    bob = await MatrixHuman.login(synapse, unique_name("bob"))
    carl = await MatrixHuman.login(synapse, unique_name("carl"))
    try:
        await bob.start_sync()
        async with running_bot(settings) as bot:
            here = await room_with_bot(anna, bot.user_id)
            shown = await ask(anna, here, bot.user_id, "!space")
            assert shown.body == (
                "Das Bündnis hat noch keinen Matrix-Space. Lege einen an mit "
                '!space neu "Bündnis" oder nenne einen, in dem ich bin: '
                "!space #buendnis:example.org."
            )

            made = await ask(anna, here, bot.user_id, '!space neu "Bündnis Revier"')
            (space_id,) = links(made.body)
            assert made.body == (
                f"Ich habe den Space Bündnis Revier ({url(space_id)}) angelegt; neue AG-Räume "
                "lege ich mit !ag room ag2 darin an. Ich habe dich eingeladen."
            )
            await accept(anna, space_id)
            space_state = await state_of(anna, space_id)
            assert space_state[("m.room.create", "")]["type"] == "m.space"

            answer = await ask(anna, here, bot.user_id, "!ag room ag2", contains="angelegt")
            (room_id,) = links(answer.body)
            assert answer.body == (
                f"Der Raum {AG2} ({url(room_id)}) der AG {AG2} (ag2) ist im Space "
                "Bündnis Revier angelegt und mit der AG verbunden."
            )  # no invitation: Anna is in the Space, so the room lets her in by itself
            await anna.join(room_id)
            await anna.wait_for_membership(room_id, anna.user_id, "join")

            room_state = await state_of(anna, room_id)
            space_state = await state_of(anna, space_id)
            assert space_state[("m.space.child", room_id)] == {"via": ["localhost"]}
            assert room_state[("m.space.parent", space_id)] == {
                "via": ["localhost"],
                "canonical": True,
            }
            assert room_state[("m.room.encryption", "")] == {"algorithm": "m.megolm.v1.aes-sha2"}
            assert room_state[("m.room.join_rules", "")] == {
                "join_rule": "restricted",
                "allow": [{"type": "m.room_membership", "room_id": space_id}],
            }
            assert room_state[("m.room.name", "")] == {"name": AG2}
            assert room_state[("m.room.create", "")]["room_version"] == "12"  # Synapse's default

            async with bot.app.services.db.read() as session:
                chats = await repo.chats_of_ag(session, await _ag_id(bot, "ag2"))
            assert [(c.platform, c.external_id) for c in chats] == [("matrix", room_id)]

            # The encrypted room answers commands.
            reply = await ask(anna, room_id, bot.user_id, "!ags", contains=AG2)
            assert reply.event.decrypted

            # A member of the Space joins without an invitation; someone outside cannot.
            await anna.invite(space_id, bob.user_id)
            await accept(bob, space_id)
            await bot_sees(bot.transport, lambda: joined(bot, space_id, bob.user_id))
            room = ChatRef("matrix", room_id, False, AG2)
            bob_account = AccountRef("matrix", bob.user_id, "Bob")
            way = await doors(bot.transport).let_in(room, bob_account, link=None)
            assert way == Way(room, WayKind.OPEN, url(room_id))  # no invitation needed
            await bob.join(room_id)
            await anna.wait_for_membership(room_id, bob.user_id, "join")
            refused = await carl.client.join(room_id)
            assert isinstance(refused, nio.JoinError)
            assert refused.status_code == "M_FORBIDDEN"

            # Set again by alias, and shown.
            alias = f"#{unique_name('buendnis')}:localhost"
            assert isinstance(
                await anna.client.room_put_alias(alias, space_id), nio.RoomPutAliasResponse
            )
            again = await ask(anna, here, bot.user_id, f"!space {alias}")
            assert (
                again.body
                == f"Der Space des Bündnisses ist jetzt Bündnis Revier ({url(space_id)})."
            )
            shown = await ask(anna, here, bot.user_id, "!space", contains="ist Bündnis")
            assert shown.body == f"Der Space des Bündnisses ist Bündnis Revier ({url(space_id)})."
    finally:
        await bob.close()
        await carl.close()
        await anna.close()


def joined(bot: RunningBot, room_id: str, user_id: str) -> bool:
    room = bot.transport.client.rooms.get(room_id)
    return room is not None and user_id in room.users and user_id not in room.invited_users


async def _ag_id(bot: RunningBot, slug: str) -> int:
    (ag,) = [ag for ag in await bot.app.services.ags.all() if ag.slug == slug]
    return ag.id


@synapse_test
async def test_ag_room_in_a_space_where_the_bot_may_not_add_rooms(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    anna, settings = await bot_and_anna(synapse, tmp_path)
    try:
        async with running_bot(settings) as bot:
            here = await room_with_bot(anna, bot.user_id)
            made = await anna.client.room_create(
                name="Fremder Space", space=True, invite=[bot.user_id]
            )
            assert isinstance(made, nio.RoomCreateResponse)
            space_id = made.room_id

            named = await ask(anna, here, bot.user_id, f"!space {space_id}")
            assert (
                named.body == f"Der Space des Bündnisses ist jetzt Fremder Space ({url(space_id)})."
            )

            # The bot lets Anna in by the join rule once its sync shows her in the Space
            # (before that it would invite her, which is right too, but not this test).
            async with asyncio.timeout(20):
                while not joined(bot, space_id, anna.user_id):  # noqa: ASYNC110 (nio's sync)
                    await asyncio.sleep(0.05)
            answer = await ask(anna, here, bot.user_id, "!ag room ag2", contains="angelegt")
            (room_id,) = links(answer.body)
            assert answer.body == (
                f"Der Raum {AG2} ({url(room_id)}) der AG {AG2} (ag2) ist angelegt und mit ihr "
                "verbunden, aber nicht im Space. Mir fehlt in Fremder Space das Recht „Räume "
                "zum Space hinzufügen“. In Element: Space-Einstellungen → Rollen & "
                "Berechtigungen: gib mir eine Rolle, die „Räume verwalten“ darf (z. B. Admin)."
            )  # the room's join rule admits the Space's members: Anna is one
            await anna.join(room_id)
            await anna.wait_for_membership(room_id, anna.user_id, "join")
            room_state = await state_of(anna, room_id)
            assert ("m.space.parent", space_id) in room_state
            assert ("m.space.child", room_id) not in await state_of(anna, space_id)

            async with bot.app.services.db.read() as session:
                space_row = await repo.find_chat(session, "matrix", space_id)
                assert isinstance(space_row, Chat)
                assert await missing_rights(session, [space_row.id]) == {
                    space_row.id: ["space_child"]
                }
    finally:
        await anna.close()


@synapse_test
async def test_ag_room_without_a_space_and_a_room_that_is_no_space(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    anna, settings = await bot_and_anna(synapse, tmp_path)
    try:
        async with running_bot(settings) as bot:
            here = await room_with_bot(anna, bot.user_id)
            not_space = await ask(anna, here, bot.user_id, f"!space {here}")
            assert not_space.body == f"{here} ist ein Raum, kein Space."
            unknown = await ask(anna, here, bot.user_id, "!space #gibtsnicht:localhost")
            assert unknown.body == "Den Space #gibtsnicht:localhost finde ich nicht."
            closed = await anna.client.room_create(name="Geschlossen", space=True)
            assert isinstance(closed, nio.RoomCreateResponse)
            shut_out = await ask(anna, here, bot.user_id, f"!space {closed.room_id}")
            assert shut_out.body == (
                f"In den Space {closed.room_id} komme ich nicht hinein: lade mich erst ein."
            )

            answer = await ask(anna, here, bot.user_id, "!ag room ag2", contains="angelegt")
            (room_id,) = links(answer.body)
            assert answer.body == (
                f"Der Raum {AG2} ({url(room_id)}) der AG {AG2} (ag2) ist angelegt und mit ihr "
                "verbunden. Er gehört zu keinem Space: lege mit !space einen fest, dann kommen "
                "neue AG-Räume hinein. Ich habe dich eingeladen."
            )
            await accept(anna, room_id)
            state = await state_of(anna, room_id)
            assert state[("m.room.join_rules", "")] == {"join_rule": "invite"}
            assert state[("m.room.encryption", "")] == {"algorithm": "m.megolm.v1.aes-sha2"}
            assert not [key for key in state if key[0] == "m.space.parent"]

            # The bot created the room (room v12: as its creator it stands above every
            # power level, though not listed in m.room.power_levels): it may kick (level 50).
            bob = await MatrixHuman.login(synapse, unique_name("bob"))
            try:
                await bob.start_sync()
                room = ChatRef("matrix", room_id, False, AG2)
                bob_account = AccountRef("matrix", bob.user_id, "Bob")
                way = await doors(bot.transport).let_in(room, bob_account, link=None)
                assert way.kind is WayKind.INVITED
                await accept(bob, room_id)
                await anna.wait_for_membership(room_id, bob.user_id, "join")
                await bot_sees(bot.transport, lambda: joined(bot, room_id, bob.user_id))
                assert await doors(bot.transport).remove_member(room, bob_account) is True
                await anna.wait_for_membership(room_id, bob.user_id, "leave")
            finally:
                await bob.close()
    finally:
        await anna.close()


@synapse_test
async def test_a_public_room_named_as_space_is_left_again(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    """`!space` with a public room that is no Space: the bot joined only to look, so it
    leaves again rather than staying in a stranger's room (and answering there)."""
    anna, settings = await bot_and_anna(synapse, tmp_path)
    try:
        async with running_bot(settings) as bot:
            here = await room_with_bot(anna, bot.user_id)
            public = await anna.client.room_create(
                name="Öffentlich", preset=nio.RoomPreset.public_chat
            )
            assert isinstance(public, nio.RoomCreateResponse)
            answer = await ask(anna, here, bot.user_id, f"!space {public.room_id}")
            assert answer.body == f"{public.room_id} ist ein Raum, kein Space."
            await anna.wait_for_membership(public.room_id, bot.user_id, "leave")
    finally:
        await anna.close()
