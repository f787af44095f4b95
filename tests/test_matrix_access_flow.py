"""The whole way in and out on a real Synapse, as a member lives it: an admin makes the
AG's room with `!ag room ag2`; a member types `!join ag2` in their private room with the
bot and is invited to the AG's room; with `!ag leave ag2 entfernen` set, `!leave ag2`
takes them out of it again. Parts of the seam are tested one by one elsewhere
(tests/test_matrix_doors.py, tests/test_access_gate.py); this is the chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.matrix_bot import ask, room_with_bot, running_bot
from tests.support.synapse import MatrixHuman, SynapseServer
from tests.support.synapse_fixtures import unique_name
from tests.test_matrix_space import AG2, accept, bot_and_anna, links

synapse_test = pytest.mark.synapse


@synapse_test
async def test_join_invites_to_the_ag_room_and_leave_removes_where_the_ag_wants_it(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    anna, settings = await bot_and_anna(synapse, tmp_path)
    bob = await MatrixHuman.login(synapse, unique_name("bob"), store_path=tmp_path / "bob")
    try:
        await bob.start_sync()
        async with running_bot(settings) as bot:
            admin_room = await room_with_bot(anna, bot.user_id)
            made = await ask(anna, admin_room, bot.user_id, "!ag room ag2", contains="angelegt")
            (ag_room,) = links(made.body)
            await accept(anna, ag_room)

            bobs_room = await room_with_bot(bob, bot.user_id, name="Bob und Bot")
            joined = await ask(bob, bobs_room, bot.user_id, "!join ag2", contains="eingeladen")
            assert joined.body.endswith(
                f"So kommst du in die Chats der AG {AG2} (ag2):\n"
                f"• {AG2}: Du bist eingeladen, nimm die Einladung an."
            )
            await accept(bob, ag_room)

            again = await ask(bob, bobs_room, bot.user_id, "!chats ag2")
            assert (
                again.body
                == f"In alle Chats der AG {AG2} (ag2), die ich kenne, bist du schon drin."
            )

            await ask(anna, admin_room, bot.user_id, "!ag leave ag2 entfernen")
            left = await ask(bob, bobs_room, bot.user_id, "!leave ag2", contains="entfernt")
            assert f"Aus ihren Chats habe ich dich entfernt: {AG2}." in left.body
            await anna.wait_for_membership(ag_room, bob.user_id, "leave")
    finally:
        await bob.close()
        await anna.close()
