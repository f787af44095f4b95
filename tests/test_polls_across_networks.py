"""Polls and reminders across networks: the whole bot with BOTH transports in one App.

Telegram runs through python-telegram-bot against the fake Bot API; Matrix through nio
against the real local Synapse, with nio clients as people. AG 2 has a Telegram group and
a Matrix room linked, so one poll lives on both networks and one result merges them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.transports.matrix.polls import (
    KIND_DISCLOSED,
    POLL_END,
    POLL_RESPONSE,
    POLL_START,
    TEXT,
)
from tests.support.both_networks import (
    BothNetworks,
    events_of,
    group_room,
    of_type,
    running_both,
)
from tests.support.matrix_bot import ask, bot_settings, notices_from, register_bot
from tests.support.meetings import remind_in
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name
from tests.support.telegram_api import (
    BotApi,
    Json,
    group,
    message,
    poll_answer,
    private_chat,
    update,
    user,
)

pytestmark = pytest.mark.synapse

AG2 = "Transparenz und Beteiligung"
ADMIN = user(111, "Ada", username="ada_admin")
ANNA = user(222, "Anna", last_name="Berg", username="anna_b")
BEN = user(333, "Ben", username="ben_k")
GROUP = group(-4001, "AG 2 Transparenz")


def response(start_id: str, answers: list[str]) -> dict[str, Any]:
    """A poll response as Element sends it."""
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_id},
        POLL_RESPONSE: {"answers": answers},
    }


async def say(bot: BothNetworks, chat: Json, sender: Json, words: str) -> list[str]:
    """A Telegram message; the HTML of every Telegram message it caused."""
    before = len(bot.api.delivered())
    await bot.feed(update(message(chat, sender, words)))
    return [params["text"] for params in bot.api.delivered()[before:]]


def short_id_in(reply: str) -> str:
    found = re.search(r"Umfrage <code>(\w+)</code> läuft", reply)
    assert found, reply
    return found[1]


class People:
    """The Matrix side of AG 2: an admin who owns the room, two members."""

    def __init__(self, ada: MatrixHuman, mara: MatrixHuman, moritz: MatrixHuman) -> None:
        self.ada, self.mara, self.moritz = ada, mara, moritz

    @classmethod
    async def login(cls, server: SynapseServer) -> People:
        humans = [
            await MatrixHuman.login(server, unique_name(name)) for name in ("ada", "mara", "moritz")
        ]
        for human in humans:
            await human.start_sync()
        return cls(*humans)

    async def close(self) -> None:
        for human in (self.ada, self.mara, self.moritz):
            await human.close()


@pytest.fixture
async def people(synapse: SynapseServer) -> AsyncIterator[People]:
    found = await People.login(synapse)
    try:
        yield found
    finally:
        await found.close()


def settings_for(tmp_path: Path, synapse: SynapseServer, people: People) -> Settings:
    """A fresh bot account; both admins as the settings name them (`network:id`)."""
    account = register_bot(synapse)
    return bot_settings(
        tmp_path, synapse, account, admins=("telegram:111", f"matrix:{people.ada.user_id}")
    )


async def link_both(bot: BothNetworks, people: People) -> str:
    """The Telegram group and a Matrix room linked to AG 2 by the admin (on each network
    as the account the settings name); Mara and Moritz join in the room. The room id."""
    [linked] = await say(bot, GROUP, ADMIN, "/link ag2")
    assert "gehört jetzt zur AG" in linked
    room_id = await group_room(people.ada, bot, people.mara, people.moritz)
    await ask(people.ada, room_id, bot.matrix_id, "!link ag2", contains=AG2)
    for member in (people.mara, people.moritz):
        joined = await ask(member, room_id, bot.matrix_id, "!join ag2", contains="Willkommen")
        assert AG2 in joined.body
    return room_id


async def test_one_poll_on_both_networks_one_merged_result(
    synapse: SynapseServer, tmp_path: Path, people: People
) -> None:
    api = BotApi()
    api.remember(GROUP)
    settings = settings_for(tmp_path, synapse, people)
    mara, moritz = people.mara, people.moritz
    async with running_both(settings, api) as bot:
        room_id = await link_both(bot, people)
        for person in (ANNA, BEN):
            [joined] = await say(bot, private_chat(person), person, "/join ag2")
            assert "Willkommen in der AG" in joined
        [lead] = await say(bot, GROUP, ADMIN, "/lead ag2 @anna_b")
        assert "leitet jetzt die AG" in lead

        # The lead starts the poll in the Telegram group: it runs in both chats.
        mark = mara.mark()
        [report] = await say(bot, GROUP, ANNA, '/poll "Wann?" "Di" "Mi" "Do"')
        assert "läuft in 2 Chats" in report
        assert "(Telegram)" in report and "(Matrix)" in report
        short_id = short_id_in(report)

        [send_poll] = api.calls_to("sendPoll")
        assert send_poll.params == {
            "chat_id": GROUP["id"],
            "question": "Wann?",
            "options": [{"text": "Di"}, {"text": "Mi"}, {"text": "Do"}],
            "is_anonymous": False,
            "allows_multiple_answers": False,
            "allows_revoting": True,
        }
        [(poll_message_id, tg_poll)] = [
            (mid, m["poll"])
            for (cid, mid), m in api.messages.items()
            if cid == GROUP["id"] and "poll" in m
        ]

        start = await mara.wait_for(of_type(room_id, bot.matrix_id, POLL_START), since=mark)
        start_id = start.event_id
        assert start_id is not None
        poll = start.content[POLL_START]
        assert poll["kind"] == KIND_DISCLOSED
        assert poll["max_selections"] == 1
        assert poll["question"][TEXT] == "Wann?"
        assert poll["answers"] == [
            {"id": "1", TEXT: "Di"},
            {"id": "2", TEXT: "Mi"},
            {"id": "3", TEXT: "Do"},
        ]
        # Clients without polls show the fallback: the numbered options and `!vote`.
        fallback = start.content[TEXT]
        assert "1. Di\n2. Mi\n3. Do" in fallback and f"!vote {short_id} 1" in fallback

        # Ben votes on Telegram (poll_answer), Mara in Element, Moritz with `!vote`.
        await bot.feed(*api.vote(tg_poll["id"], BEN, [0]))
        await bot.wait_counts(short_id, [1, 0, 0])
        await mara.send_event(room_id, POLL_RESPONSE, response(start_id, ["2"]))
        await bot.wait_counts(short_id, [1, 1, 0])
        voted = await ask(moritz, room_id, bot.matrix_id, f"!vote {short_id} 3", contains="Stimme")
        assert voted.body == "Danke! Deine Stimme zählt: „Do“"
        await bot.wait_counts(short_id, [1, 1, 1])
        # Mara changes her mind: her second response replaces the first.
        await mara.send_event(room_id, POLL_RESPONSE, response(start_id, ["1"]))
        tally = await bot.wait_counts(short_id, [2, 0, 1])
        assert tally.voters_by_network == {"telegram": 1, "matrix": 2}

        result = await ask(
            moritz, room_id, bot.matrix_id, f"!results {short_id}", contains="Zwischenstand"
        )
        assert result.body.splitlines() == [
            f"Zwischenstand: Wann? ({short_id})",
            "1. Di – 2 (67 %) ███████",
            "2. Mi – 0 (0 %)",
            "3. Do – 1 (33 %) ███",
            "3 Stimmen: Matrix 2 · Telegram 1",
            f"1 Mitglied der AG hat noch nicht abgestimmt (Namen: !results {short_id} im privaten Chat).",
        ]

        def image(seen: SeenEvent) -> bool:
            return (
                seen.room_id == room_id
                and seen.sender == bot.matrix_id
                and seen.msgtype == "m.image"
            )

        chart = await moritz.wait_for(image, since=result.index)  # the result as a PNG too
        assert chart.body == f"umfrage-{short_id}.png"

        # The lead closes it in the Telegram group: ended on both networks, result once each.
        await mara.wait_for(lambda seen: seen.event_id == chart.event_id)
        mark = mara.mark()
        tg_before = len(api.calls)
        [tg_final] = await say(bot, GROUP, ANNA, f"/close {short_id}")
        assert api.delivered()[-1]["chat_id"] == GROUP["id"]
        assert tg_final.startswith(f"Endergebnis: <b>Wann?</b> (<code>{short_id}</code>)")
        assert "3 Stimmen: Matrix 2 · Telegram 1" in tg_final
        [stop] = api.calls_to("stopPoll")
        assert stop.params == {"chat_id": GROUP["id"], "message_id": poll_message_id}
        assert api.polls[tg_poll["id"]]["is_closed"] is True

        end = await mara.wait_for(of_type(room_id, bot.matrix_id, POLL_END), since=mark)
        assert end.content["m.relates_to"] == {"rel_type": "m.reference", "event_id": start_id}
        assert end.content[TEXT].startswith(f"Endergebnis: Wann? ({short_id})")
        final = await mara.wait_for_notice(
            room_id, bot.matrix_id, contains="Endergebnis", since=mark
        )
        assert final.body.splitlines()[1:5] == [
            "1. Di – 2 (67 %) ███████",
            "2. Mi – 0 (0 %)",
            "3. Do – 1 (33 %) ███",
            "3 Stimmen: Matrix 2 · Telegram 1",
        ]

        # Answers arriving after the close count on neither network: a Telegram vote still
        # in flight, a response in Element.
        await bot.feed(update(poll_answer(tg_poll, ANNA, [2]), "poll_answer"))
        await mara.send_event(room_id, POLL_RESPONSE, response(start_id, ["3"]))
        await asyncio.sleep(1.0)  # time for that vote, and for a second copy of anything
        assert (await bot.tally(short_id)).counts == [2, 0, 1]

        finals = [
            e for e in notices_from(mara, room_id, bot.matrix_id, mark) if "Endergebnis" in e.body
        ]
        assert len(finals) == 1
        assert len(events_of(mara, room_id, bot.matrix_id, POLL_END, mark)) == 1
        charts = events_of(mara, room_id, bot.matrix_id, "m.room.message", mark)
        assert [e.msgtype for e in charts].count("m.image") == 1
        tg_after = api.calls[tg_before:]
        assert [c.method for c in tg_after if c.method in ("sendMessage", "sendPhoto")] == [
            "sendMessage",
            "sendPhoto",
        ], "the final result and its chart, once each"


async def test_votes_cast_while_the_bot_is_down_count_after_the_restart(
    synapse: SynapseServer, tmp_path: Path, people: People
) -> None:
    api = BotApi()
    api.remember(GROUP)
    settings = settings_for(tmp_path, synapse, people)
    mara, moritz = people.mara, people.moritz
    async with running_both(settings, api) as bot:
        room_id = await link_both(bot, people)
        [joined] = await say(bot, private_chat(BEN), BEN, "/join ag2")
        assert "Willkommen in der AG" in joined
        started = await ask(
            people.ada,
            room_id,
            bot.matrix_id,
            '!poll "Wo?" "Büro" "Café" "Online"',
            contains="Umfrage",
        )
        short_id = started.body.split()[1]
        start = await mara.wait_for(of_type(room_id, bot.matrix_id, POLL_START))
        start_id = start.event_id
        assert start_id is not None
        [tg_poll] = list(api.polls.values())
        await mara.send_event(room_id, POLL_RESPONSE, response(start_id, ["2"]))
        await bot.wait_counts(short_id, [0, 1, 0])

    # The bot is down: Mara changes her vote, Moritz votes twice, Ben votes on Telegram
    # (Telegram keeps the update until the bot asks again).
    await mara.send_event(room_id, POLL_RESPONSE, response(start_id, ["1"]))
    await moritz.send_event(room_id, POLL_RESPONSE, response(start_id, ["2"]))
    await moritz.send_event(room_id, POLL_RESPONSE, response(start_id, ["3"]))
    [ben_vote, _totals] = api.vote(tg_poll["id"], BEN, [0])
    await api.push(ben_vote)
    mark = mara.mark()

    async with running_both(settings, api) as bot:
        # Matrix: read from the poll's relations at start; Telegram: the pending update.
        await api.wait_fetched(ben_vote["update_id"])
        await bot.telegram.application.update_queue.join()
        await bot.app.dispatcher.drain()
        tally = await bot.wait_counts(short_id, [2, 0, 1])
        assert tally.voters_by_network == {"telegram": 1, "matrix": 2}

        result = await ask(
            moritz, room_id, bot.matrix_id, f"!results {short_id}", contains="Zwischenstand"
        )
        assert result.body.splitlines()[1:5] == [
            "1. Büro – 2 (67 %) ███████",
            "2. Café – 0 (0 %)",
            "3. Online – 1 (33 %) ███",
            "3 Stimmen: Matrix 2 · Telegram 1",
        ]
        # The restart posted the poll nowhere again.
        assert len(api.calls_to("sendPoll")) == 1
        assert events_of(mara, room_id, bot.matrix_id, POLL_START, mark) == []


async def test_a_reminder_reaches_both_networks_once(
    synapse: SynapseServer, tmp_path: Path, people: People
) -> None:
    api = BotApi()
    api.remember(GROUP)
    settings = settings_for(tmp_path, synapse, people)
    mara = people.mara
    async with running_both(settings, api) as bot:
        room_id = await link_both(bot, people)
        [planned] = await say(bot, GROUP, ADMIN, "/meeting in 2 Minuten Probe-Treffen")
        found = re.search(r"Kennung: <code>m(\d+)</code>", planned)
        assert found, planned
        mark = mara.mark()
        tg_before = len(api.calls)
        await remind_in(bot.app, int(found[1]), 2.0)

        seen = await mara.wait_for_notice(
            room_id, bot.matrix_id, timeout=15, contains="Erinnerung", since=mark
        )
        heading = f"⏰ Erinnerung: Probe-Treffen – AG {AG2}"
        assert seen.body.splitlines()[0] == heading
        assert "Noch hat niemand zugesagt." in seen.body.splitlines()

        def telegram_reminders() -> list[Json]:
            return [
                call.params
                for call in api.calls[tg_before:]
                if call.method == "sendMessage"
                and call.status == 200
                and call.params["chat_id"] == GROUP["id"]
                and "Erinnerung" in call.params["text"]
            ]

        for _ in range(50):
            if telegram_reminders():
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # time for the reactions, and for any second copy

        [sent] = telegram_reminders()
        shown = re.sub(r"<[^>]+>", "", sent["text"])
        assert shown.splitlines()[0] == heading
        assert "Noch hat niemand zugesagt." in shown.splitlines()
        occurrence = found[1]
        assert sent["reply_markup"] == {
            "inline_keyboard": [
                [
                    {"text": "✅ Ich komme", "callback_data": f"rsvp:{occurrence}:yes"},
                    {"text": "❌ Ich kann nicht", "callback_data": f"rsvp:{occurrence}:no"},
                    {"text": "❓ Vielleicht", "callback_data": f"rsvp:{occurrence}:maybe"},
                ]
            ]
        }

        reminders = [
            e for e in notices_from(mara, room_id, bot.matrix_id, mark) if "Erinnerung" in e.body
        ]
        assert len(reminders) == 1
        reactions = sorted(
            e.content["m.relates_to"]["key"]
            for e in events_of(mara, room_id, bot.matrix_id, "m.reaction", mark)
            if e.content.get("m.relates_to", {}).get("event_id") == seen.event_id
        )
        assert reactions == sorted(["✅", "❌", "❓"])
