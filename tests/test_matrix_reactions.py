"""Buttons on Matrix are reactions: the bot reacts under its own notice, a person taps one.

The whole App runs against a real Synapse with a button handler of the test's own; the
restart test shows a reaction to a message from before the restart is still understood
(the button data is read back from the bot's own, encrypted, event).
The first tests need no homeserver.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_registry
from bot.commands import Registry
from bot.context import Context
from bot.core import Button, ChatRef
from bot.rich import text
from bot.transports.matrix.media import (
    BUTTONS_KEY,
    button_for,
    buttons_in,
    buttons_notice_content,
    reaction_content,
)
from tests.support.matrix_bot import (
    bot_knows,
    bot_settings,
    register_bot,
    room_with_bot,
    running_bot,
)
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name

synapse_test = pytest.mark.synapse

BUTTONS = (
    Button("Ja", "rsvp:m1:yes", "✅"),
    Button("Nein", "rsvp:m1:no", "❌"),
    Button("❓ Vielleicht", "rsvp:m1:maybe", "❓"),
    Button("Liste", "rsvp:m1:list"),  # no emoji: not offered as a reaction
)
QUESTION = "Treffen am Donnerstag, 18:00 Uhr – kommst du?"


# --- without a homeserver ------------------------------------------------------------------


def test_button_notice_carries_legend_and_data() -> None:
    content = buttons_notice_content(text(QUESTION), BUTTONS)
    assert content["msgtype"] == "m.notice"
    assert content["body"] == QUESTION + "\n✅ Ja · ❌ Nein · ❓ Vielleicht"
    assert content[BUTTONS_KEY] == [
        {"emoji": "✅", "data": "rsvp:m1:yes"},
        {"emoji": "❌", "data": "rsvp:m1:no"},
        {"emoji": "❓", "data": "rsvp:m1:maybe"},
    ]
    offered = buttons_in(content)
    thumbs = buttons_notice_content(text("?"), (Button("Gut", "x:1", "👍"),))
    assert button_for(buttons_in(thumbs), "👍\ufe0f") is not None  # as Element sends it
    assert button_for(offered, "👍") is None
    assert buttons_in({"body": "x", BUTTONS_KEY: "nope"}) == []
    assert reaction_content("$e", "✅") == {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": "$e", "key": "✅"}
    }


# --- against Synapse -------------------------------------------------------------------------


def with_rsvp_handler(presses: asyncio.Queue[tuple[str, str]]) -> Registry:
    """The real commands plus a test handler for `rsvp:` buttons."""
    registry = Registry(dict(build_registry().commands))

    @registry.button("rsvp")
    async def rsvp(ctx: Context, data: str) -> str | None:
        await presses.put((ctx.message.sender.id, data))
        return "Danke!"  # a toast: Matrix drops it rather than flood the room

    return registry


def reactions_by(room_id: str, sender: str, event_id: str) -> Callable[[SeenEvent], bool]:
    def match(seen: SeenEvent) -> bool:
        relates = seen.content.get("m.relates_to") or {}
        return (
            seen.room_id == room_id
            and seen.sender == sender
            and seen.type == "m.reaction"
            and relates.get("event_id") == event_id
        )

    return match


async def react(human: MatrixHuman, room_id: str, event_id: str, key: str) -> None:
    await human.send_event(room_id, "m.reaction", reaction_content(event_id, key))


async def no_more(presses: asyncio.Queue[Any]) -> None:
    await asyncio.sleep(0.3)
    assert presses.empty(), presses.get_nowait()


@synapse_test
async def test_reactions_are_button_presses(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    presses: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    settings = bot_settings(tmp_path, synapse, account)
    try:
        await human.start_sync()
        async with running_bot(settings, registry=with_rsvp_handler(presses)) as bot:
            room_id = await room_with_bot(human, bot.user_id)
            await bot_knows(bot.transport, room_id)
            chat = ChatRef("matrix", room_id)
            sent = await bot.transport.send_with_buttons(chat, text(QUESTION), BUTTONS, key="r1")
            assert sent.message_id is not None
            notice = await human.wait_for_notice(room_id, bot.user_id, contains=QUESTION)
            assert notice.event_id == sent.message_id
            assert notice.body.endswith("\n✅ Ja · ❌ Nein · ❓ Vielleicht")

            is_ours = reactions_by(room_id, bot.user_id, sent.message_id)
            await human.wait_for(lambda s: len([e for e in human.events if is_ours(e)]) == 3)
            keys = [e.content["m.relates_to"]["key"] for e in human.events if is_ours(e)]
            assert keys == ["✅", "❌", "❓"]

            await react(human, room_id, sent.message_id, "✅")  # tapping the bot's reaction
            assert await asyncio.wait_for(presses.get(), 10) == (human.user_id, "rsvp:m1:yes")
            await react(human, room_id, sent.message_id, "❓\ufe0f")  # with a variation selector
            assert await asyncio.wait_for(presses.get(), 10) == (human.user_id, "rsvp:m1:maybe")

            await react(human, room_id, sent.message_id, "👍")  # no button: ignored
            other = await human.send_text(room_id, "kein Bot-Text")
            await react(human, room_id, other, "✅")  # not a button message: ignored
            # Reactions to one message are taken in order: had 👍 counted, it came first.
            await react(human, room_id, sent.message_id, "❌")
            assert await asyncio.wait_for(presses.get(), 10) == (human.user_id, "rsvp:m1:no")
            await no_more(presses)

            # A retried send with the same key changes nothing: same event, no new reactions.
            again = await bot.transport.send_with_buttons(chat, text(QUESTION), BUTTONS, key="r1")
            assert again.message_id == sent.message_id
            mark = human.mark()
            await bot.transport.send(chat, text("Marke"), key="marker")
            await human.wait_for_notice(room_id, bot.user_id, contains="Marke", since=mark)
            assert len([e for e in human.events if is_ours(e)]) == 3
    finally:
        await human.close()


@synapse_test
async def test_reactions_after_a_restart_in_an_encrypted_room(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"), store_path=tmp_path / "human")
    presses: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    settings = bot_settings(tmp_path, synapse, account)
    registry = with_rsvp_handler(presses)
    try:
        await human.start_sync()
        async with running_bot(settings, registry=registry) as bot:
            room_id = await room_with_bot(human, bot.user_id, encrypted=True)
            await bot_knows(bot.transport, room_id)
            chat = ChatRef("matrix", room_id)
            sent = await bot.transport.send_with_buttons(chat, text(QUESTION), BUTTONS, key="r2")
            assert sent.message_id is not None
            notice = await human.wait_for_notice(room_id, bot.user_id, contains=QUESTION)
            assert notice.event.decrypted
            await react(human, room_id, sent.message_id, "✅")
            assert await asyncio.wait_for(presses.get(), 10) == (human.user_id, "rsvp:m1:yes")

        async with running_bot(settings, registry=registry) as bot:
            # A new process knows nothing of the message; it reads its own event back.
            await react(human, room_id, sent.message_id, "❌")
            assert await asyncio.wait_for(presses.get(), 10) == (human.user_id, "rsvp:m1:no")
            await no_more(presses)
    finally:
        await human.close()
