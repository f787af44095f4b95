"""Webhook mode with several replicas: two bots on one PostgreSQL, each python-telegram-bot
`Application` behind the bot's own web server (the recording Bot API behind each), and a
load balancer that POSTs every update to one of them at random. Every command is
answered once, by the replica that took it; the rate limit and the caches behave as if
there were one bot. (That only the leader calls setWebhook is the leader part's: its
`open`/`lead` split of the Telegram transport.)"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.app import App
from bot.clock import ManualClock
from bot.config import Secret, Settings, TelegramSettings
from bot.transports.telegram import TelegramTransport
from bot.web.server import WebServer
from tests.support.fake import ROOT
from tests.support.telegram_api import BOT_TOKEN, BotApi
from tests.support.telegram_updates import message, private_chat, update, user
from tests.support.web import WEB, request

pytestmark = pytest.mark.postgres

SECRET = "s3cret_Token-42"
HOOK = "https://bot.example.org/telegram/hook"
AGS_DE = "<b>Die AGs des Bündnisses:</b>"
AGS_EN = "<b>The alliance's AGs:</b>"
SLOW_DOWN = "Langsam bitte – zu viele Befehle. Versuch es in einer Minute wieder."


class Clock(ManualClock):
    def __init__(self) -> None:
        super().__init__(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


@dataclass
class Replica:
    app: App
    api: BotApi
    web: WebServer


async def start_replica(url: str, clock: Clock, *, leading: bool) -> Replica:
    api = BotApi()
    telegram = TelegramSettings(
        token=Secret(BOT_TOKEN), mode="webhook", webhook_url=HOOK, webhook_secret=Secret(SECRET)
    )
    settings = Settings(
        database_url=url,
        ags_file=ROOT / "config" / "ags.toml",
        telegram=telegram,
        web=WEB,
        secret_key=Secret("shared-secret"),
        commands_per_minute=20,
        command_burst=5,
    )
    web = WebServer(WEB)
    transport = TelegramTransport(
        telegram, request=api.request, get_updates_request=api.updates_request, web=web
    )
    app = App(settings, [transport], web=web)
    app.services.leading = leading
    app.services.clock = clock
    await app.start()
    await asyncio.wait_for(app.services.listener.connected.wait(), 5)
    return Replica(app, api, web)


@pytest.fixture
async def replicas(postgres_url: str) -> AsyncIterator[list[Replica]]:
    clock = Clock()
    started = [await start_replica(postgres_url, clock, leading=True)]
    started.append(await start_replica(postgres_url, clock, leading=False))
    yield started
    for replica in started:
        await replica.app.stop()


class Balancer:
    """POSTs each update to a replica picked at random, as a load balancer would."""

    def __init__(self, replicas: list[Replica], seed: int) -> None:
        self.replicas = replicas
        self.pick = random.Random(seed)
        self.next_id = 1
        self.taken = [0] * len(replicas)

    async def say(self, person: dict[str, object], words: str) -> None:
        index = self.pick.randrange(len(self.replicas))
        replica = self.replicas[index]
        payload = update(message(private_chat(person), person, words))
        payload["update_id"] = self.next_id
        self.next_id += 1
        answer = await request(
            replica.web,
            "/telegram/hook",
            method="POST",
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            data=json.dumps(payload).encode(),
        )
        assert answer.status == 200
        self.taken[index] += 1
        await replica.app.services.transports["telegram"].application.update_queue.join()  # type: ignore[attr-defined]
        await replica.app.dispatcher.drain()

    def answers(self, chat_id: int) -> list[str]:
        return [t.split("\n")[0] for r in self.replicas for t in r.api.texts(chat_id)]


async def test_updates_spread_over_both_and_each_is_answered_once(
    replicas: list[Replica],
) -> None:
    balancer = Balancer(replicas, seed=3)
    people = [user(600 + i, f"Person{i}") for i in range(8)]
    for person in people:
        await balancer.say(person, "/whoami")

    assert all(taken > 0 for taken in balancer.taken), balancer.taken
    for person in people:
        [answer] = [t for r in replicas for t in r.api.texts(int(str(person["id"])))]
        assert f"telegram:{person['id']}" in answer


async def test_a_flood_spread_over_both_is_limited_as_one(replicas: list[Replica]) -> None:
    balancer = Balancer(replicas, seed=5)
    mallory = user(666, "Mallory")
    for _ in range(30):
        await balancer.say(mallory, "/ags")

    assert all(taken > 0 for taken in balancer.taken), balancer.taken
    assert sorted(balancer.answers(666)) == sorted([AGS_DE] * 5 + [SLOW_DOWN])


async def test_a_language_set_on_one_replica_is_used_by_the_other_at_once(
    replicas: list[Replica],
) -> None:
    leader, other = replicas
    ben = user(700, "Ben")
    on_leader = Balancer([leader], seed=0)
    on_other = Balancer([other], seed=0)
    on_other.next_id = 1000
    await on_other.say(ben, "/ags")  # the other replica keeps Ben's German
    generation = other.app.services.senders._cache.watch.generation

    await on_leader.say(ben, "/lang en")

    async with asyncio.timeout(5):
        while other.app.services.senders._cache.watch.generation == generation:  # noqa: ASYNC110 (the listener's callback)
            await asyncio.sleep(0.01)
    await on_other.say(ben, "/ags")
    assert [t.split("\n")[0] for t in other.api.texts(700)] == [AGS_DE, AGS_EN]
