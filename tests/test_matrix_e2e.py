"""The bot on Matrix, end to end: a real Synapse, real nio clients as people, the whole App.

The shared session Synapse serves the tests that change nothing about the server; restarts
and default rate limits get a homeserver of their own, so no other test is disturbed.
The text handling the transport does on its own is tested without a homeserver in
tests/test_matrix_text.py.
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import DirectMessageUnavailable
from bot.rich import AccountRef, text
from bot.transports.matrix.session import CREDENTIALS_FILE
from tests.support.matrix_bot import (
    ROUND_TRIPS,
    ask,
    bot_settings,
    notices_from,
    register_bot,
    room_with_bot,
    running_bot,
    wait_joined,
)
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name

synapse_test = pytest.mark.synapse
AG2 = "Transparenz und Beteiligung"


@pytest.fixture(scope="module", autouse=True)
def report_round_trips() -> Iterator[None]:
    """`BUENDNISBOT_TIMINGS=1 pytest -s ...` prints the measured round trips."""
    yield
    if os.environ.get("BUENDNISBOT_TIMINGS") and ROUND_TRIPS:
        times = sorted(t for _, t in ROUND_TRIPS)
        print(f"\nround trips: n={len(times)} median={times[len(times) // 2] * 1000:.0f} ms")
        for what, seconds in ROUND_TRIPS:
            print(f"  {seconds * 1000:7.0f} ms  {what}")


# --- against Synapse -------------------------------------------------------------------------


@synapse_test
async def test_invite_is_accepted(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    try:
        await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, account)) as bot:
            room_id = await human.create_room("vorher")
            mark = human.mark()
            await human.send_text(room_id, "!ags")  # history the bot sees when it joins

            started = time.monotonic()
            await human.invite(room_id, bot.user_id)
            await wait_joined(human, room_id, bot.user_id)
            ROUND_TRIPS.append(("invite -> join", time.monotonic() - started))
            assert not human.client.rooms[room_id].users[bot.user_id].invited

            # Commands from before the bot joined stay unanswered; new ones are answered.
            await ask(human, room_id, bot.user_id, "!my")
            assert len(notices_from(human, room_id, bot.user_id, since=mark)) == 1
    finally:
        await human.close()


@synapse_test
async def test_join_with_bang_and_slash(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    try:
        await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, account)) as bot:
            room_id = await room_with_bot(human, bot.user_id)

            seen = await ask(human, room_id, bot.user_id, "!join ag2", contains=AG2)
            assert seen.content["format"] == "org.matrix.custom.html"
            assert f"<b>{AG2}</b>" in seen.content["formatted_body"]
            assert "<b>" not in seen.body  # the plain body is plain

            again = await ask(human, room_id, bot.user_id, "/join ag2", contains=AG2)
            assert again.body != seen.body  # the second join was understood as one
            assert f"<b>{AG2}</b>" in again.content["formatted_body"]
    finally:
        await human.close()


@synapse_test
async def test_direct_messages(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    # The bot's private rooms are encrypted: Anna needs a client that can read them.
    human = await MatrixHuman.login(synapse, unique_name("anna"), store_path=tmp_path / "human")
    try:
        await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, account)) as bot:
            anna = AccountRef("matrix", human.user_id, "Anna")
            sent = await bot.transport.send_direct(anna, text("Hallo Anna"), key="dm:1")
            assert sent.chat.is_direct
            room_id = sent.chat.id
            await human.wait_for_membership(room_id, human.user_id, "invite")
            await human.join(room_id)
            hello = await human.wait_for_notice(room_id, bot.user_id, contains="Hallo Anna")
            assert hello.room_id == room_id

            # The same chat next time, and a command there counts as a private chat.
            again = await bot.transport.send_direct(anna, text("Noch was"), key="dm:2")
            assert again.chat.id == room_id
            # `link` is for groups only: the refusal shows the chat was taken as private.
            await ask(human, room_id, bot.user_id, "!link ag2", contains="Gruppe")

            with pytest.raises(DirectMessageUnavailable):
                ghost = AccountRef("matrix", "@nobody-here:localhost", "Niemand")
                await bot.transport.send_direct(ghost, text("?"), key="dm:3")
    finally:
        await human.close()


@synapse_test
async def test_encrypted_room(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"), store_path=tmp_path / "human")
    try:
        await human.start_sync()
        async with running_bot(bot_settings(tmp_path, synapse, account)) as bot:
            room_id = await room_with_bot(human, bot.user_id, encrypted=True)
            seen = await ask(human, room_id, bot.user_id, "!ags", contains=AG2)
            assert seen.event.decrypted  # it came encrypted and the human could read it
            # A private room: a notice that mentions nobody carries no `m.mentions`.
            assert "m.mentions" not in seen.source["content"]
    finally:
        await human.close()


@synapse_test
async def test_restart_answers_only_new_messages(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    settings = bot_settings(tmp_path, synapse, account)
    try:
        await human.start_sync()
        async with running_bot(settings) as bot:
            room_id = await room_with_bot(human, bot.user_id)
            first = await ask(human, room_id, bot.user_id, "!my")
            device_id = bot.transport.client.device_id
            devices_before = {d.id for d in (await bot.transport.client.devices()).devices}
        assert device_id == settings.matrix.device_id  # type: ignore[union-attr]

        credentials = settings.matrix.store_path / CREDENTIALS_FILE  # type: ignore[union-attr]
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        assert account.password not in credentials.read_text()

        mark = human.mark()
        # While the bot is down: answered at the next start (the sync position kept in
        # the database; younger than 5 minutes), once.
        await human.send_text(room_id, "!help")

        async with running_bot(settings) as bot:
            assert bot.transport.client.device_id == device_id
            devices = {d.id for d in (await bot.transport.client.devices()).devices}
            assert devices == devices_before  # no new device per start

            await ask(human, room_id, bot.user_id, "!my", contains=first.body)
            # Per sender the bot answers in order: the `!help` of the gap first, and the old
            # `!my` (answered before the restart) not again.
            answers = notices_from(human, room_id, bot.user_id, since=mark)
            assert len(answers) == 2, [a.body for a in answers]
            assert answers[0].body.startswith("Das kannst du hier tun")
            assert answers[1].body == first.body
    finally:
        await human.close()


@synapse_test
async def test_survives_a_homeserver_restart(tmp_path: Path) -> None:
    server = SynapseServer(tmp_path / "hs")
    await asyncio.to_thread(server.start)
    try:
        account = register_bot(server)
        human = await MatrixHuman.login(server, "anna")
        try:
            await human.start_sync()
            async with running_bot(bot_settings(tmp_path, server, account)) as bot:
                room_id = await room_with_bot(human, bot.user_id)
                await ask(human, room_id, bot.user_id, "!ags", contains=AG2)

                await asyncio.to_thread(server.restart)  # the bot's sync loop keeps running
                await ask(human, room_id, bot.user_id, "!ags", contains=AG2, timeout=30)
        finally:
            await human.close()
    finally:
        await asyncio.to_thread(server.stop)
    assert not server.running


@synapse_test
async def test_invites_from_strangers_are_declined(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("mallory"))
    settings = bot_settings(tmp_path, synapse, account, allowed_inviters=("@somebody:localhost",))
    try:
        await human.start_sync()
        async with running_bot(settings) as bot:
            room_id = await human.create_room("fremd", invite=[bot.user_id])
            await human.wait_for_membership(room_id, bot.user_id, "leave", timeout=10)
            joined = [
                e
                for e in human.events
                if e.room_id == room_id
                and e.type == "m.room.member"
                and e.source.get("state_key") == bot.user_id
                and e.content.get("membership") == "join"
            ]
            assert joined == []
            assert room_id not in bot.transport.client.rooms
    finally:
        await human.close()


@synapse_test
async def test_mentions_and_escaping(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    admin = await MatrixHuman.login(synapse, unique_name("admin"))
    anna = await MatrixHuman.login(synapse, unique_name("anna"))
    settings = bot_settings(tmp_path, synapse, account, admins=(f"matrix:{admin.user_id}",))
    try:
        await admin.start_sync()
        await anna.start_sync()
        async with running_bot(settings) as bot:
            room_id = await room_with_bot(admin, bot.user_id, invite=(anna.user_id,))
            await anna.wait_for_membership(room_id, anna.user_id, "invite")
            await anna.join(room_id)
            await wait_joined(admin, room_id, anna.user_id)
            await ask(anna, room_id, bot.user_id, "!join ag2", contains=AG2)

            # As Element sends it: the display name in the body, a pill in the HTML.
            label = anna.user_id[1:].split(":")[0]
            pill = f'<a href="https://matrix.to/#/{anna.user_id}">{label}</a>'
            mark = anna.mark()
            await admin.send_event(
                room_id,
                "m.room.message",
                {
                    "msgtype": "m.text",
                    "body": f"!lead ag2 {label}",
                    "format": "org.matrix.custom.html",
                    "formatted_body": f"!lead ag2 {pill}",
                    "m.mentions": {"user_ids": [anna.user_id]},
                },
            )
            seen = await anna.wait_for_notice(room_id, bot.user_id, contains=label, since=mark)
            assert seen.content["m.mentions"]["user_ids"] == [anna.user_id]
            assert f'href="https://matrix.to/#/{anna.user_id}"' in seen.content["formatted_body"]
            assert seen.body.startswith(label)  # the plain body names, it does not link

            escaped = await ask(admin, room_id, bot.user_id, "!join <b>x</b>", contains="<b>x</b>")
            assert "&lt;b&gt;x&lt;/b&gt;" in escaped.content["formatted_body"]
            assert "<b>x</b>" not in escaped.content["formatted_body"]
            # A room of three: a notice that mentions nobody says so, and nobody named
            # in it is pinged by name.
            assert escaped.content["m.mentions"] == {"user_ids": []}
    finally:
        await admin.close()
        await anna.close()


@synapse_test
async def test_rate_limits_delay_but_lose_nothing(tmp_path: Path) -> None:
    server = SynapseServer(tmp_path / "hs", raise_rate_limits=False)
    await asyncio.to_thread(server.start)
    try:
        account = register_bot(server)
        server.register("anna", "pw-anna", admin=True)
        human = await MatrixHuman.login(server, "anna")
        try:
            # Only the bot should meet the limits: the human may fire as fast as it likes.
            await asyncio.to_thread(
                server.request,
                "POST",
                f"/_synapse/admin/v1/users/{human.user_id}/override_ratelimit",
                {"messages_per_second": 0, "burst_count": 0},
                access_token=human.client.access_token,
            )
            await human.start_sync()
            async with running_bot(bot_settings(tmp_path, server, account)) as bot:
                room_id = await room_with_bot(human, bot.user_id)
                mark = human.mark()
                started = time.monotonic()
                # Synapse's default rc_message: a burst of 10, then one message per 5 s. Two
                # answers past the burst wait for the limit (15 used to wait 25 s for five).
                count = 12
                for _ in range(count):
                    await human.send_text(room_id, "!ags")

                def all_answered(_seen: SeenEvent) -> bool:
                    return len(notices_from(human, room_id, bot.user_id, since=mark)) >= count

                await human.wait_for(all_answered, timeout=55, since=mark)
                ROUND_TRIPS.append(
                    (f"{count} x !ags under rate limits", time.monotonic() - started)
                )
                answers = notices_from(human, room_id, bot.user_id, since=mark)
                assert len(answers) == count
                assert all(AG2 in a.body for a in answers)
                assert bot.transport.rate_limited > 0  # the limits were really hit
        finally:
            await human.close()
    finally:
        await asyncio.to_thread(server.stop)
