"""Matrix polls (MSC3381) and files, end to end against a real Synapse.

The bot's events are checked as a nio client (the "human") receives them; the human
answers with the events Element sends. Transport-level tests report to a `RecordingInbox`;
the restart test runs the whole App with a poll_vote handler of its own.
The content builders and Element's tally rules need no homeserver:
tests/test_matrix_poll_content.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import nio
import pytest
from nio.crypto.attachments import decrypt_attachment

from bot.app import build_registry
from bot.commands import Registry
from bot.context import Services
from bot.core import ChatRef, PollVote, SentPoll
from bot.rich import text
from bot.transports.matrix.polls import (
    KIND_DISCLOSED,
    POLL_END,
    POLL_RESPONSE,
    POLL_START,
    TEXT,
    poll_start_content,
)
from tests.support.matrix_bot import (
    RecordingInbox,
    bot_knows,
    bot_settings,
    register_bot,
    room_with_bot,
    running_bot,
    running_transport,
    wait_joined,
)
from tests.support.matrix_poll_events import OPTIONS, QUESTION, png, response, spec
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name

synapse_test = pytest.mark.synapse

# --- against Synapse -------------------------------------------------------------------------


def _of_type(room_id: str, sender: str, kind: str) -> Any:
    def match(seen: SeenEvent) -> bool:
        return seen.room_id == room_id and seen.sender == sender and seen.type == kind

    match.__name__ = f"{kind} from {sender}"
    return match


@synapse_test
async def test_poll_start_responses_and_end(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    inbox = RecordingInbox()
    try:
        await human.start_sync()
        async with running_transport(bot_settings(tmp_path, synapse, account), inbox) as bot:
            room_id = await room_with_bot(human, bot.user_id)
            await bot_knows(bot, room_id)
            chat = ChatRef("matrix", room_id)
            sent = await bot.send_poll(chat, spec(), key="poll:p7:room")
            assert sent.native_id == sent.message_id and sent.native_id

            seen = await human.wait_for(_of_type(room_id, bot.user_id, POLL_START))
            assert seen.event_id == sent.native_id
            assert isinstance(seen.event, nio.UnknownEvent)
            content = seen.content
            assert content[TEXT].startswith(QUESTION + "\n1. Di 18 Uhr")
            start = content[POLL_START]
            assert start["kind"] == KIND_DISCLOSED
            assert start["max_selections"] == 1
            assert start["question"][TEXT] == QUESTION
            assert [a["id"] for a in start["answers"]] == ["1", "2", "3"]
            assert [a[TEXT] for a in start["answers"]] == list(OPTIONS)
            # The same key again is the same event (a retried send), not a second poll.
            again = await bot.send_poll(chat, spec(), key="poll:p7:room")
            assert again.native_id == sent.native_id

            first = await human.send_event(room_id, POLL_RESPONSE, response(seen.event_id, ["2"]))
            vote = await inbox.wait(inbox.votes, 0)
            assert (vote.platform, vote.native_id, vote.options) == ("matrix", sent.native_id, (1,))
            assert vote.voter is not None and vote.voter.id == human.user_id
            assert vote.event_id == first and isinstance(vote.at, datetime)

            await human.send_event(room_id, POLL_RESPONSE, response(seen.event_id, ["1", "3"]))
            changed = await inbox.wait(inbox.votes, 1)
            assert changed.options == (0,)  # cut to max_selections = 1
            assert vote.at is not None and changed.at is not None and changed.at > vote.at

            await human.send_event(room_id, POLL_RESPONSE, response(seen.event_id, ["7"]))
            assert (await inbox.wait(inbox.votes, 2)).options == ()  # unknown id: no vote

            await bot.close_poll(sent, text("Ergebnis: Di 18 Uhr 1 (100 %)"), key="close:p7")
            end = await human.wait_for(_of_type(room_id, bot.user_id, POLL_END))
            assert end.content["m.relates_to"] == {
                "rel_type": "m.reference",
                "event_id": sent.native_id,
            }
            assert end.content[TEXT] == "Ergebnis: Di 18 Uhr 1 (100 %)"
            assert end.content[POLL_END] == {}
            assert len(inbox.votes) == 3  # the bot's own events never come back as votes
    finally:
        await human.close()


@synapse_test
async def test_encrypted_room_poll_and_file(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"), store_path=tmp_path / "human")
    inbox = RecordingInbox()
    try:
        await human.start_sync()
        async with running_transport(bot_settings(tmp_path, synapse, account), inbox) as bot:
            room_id = await room_with_bot(human, bot.user_id, encrypted=True)
            await bot_knows(bot, room_id)
            chat = ChatRef("matrix", room_id)
            sent = await bot.send_poll(chat, spec(multi=True), key="poll:enc")
            seen = await human.wait_for(_of_type(room_id, bot.user_id, POLL_START))
            assert seen.event.decrypted and seen.event_id == sent.native_id
            assert seen.event_id is not None
            assert seen.content[POLL_START]["max_selections"] == 3

            await human.send_event(room_id, POLL_RESPONSE, response(seen.event_id, ["3", "1"]))
            vote = await inbox.wait(inbox.votes, 0)
            assert (vote.native_id, vote.options) == (sent.native_id, (2, 0))
            fetched = await bot.fetch_poll_votes(sent)  # relations come encrypted: decrypted
            assert [(v.event_id, v.options) for v in fetched] == [(vote.event_id, (2, 0))]

            data = png(4, 3)
            await bot.send_file(chat, "chart.png", data, "image/png", text("Ergebnis"), key="f")
            image = await human.wait_for(_of_type(room_id, bot.user_id, "m.room.message"))
            content = image.content
            assert content["msgtype"] == "m.image" and "url" not in content
            assert content["info"] == {"mimetype": "image/png", "size": len(data), "w": 4, "h": 3}
            file = content["file"]
            downloaded = await human.client.download(mxc=file["url"])
            assert isinstance(downloaded, nio.DownloadResponse)
            assert downloaded.body != data  # what the homeserver holds is encrypted
            plain = decrypt_attachment(
                downloaded.body, file["key"]["k"], file["hashes"]["sha256"], file["iv"]
            )
            assert plain == data
            await human.wait_for_notice(room_id, bot.user_id, contains="Ergebnis")
    finally:
        await human.close()


@synapse_test
async def test_files_in_plain_and_direct_chats(synapse: SynapseServer, tmp_path: Path) -> None:
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    inbox = RecordingInbox()
    try:
        await human.start_sync()
        async with running_transport(bot_settings(tmp_path, synapse, account), inbox) as bot:
            room_id = await room_with_bot(human, bot.user_id)
            await bot_knows(bot, room_id)
            chat = ChatRef("matrix", room_id)
            data = png(5, 7)
            mark = human.mark()
            sent = await bot.send_file(chat, "chart.png", data, "image/png", key="chart")
            image = await human.wait_for(
                _of_type(room_id, bot.user_id, "m.room.message"), since=mark
            )
            assert image.event_id == sent.message_id
            assert image.content["msgtype"] == "m.image"
            assert image.content["body"] == "chart.png"
            assert image.content["info"]["w"] == 5 and image.content["info"]["h"] == 7
            downloaded = await human.client.download(mxc=image.content["url"])
            assert isinstance(downloaded, nio.DownloadResponse) and downloaded.body == data

            calendar = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
            dm_id = await human.create_room(invite=[bot.user_id], is_direct=True)
            await wait_joined(human, dm_id, bot.user_id)
            await bot_knows(bot, dm_id)
            dm = ChatRef("matrix", dm_id, is_direct=True)
            mark = human.mark()
            await bot.send_file(dm, "ag2.ics", calendar, "text/calendar", key="ics")
            doc = await human.wait_for(_of_type(dm.id, bot.user_id, "m.room.message"), since=mark)
            assert doc.content["msgtype"] == "m.file"
            assert doc.content["info"] == {"mimetype": "text/calendar", "size": len(calendar)}
            downloaded = await human.client.download(mxc=doc.content["url"])
            assert isinstance(downloaded, nio.DownloadResponse) and downloaded.body == calendar
    finally:
        await human.close()


@synapse_test
async def test_votes_cast_while_the_bot_is_stopped_are_fetched(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    """The whole App: live votes reach the poll_vote handler; votes from while it was
    down are not replayed live, but `fetch_poll_votes` returns each person's latest."""
    account = register_bot(synapse)
    settings = bot_settings(tmp_path, synapse, account)
    anna = await MatrixHuman.login(synapse, unique_name("anna"))
    bo = await MatrixHuman.login(synapse, unique_name("bo"))
    handled: list[PollVote] = []
    got_vote = asyncio.Event()
    registry = Registry(dict(build_registry().commands))

    @registry.event("poll_vote")
    async def record(_services: Services, vote: PollVote) -> None:
        handled.append(vote)
        got_vote.set()

    try:
        await anna.start_sync()
        await bo.start_sync()
        async with running_bot(settings, registry=registry) as bot:
            room_id = await room_with_bot(anna, bot.user_id, invite=(bo.user_id,))
            await bot_knows(bot.transport, room_id)
            await bo.wait_for_membership(room_id, bo.user_id, "invite")
            await bo.join(room_id)
            sent = await bot.transport.send_poll(ChatRef("matrix", room_id), spec(), key="p")
            assert sent.native_id is not None
            start_id = sent.native_id
            await anna.wait_for(_of_type(room_id, bot.user_id, POLL_START))
            await anna.send_event(room_id, POLL_RESPONSE, response(start_id, ["1"]))
            await asyncio.wait_for(got_vote.wait(), 10)
            assert [(v.voter.id if v.voter else None, v.options) for v in handled] == [
                (anna.user_id, (0,))
            ]

        # The bot is down: anna changes her mind twice, bo votes.
        await anna.send_event(room_id, POLL_RESPONSE, response(start_id, ["3"]))
        await anna.send_event(room_id, POLL_RESPONSE, response(start_id, ["2"]))
        await bo.send_event(room_id, POLL_RESPONSE, response(start_id, ["3"]))
        handled.clear()

        async with running_bot(settings, registry=registry) as bot:
            started = time.monotonic()
            votes = await bot.transport.fetch_poll_votes(sent)
            fetch_seconds = time.monotonic() - started
            assert {(v.voter.id if v.voter else "", v.options) for v in votes} == {
                (anna.user_id, (1,)),
                (bo.user_id, (2,)),
            }
            assert all(v.at is not None and v.event_id for v in votes)
            # The gap since the saved sync position (younger than 5 minutes) is handed on:
            # each voter's latest vote of it, with its time (the latest wins); the position
            # is saved up to a second behind, so the vote before the restart may come once
            # more. The fetch covers older gaps.
            gap = [(anna.user_id, (1,)), (bo.user_id, (2,))]

            def seen_now() -> list[tuple[str, tuple[int, ...]]]:
                return [(v.voter.id if v.voter else "", v.options) for v in handled]

            for _ in range(100):
                if all(vote in seen_now() for vote in gap):
                    break
                await asyncio.sleep(0.05)
            seen = seen_now()
            assert all(vote in seen for vote in gap), seen
            assert set(seen) <= {*gap, (anna.user_id, (2,)), (anna.user_id, (0,))}, seen

            await bot.transport.close_poll(sent, text("Beendet"), key="close")
            await anna.wait_for(_of_type(room_id, bot.user_id, POLL_END))
            await bo.send_event(room_id, POLL_RESPONSE, response(start_id, ["1"]))  # too late
            after_end = await bot.transport.fetch_poll_votes(sent)
            assert {(v.voter.id if v.voter else "", v.options) for v in after_end} == {
                (anna.user_id, (1,)),
                (bo.user_id, (2,)),
            }
            assert fetch_seconds < 2
    finally:
        await anna.close()
        await bo.close()


@synapse_test
async def test_responses_to_other_polls_are_not_votes(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    """A human's own poll in the room: its responses never reach the Inbox."""
    account = register_bot(synapse)
    human = await MatrixHuman.login(synapse, unique_name("anna"))
    inbox = RecordingInbox()
    try:
        await human.start_sync()
        async with running_transport(bot_settings(tmp_path, synapse, account), inbox) as bot:
            room_id = await room_with_bot(human, bot.user_id)
            await bot_knows(bot, room_id)
            theirs = await human.send_event(room_id, POLL_START, poll_start_content(spec()))
            await human.send_event(room_id, POLL_RESPONSE, response(theirs, ["1"]))
            ours = await bot.send_poll(ChatRef("matrix", room_id), spec(), key="ours")
            assert ours.native_id is not None
            await human.send_event(room_id, POLL_RESPONSE, response(ours.native_id, ["2"]))
            vote = await inbox.wait(inbox.votes, 0)
            assert vote.native_id == ours.native_id
            assert len(inbox.votes) == 1
            chat = ChatRef("matrix", room_id)
            assert await bot.fetch_poll_votes(SentPoll(chat, theirs, theirs)) == []
    finally:
        await human.close()


@synapse_test
async def test_votes_lost_in_a_sync_gap_are_caught_up(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    """A sync that brings only the last events of a busy room (a limited timeline) makes
    the transport re-read its polls' responses there, so a vote in the gap still counts."""
    account = register_bot(synapse)
    anna = await MatrixHuman.login(synapse, unique_name("anna"))
    bo = await MatrixHuman.login(synapse, unique_name("bo"))
    inbox = RecordingInbox()
    try:
        await anna.start_sync()
        await bo.start_sync()
        async with running_transport(bot_settings(tmp_path, synapse, account), inbox) as bot:
            room_id = await room_with_bot(anna, bot.user_id, invite=(bo.user_id,))
            await bo.wait_for_membership(room_id, bo.user_id, "invite")
            await bo.join(room_id)
            await bot_knows(bot, room_id)
            sent = await bot.send_poll(ChatRef("matrix", room_id), spec(), key="gap")
            assert sent.native_id is not None

            # Hold the bot's sync loop while the room gets busier than one sync shows.
            held = bot.syncer.task
            assert held is not None
            held.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await held
            await bo.send_event(room_id, POLL_RESPONSE, response(sent.native_id, ["2"]))
            for i in range(15):
                await anna.send_text(room_id, f"Plauderei {i}")
            bot.syncer.task = asyncio.create_task(bot.syncer.loop())

            vote = await inbox.wait(
                inbox.votes, 0, match=lambda v: v.voter is not None and v.voter.id == bo.user_id
            )
            assert vote.options == (1,)
    finally:
        await anna.close()
        await bo.close()
