"""The whole bot on both networks at once: one App with the TelegramTransport on the fake
Bot API and the MatrixTransport on the real local Synapse, sharing one database.

Telegram updates go through python-telegram-bot's own `Application.process_update`, as
its update loop hands them over; Matrix people are nio clients (`MatrixHuman`) in a room
the bot joined. `running_both` always stops the App, so a failing test leaves no sync
loop or Updater behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from telegram import Update

from bot.app import App
from bot.config import Secret, Settings, TelegramSettings
from bot.transports.matrix import MatrixTransport
from bot.transports.telegram import TelegramTransport
from storage.polls import ballots, polls
from storage.polls.ballots import Tally
from tests.support.matrix_bot import bot_knows, room_with_bot, wait_joined
from tests.support.synapse import MatrixHuman, SeenEvent
from tests.support.telegram_api import BOT_TOKEN, BotApi, Json


@dataclass
class BothNetworks:
    app: App
    telegram: TelegramTransport
    matrix: MatrixTransport
    api: BotApi

    @property
    def matrix_id(self) -> str:
        return self.matrix.user_id

    async def feed(self, *payloads: Json) -> None:
        """Hand Telegram updates to PTB one after the other, then wait for the handlers
        (and whatever they send, on either network)."""
        ptb = self.telegram.application
        for payload in payloads:
            await ptb.process_update(Update.de_json(payload, ptb.bot))
        await self.app.dispatcher.drain()

    async def tally(self, short_id: str) -> Tally:
        async with self.app.services.db.read() as session:
            poll = await polls.poll_by_short_id(session, short_id)
            assert poll is not None, f"no poll {short_id}"
            options = await polls.options_of(session, poll.id)
            return await ballots.tally(session, poll.id, len(options))

    async def wait_counts(
        self,
        short_id: str,
        counts: list[int],
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> Tally:
        """Until the stored tally is `counts` (a Matrix vote arrives through the bot's
        sync, on its own time)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            tally = await self.tally(short_id)
            if tally.counts == counts:
                return tally
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"poll {short_id}: counts {tally.counts}, not {counts}")
            await asyncio.sleep(0.05)


def telegram_transport(api: BotApi) -> TelegramTransport:
    return TelegramTransport(
        TelegramSettings(token=Secret(BOT_TOKEN)),
        request=api.request,
        get_updates_request=api.updates_request,
    )


@asynccontextmanager
async def running_both(settings: Settings, api: BotApi) -> AsyncIterator[BothNetworks]:
    """One App, both transports; the same `settings` (database, Matrix store) and `api`
    again make a restarted bot."""
    assert settings.matrix is not None
    telegram = telegram_transport(api)
    matrix = MatrixTransport(settings.matrix)
    app = App(settings, [telegram, matrix])
    await app.start()
    try:
        yield BothNetworks(app, telegram, matrix, api)
    finally:
        await app.stop()


async def group_room(
    creator: MatrixHuman, bot: BothNetworks, *others: MatrixHuman, name: str = "AG-Raum"
) -> str:
    """A room the creator made, the bot and `others` joined, known to the bot's sync."""
    room_id = await room_with_bot(
        creator, bot.matrix_id, invite=tuple(h.user_id for h in others), name=name
    )
    for other in others:
        await other.wait_for_membership(room_id, other.user_id, "invite")
        await other.join(room_id)
        await wait_joined(creator, room_id, other.user_id)
    await bot_knows(bot.matrix, room_id)
    return room_id


def of_type(room_id: str, sender: str, kind: str) -> Callable[[SeenEvent], bool]:
    def match(seen: SeenEvent) -> bool:
        return seen.room_id == room_id and seen.sender == sender and seen.type == kind

    match.__name__ = f"{kind} from {sender}"
    return match


def events_of(
    human: MatrixHuman, room_id: str, sender: str, kind: str, since: int = 0
) -> list[SeenEvent]:
    match = of_type(room_id, sender, kind)
    return [seen for seen in human.events[since:] if match(seen)]
