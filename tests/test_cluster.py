"""Several real bot processes on one PostgreSQL database, Telegram offline (the test's
Bot API over HTTP): one leads, the others stand by; a kill -9, a rolling restart and a
database restart hand the lead over within seconds, and every command gets exactly one
reply."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.cluster import Cluster, TelegramHttp, cluster
from tests.support.postgres import PostgresServer
from tests.support.telegram_updates import message, private_chat, update, user

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]
_people = itertools.count(7_000_001)
FAILURES = ("schiefgegangen", "nicht erreichbar", "Traceback")


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramHttp]:
    api = TelegramHttp()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


async def ask(telegram: TelegramHttp, count: int, command: str = "/help") -> list[int]:
    """`count` people each send `command` privately; their chat ids."""
    chats = []
    for _ in range(count):
        person = user(next(_people), "Anna")
        chats.append(person["id"])
        await telegram.api.push(update(message(private_chat(person), person, command)))
    return chats


async def replies(
    telegram: TelegramHttp, chats: list[int], within: float = 30, settle: float = 1.5
) -> Counter[int]:
    """Replies per chat, once every chat has one (and a moment for duplicates)."""
    deadline = time.monotonic() + within
    while not all(telegram.api.texts(chat) for chat in chats):
        missing = [chat for chat in chats if not telegram.api.texts(chat)]
        assert time.monotonic() < deadline, f"no reply in {len(missing)} of {len(chats)} chats"
        await asyncio.sleep(0.1)
    await asyncio.sleep(settle)
    for chat in chats:
        for text in telegram.api.texts(chat):
            assert not any(bad in text for bad in FAILURES), text
    return Counter({chat: len(telegram.api.texts(chat)) for chat in chats})


def no_errors(nodes: Cluster) -> None:
    for node in nodes.nodes:
        text = node.log()
        assert "ERROR" not in text, [line for line in text.splitlines() if "ERROR" in line]
        assert "Traceback" not in text, text[-4000:]


@pytest.mark.parametrize("count", [2, 3])
async def test_one_of_several_processes_leads_and_each_command_gets_one_reply(
    tmp_path: Path, postgres_url: str, telegram: TelegramHttp, count: int
) -> None:
    with cluster(tmp_path, postgres_url, telegram=telegram.base_url) as nodes:
        for _ in range(count):
            nodes.start()
        await nodes.wait_roles(leaders=1, standbys=count - 1)
        chats = await ask(telegram, 12)
        assert set((await replies(telegram, chats)).values()) == {1}
        for node in nodes.nodes:
            assert await asyncio.to_thread(node.terminate) == 0
        no_errors(nodes)
        standby_lines = [
            line for n in nodes.nodes for line in n.log().splitlines() if "standby:" in line
        ]
        assert len(standby_lines) == count - 1  # said once each, not on every try
        assert not any("409" in n.log() or "Conflict" in n.log() for n in nodes.nodes)


async def test_kill_9_of_the_leader_hands_the_lead_over_within_seconds(
    tmp_path: Path, postgres_url: str, telegram: TelegramHttp
) -> None:
    with cluster(tmp_path, postgres_url, telegram=telegram.base_url) as nodes:
        first, _second = nodes.start(), nodes.start()
        leader = await nodes.wait_roles(leaders=1, standbys=1)
        assert set((await replies(telegram, await ask(telegram, 3))).values()) == {1}
        killed_at = time.monotonic()
        leader.kill()
        chats = await ask(telegram, 6)  # during the gap
        await nodes.wait_roles(leaders=1, standbys=0, within=15)
        took = time.monotonic() - killed_at
        assert took < 10, f"the standby took {took:.1f} s to lead"
        assert set((await replies(telegram, chats)).values()) == {1}
        assert first in nodes.nodes


async def test_a_rolling_restart_loses_and_doubles_no_reply(
    tmp_path: Path, postgres_url: str, telegram: TelegramHttp
) -> None:
    with cluster(tmp_path, postgres_url, telegram=telegram.base_url) as nodes:
        nodes.start()
        nodes.start()
        leader = await nodes.wait_roles(leaders=1, standbys=1)
        chats: list[int] = []

        async def stream() -> None:
            for _ in range(40):
                chats.extend(await ask(telegram, 1))
                await asyncio.sleep(0.1)

        sending = asyncio.create_task(stream())
        await asyncio.sleep(1.0)
        assert await asyncio.to_thread(leader.terminate) == 0  # docker stop, mid-stream
        nodes.start()  # the new version
        await sending
        await nodes.wait_roles(leaders=1, standbys=1)
        per_chat = await replies(telegram, chats)
        assert per_chat == Counter(dict.fromkeys(chats, 1)), per_chat
        for node in nodes.living():
            assert await asyncio.to_thread(node.terminate) == 0
        no_errors(nodes)


async def test_a_leader_that_loses_the_database_stops_leading_and_one_leads_after(
    tmp_path: Path, postgres_url: str, postgres_server: PostgresServer, telegram: TelegramHttp
) -> None:
    with cluster(tmp_path, postgres_url, telegram=telegram.base_url) as nodes:
        nodes.start()
        nodes.start()
        leader = await nodes.wait_roles(leaders=1, standbys=1)
        await asyncio.to_thread(postgres_server.pause)  # a clean restart: keeps the data
        try:
            await nodes.wait_roles(leaders=0, standbys=2, within=10)
        finally:
            await asyncio.to_thread(postgres_server.resume)
        assert "lost the leader lock or its connection" in leader.log() or (
            "lost or could not take the lead" in leader.log()
        )
        await nodes.wait_roles(leaders=1, standbys=1, within=30)
        chats = await ask(telegram, 6)
        assert set((await replies(telegram, chats)).values()) == {1}
        polls = [c for c in telegram.api.calls_to("getUpdates") if c.status != 200]
        assert not polls
