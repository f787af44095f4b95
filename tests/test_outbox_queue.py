"""Matrix from a process that is not the leader (bot/outbox_queue.py, bot/outbox_drain.py):
its Matrix calls become `outbox_message` rows, the leader makes them on its own Matrix
transport and hands back the result, so the poll a replica posts to an AG's Matrix room
keeps its real event id (and can be closed later), and every call is made once.

Two bots on one PostgreSQL, each with a recording "matrix" network: the leader's runs
(started: the real transport of this process), the replica's never starts (it is not
logged in), so its calls go through the queue. The real Synapse: test_outbox_queue_matrix.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.core import ChatRef, SentRef
from bot.outbox_codec import QueuedSendError
from bot.outbox_queue import LeaderRouted
from bot.rich import Rich, text
from storage.cluster.models import OutboxMessage
from tests.support.fake import BotHarness, FakeTransport

pytestmark = pytest.mark.postgres

ADMINS = ("fake:admin", "matrix:admin")


def matrix_fake() -> FakeTransport:
    return FakeTransport(platform="matrix", command_prefix="!")


async def bot_on(url: str, *, leading: bool) -> tuple[BotHarness, LeaderRouted]:
    harness = await BotHarness.create(url, admins=ADMINS, more=(matrix_fake(),))
    services = harness.app.services
    await services.listener.start()
    await asyncio.wait_for(services.listener.connected.wait(), 5)
    routed = services.transports["matrix"]
    assert isinstance(routed, LeaderRouted)
    if leading:
        await routed.start(harness.app.dispatcher)
    else:
        services.leading = False
    return harness, routed


@pytest.fixture
async def pair(postgres_url: str) -> AsyncIterator[tuple[BotHarness, BotHarness]]:
    leader, routed = await bot_on(postgres_url, leading=True)
    replica, _ = await bot_on(postgres_url, leading=False)
    yield leader, replica
    await routed.stop()
    for bot in (leader, replica):
        await bot.app.services.listener.stop()
        await bot.close()


async def rows(bot: BotHarness) -> list[tuple[str, str | None]]:
    async with bot.app.services.db.read() as session:
        found = await session.execute(
            select(OutboxMessage.status, OutboxMessage.send_key).order_by(OutboxMessage.id)
        )
        return [(status, key) for status, key in found]


async def test_a_poll_from_the_replica_reaches_the_matrix_room_once_with_its_event_id(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    leader, replica = pair
    room = leader.group("!raum:localhost", platform="matrix")
    assert await room.say("admin", "!link ag2")
    await replica.group().say("admin", "/link ag2")

    replies = await replica.group().say("admin", "/poll Wann Plenum? Di, Mi, Do")

    leader_matrix = leader.transports["matrix"]
    replica_matrix = replica.transports["matrix"]
    assert [spec.question for _, spec in leader_matrix.polls] == ["Wann Plenum?"]
    assert replica_matrix.polls == [] and replica_matrix.sent == [], "the replica sent nothing"
    [(sent_poll, _)] = leader_matrix.polls
    assert sent_poll.chat.id == "!raum:localhost"
    found = re.search(r"/close (\w+)", "\n".join(replies))
    assert found, replies
    poll = found.group(1)
    assert await rows(leader) == [("sent", f"poll:{poll}:matrix:!raum:localhost")]

    await replica.group().say("admin", f"/close {poll}")

    assert [closed.native_id for closed, _ in leader_matrix.closed_polls] == [sent_poll.native_id]
    assert leader_matrix.sent[-1].text.startswith(f"Endergebnis: Wann Plenum? ({poll})")
    assert await rows(leader) == [
        ("sent", f"poll:{poll}:matrix:!raum:localhost"),
        ("sent", f"poll-close:{poll}:matrix:!raum:localhost"),
        ("sent", f"poll-result:{poll}:matrix:!raum:localhost"),
    ]


async def test_a_call_keyed_twice_is_made_once(pair: tuple[BotHarness, BotHarness]) -> None:
    leader, replica = pair
    routed = replica.app.services.transports["matrix"]
    room = ChatRef("matrix", "!raum:localhost")

    first, second = await asyncio.gather(
        routed.send(room, text("Hallo"), key="k1"), routed.send(room, text("Hallo"), key="k1")
    )

    assert first == second == SentRef(room, "1")
    assert [s.text for s in leader.transports["matrix"].sent] == ["Hallo"]
    assert await rows(leader) == [("sent", "k1")]


async def test_two_calls_whose_long_keys_differ_only_at_the_end_are_both_made(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    """A room of a homeserver with a long name: the keys of a command's two replies
    (`reply:<chat>:<event>:1` and `:2`) are longer than a send key's column and differ
    only at their end; the second is a message of its own, not the first one again."""
    leader, replica = pair
    routed = replica.app.services.transports["matrix"]
    room = ChatRef("matrix", "!AbCdEfGhIjKlMnOpQr:" + "verein-" * 25 + "example.org")
    event = "$" + "e" * 43
    keys = [f"reply:{room.key}:{event}:{n}" for n in (1, 2)]
    fake = leader.transports["matrix"]
    made: list[str | None] = []
    plain_send = fake.send

    async def send(chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        made.append(key)
        return await plain_send(chat, message, key=key)

    fake.send = send  # type: ignore[method-assign]

    first = await routed.send(room, text("Eins"), key=keys[0])
    second = await routed.send(room, text("Zwei"), key=keys[1])

    assert [s.text for s in fake.sent] == ["Eins", "Zwei"]
    assert made == keys, "the leader sends with the caller's whole key (its transaction id)"
    assert first != second
    assert [status for status, _ in await rows(leader)] == ["sent", "sent"]


async def test_a_call_that_never_returns_at_the_leader_is_given_up(
    pair: tuple[BotHarness, BotHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call that hangs at the leader (nio retries a timed-out request without end)
    would hold its row `sending` and a drain slot forever (eight such and nothing from a
    replica reaches Matrix any more): it is given up after the time its caller waits."""
    import bot.outbox_queue

    leader, replica = pair
    monkeypatch.setattr(bot.outbox_queue, "SENDING_WAIT", 1.5)
    replica.app.services.transports["matrix"].queue.wait = 0.5
    leader.app.services.transports["matrix"].drain.call_budget = 0.5
    fake = leader.transports["matrix"]
    plain_send = fake.send

    async def send(chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        if key == "hangs":
            await asyncio.Event().wait()
        return await plain_send(chat, message, key=key)

    fake.send = send  # type: ignore[method-assign]
    routed = replica.app.services.transports["matrix"]
    room = ChatRef("matrix", "!raum:localhost")

    with pytest.raises(QueuedSendError):
        await routed.send(room, text("Hängt"), key="hangs")

    assert await rows(leader) == [("failed", "hangs")]
    assert await routed.send(room, text("Geht"), key="next") == SentRef(room, "1")


async def test_errors_come_back_as_the_transport_raised_them(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    from bot.core import DirectMessageUnavailable
    from bot.rich import AccountRef

    leader, replica = pair
    leader.transports["matrix"].unreachable.add("@ben:localhost")
    routed = replica.app.services.transports["matrix"]

    with pytest.raises(DirectMessageUnavailable) as raised:
        await routed.send_direct(AccountRef("matrix", "@ben:localhost", "Ben"), text("Hi"))
    assert raised.value.hint_url == "https://example.org/start-bot"
    assert [status for status, _ in await rows(leader)] == ["failed"]


async def test_without_a_leader_the_call_times_out_and_is_cancelled(postgres_url: str) -> None:
    replica, routed = await bot_on(postgres_url, leading=False)
    try:
        routed.queue.wait = 0.3
        with pytest.raises(QueuedSendError):
            await routed.send(ChatRef("matrix", "!raum:localhost"), text("Hallo"), key="k2")
        assert await rows(replica) == [("failed", "k2")]
        async with replica.app.services.db.read() as session:
            count = await session.scalar(select(func.count()).select_from(OutboxMessage))
        assert count == 1
    finally:
        await replica.app.services.listener.stop()
        await replica.close()


async def test_a_call_queued_while_nobody_leads_is_made_by_the_next_leader(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    leader, replica = pair
    routed = leader.app.services.transports["matrix"]
    assert isinstance(routed, LeaderRouted)
    await routed.unlead()  # the leader lost its lock: its own calls queue up too
    room = ChatRef("matrix", "!raum:localhost")

    waiting = asyncio.create_task(
        replica.app.services.transports["matrix"].send(room, text("Wer kommt?"), key="k3")
    )
    own = asyncio.create_task(routed.send(room, text("Ich auch"), key="k4"))
    await asyncio.sleep(0.3)
    assert not waiting.done() and not own.done()
    assert leader.transports["matrix"].sent == []

    await routed.lead()  # elected again (or another process is): the queue is drained

    assert (await waiting).chat == room and (await own).chat == room
    assert sorted(s.text for s in leader.transports["matrix"].sent) == ["Ich auch", "Wer kommt?"]
    assert routed.capabilities == leader.transports["matrix"].capabilities
    assert routed.unreachable is leader.transports["matrix"].unreachable, "attributes pass"


async def test_the_rescan_finds_a_call_whose_notification_was_missed_and_purges_old_rows(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    from datetime import timedelta

    from bot.outbox_queue import rescan_queue

    leader, replica = pair
    await leader.app.services.listener.stop()  # the leader hears nothing
    room = ChatRef("matrix", "!raum:localhost")
    call = asyncio.create_task(
        replica.app.services.transports["matrix"].send(room, text("Gehört?"), key="k5")
    )
    await asyncio.sleep(0.2)
    assert not call.done()

    await rescan_queue(leader.app.services)
    await asyncio.wait_for(call, 2.0)  # long before the drain's own 5 s look
    assert [s.text for s in leader.transports["matrix"].sent] == ["Gehört?"]

    # A day later the done row goes; an open one stays.
    async with replica.app.services.db.write() as session:
        session.add(OutboxMessage(platform="matrix", payload="{}", send_key="k6", status="pending"))
    later = replica.app.services.now() + timedelta(days=1, minutes=1)
    leader.app.services.clock = ManualClock(later)
    routed = leader.app.services.transports["matrix"]
    await routed.drain.stop()  # only the purge, no sending of the open row
    await rescan_queue(leader.app.services)
    assert [key for _, key in await rows(leader)] == ["k6"]


async def test_a_call_given_up_for_want_of_a_leader_is_queued_again_when_retried(
    postgres_url: str,
) -> None:
    """A poll whose post timed out is posted later with the same key (e.g. by a rescan of
    polls not yet in every chat): the failed row is queued again, not its failure kept."""
    replica, standin = await bot_on(postgres_url, leading=False)
    leader, routed = await bot_on(postgres_url, leading=True)
    room = ChatRef("matrix", "!raum:localhost")
    try:
        await routed.unlead()
        standin.queue.wait = 0.3
        with pytest.raises(QueuedSendError):
            await standin.send(room, text("Umfrage"), key="poll:k3f7:matrix:!raum:localhost")
        await routed.lead()

        sent = await standin.send(room, text("Umfrage"), key="poll:k3f7:matrix:!raum:localhost")

        assert sent.chat == room
        assert [s.text for s in leader.transports["matrix"].sent] == ["Umfrage"]
        assert await rows(leader) == [("sent", "poll:k3f7:matrix:!raum:localhost")]
    finally:
        await routed.stop()
        for bot in (leader, replica):
            await bot.app.services.listener.stop()
            await bot.close()


def test_the_router_stands_in_for_every_method_of_the_transport_protocol() -> None:
    """A protocol method the router inherits instead of passing on is silently lost on the
    leader (`use_database` was: the new leader's Matrix kept no sync position, and the
    messages of a failover's gap were never answered)."""
    from bot.core import BaseTransport
    from bot.outbox_queue import LeaderRouted

    protocol = {
        name
        for name, member in vars(BaseTransport).items()
        if callable(member) and not name.startswith("_")
    }
    missing = sorted(name for name in protocol if name not in vars(LeaderRouted))
    assert missing == []
