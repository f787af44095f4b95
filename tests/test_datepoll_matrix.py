"""A Terminumfrage on Matrix, against a real Synapse: the summary in the AG's room carries
the keycaps 1️⃣ 2️⃣ as the bot's own reactions; a reaction 1️⃣ counts as "ja" to date 1,
a typed `!termin` answer merges with it, and the summary is edited in place (an
`m.replace` that another client sees): at once, then once at the end of the interval.
The first test needs no homeserver."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core import Button
from bot.rich import text
from bot.transports.matrix.edit import replace_content
from bot.transports.matrix.media import BUTTONS_KEY, buttons_notice_content, reaction_content
from handlers.datepoll.live import EDIT_EVERY
from tests.support.matrix_bot import (
    ask,
    human_and_bot_account,
    room_with_bot,
    running_bot,
    wait_joined,
)
from tests.support.meetings import Clock
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name

synapse_test = pytest.mark.synapse

DATES = "Di 1.12. 19 Uhr; Mi 2.12. 18:30"  # the clock: Sat 28.11.2026


def test_an_edit_carries_the_new_content_and_pings_nobody() -> None:
    keycaps = (Button("1️⃣", "dp:k3f7:1:y", "1️⃣"), Button("2️⃣", "dp:k3f7:2:y", "2️⃣"))
    new = buttons_notice_content(text("ja 1"), keycaps)
    assert new["body"] == "ja 1"  # keycaps labelled with themselves: no legend line
    content = replace_content("$summary", new)
    assert content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$summary"}
    assert content["body"] == "* ja 1"
    assert content["formatted_body"] == "* ja 1"
    assert content["m.mentions"] == {}
    assert content["m.new_content"]["body"] == "ja 1"
    assert content["m.new_content"][BUTTONS_KEY][0] == {"emoji": "1️⃣", "data": "dp:k3f7:1:y"}
    assert BUTTONS_KEY not in content


def edit_of(room_id: str, event_id: str, contains: str) -> Callable[[SeenEvent], bool]:
    def match(seen: SeenEvent) -> bool:
        relates = seen.content.get("m.relates_to") or {}
        new = seen.content.get("m.new_content") or {}
        return (
            seen.room_id == room_id
            and relates.get("rel_type") == "m.replace"
            and relates.get("event_id") == event_id
            and contains in str(new.get("body", ""))
        )

    match.__name__ = f"an edit of {event_id} containing {contains!r}"
    return match


@synapse_test
async def test_reactions_and_text_answers_and_the_edited_summary(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    async with human_and_bot_account(synapse, tmp_path) as (anna, settings):
        ben = await MatrixHuman.login(synapse, unique_name("ben"))
        try:
            await ben.start_sync()
            async with running_bot(settings) as bot:
                clock = Clock()
                bot.app.services.clock = clock
                room = await room_with_bot(anna, bot.user_id, invite=(ben.user_id,))
                await ben.join(room)
                await wait_joined(anna, room, ben.user_id)
                await ask(anna, room, bot.user_id, "!link ag2", contains="AG")
                await ask(anna, room, bot.user_id, "!join ag2")
                summary = await ask(
                    anna,
                    room,
                    bot.user_id,
                    f'!terminumfrage ag2 "Plenum" {DATES}',
                    contains="Mit einer Reaktion 1️⃣…2️⃣",
                )
                sid = summary.body.split()[2].rstrip(":")
                assert summary.body.endswith(
                    f"„wenn nötig“ und „nein“ per Befehl, z. B. !termin {sid} 2 wenn nötig"
                )
                assert summary.event_id is not None
                ours = [
                    e.content["m.relates_to"]["key"]
                    for e in await _reactions(anna, room, bot.user_id, summary.event_id, 2)
                ]
                assert ours == ["1️⃣", "2️⃣"]

                # A reaction 1️⃣ is "ja" to date 1: the summary is edited at once.
                mark = ben.mark()
                await anna.send_event(room, "m.reaction", reaction_content(summary.event_id, "1️⃣"))
                first = await ben.wait_for(
                    edit_of(room, summary.event_id, "1. Di 01.12. 19:00–20:00 – ja 1 ·")
                )
                assert first.sender == bot.user_id
                assert first.body.startswith("* 📅 Terminumfrage")

                # A typed answer merges with it; its edit waits for the interval's end.
                said = await ask(
                    anna, room, bot.user_id, f"!termin {sid} 2 wenn nötig", contains="Gespeichert"
                )
                assert said.body.split("\n")[1:3] == [
                    "1. Di 01.12. 19:00–20:00: ja",
                    "2. Mi 02.12. 18:30–19:30: wenn nötig",
                ]
                await asyncio.sleep(0.5)
                waiting = edit_of(room, summary.event_id, "wenn nötig 1")
                assert not [e for e in ben.events[mark:] if waiting(e)], "edited too soon"
                clock.advance(EDIT_EVERY.total_seconds())
                second = await ben.wait_for(
                    edit_of(room, summary.event_id, "wenn nötig 1"), since=mark
                )
                assert second.content["m.new_content"]["body"].split("\n")[1:3] == [
                    "1. Di 01.12. 19:00–20:00 – ja 1 · wenn nötig 0 · nein 0 · offen 0",
                    "2. Mi 02.12. 18:30–19:30 – ja 0 · wenn nötig 1 · nein 0 · offen 0",
                ]
        finally:
            await ben.close()


async def _reactions(
    human: MatrixHuman, room: str, sender: str, event_id: str, count: int
) -> list[SeenEvent]:
    def found() -> list[SeenEvent]:
        return [
            e
            for e in human.events
            if e.room_id == room
            and e.sender == sender
            and e.type == "m.reaction"
            and (e.content.get("m.relates_to") or {}).get("event_id") == event_id
        ]

    await human.wait_for(lambda _seen: len(found()) >= count)
    return found()
