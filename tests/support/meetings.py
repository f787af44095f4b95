"""Shared set-up for the meeting and reminder tests: a controllable clock, an AG with a
lead, a member and a linked group, and looks into the reminder tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.clock import ManualClock
from bot.core import ChatRef, DirectMessageUnavailable, SentRef
from bot.rich import AccountRef, Rich
from handlers.reminders.engine import ReminderEngine, engine
from storage.meetings import plans
from storage.meetings.models import Meeting, Occurrence, Reminder, ReminderDelivery
from storage.meetings.reminders import ReminderChanges
from tests.support.fake import BotHarness, Chat, FakeTransport

# A Saturday; the meetings of the tests lie in the following weeks.
START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class Clock(ManualClock):
    """`services.clock`: the time stands still until a test moves it (the timers too)."""

    def __init__(self, now: datetime = START) -> None:
        super().__init__(now)


@dataclass
class Ag2:
    """AG 2 with Anna as lead, Ben as member, and the group `ag2-gruppe` linked to it."""

    bot: BotHarness
    clock: Clock
    group: Chat
    anna: Chat  # Anna's private chat
    ben: Chat

    @property
    def engine(self) -> ReminderEngine:
        return engine(self.bot.app.services)

    def in_group(self) -> list[str]:
        return sent_to(self.bot, self.group.ref.id)


async def ag2_with_lead(bot: BotHarness, clock: Clock | None = None) -> Ag2:
    clock = clock or Clock()
    bot.app.services.clock = clock
    group = bot.group("ag2-gruppe")
    await group.say("admin", "/link ag2")
    anna, ben = bot.dm("anna"), bot.dm("ben")
    await anna.say("anna", "/join ag2")
    await ben.say("ben", "/join ag2")
    await bot.dm("admin").say("admin", "/lead ag2 @anna", mentions=("anna",))
    return Ag2(bot, clock, group, anna, ben)


def sent_to(bot: BotHarness, chat_id: str) -> list[str]:
    return [s.text for s in bot.transport.sent if s.chat.id == chat_id]


async def occurrences(bot: BotHarness) -> list[Occurrence]:
    async with bot.app.services.db.read() as session:
        return list(await session.scalars(select(Occurrence).order_by(Occurrence.start_at)))


async def reminders(bot: BotHarness) -> list[Reminder]:
    async with bot.app.services.db.read() as session:
        return list(await session.scalars(select(Reminder).order_by(Reminder.due_at, Reminder.id)))


async def deliveries(bot: BotHarness) -> list[ReminderDelivery]:
    async with bot.app.services.db.read() as session:
        return list(await session.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id)))


async def statuses(bot: BotHarness) -> list[str]:
    return [r.status for r in await reminders(bot)]


@dataclass
class KeyedTransport(FakeTransport):
    """A fake network that keeps the send keys and, like Matrix with its transaction ids,
    drops a second message with a key it has already delivered. `failures` sends raise
    first (an outage); `on_send` runs before each attempt."""

    keys: list[str | None] = field(default_factory=list)
    attempts: int = 0
    failures: int = 0
    dropped: int = 0
    on_send: Callable[[int], None] | None = None
    _delivered: set[str] = field(default_factory=set)

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        self.attempts += 1
        if self.on_send is not None:
            self.on_send(self.attempts)
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("the homeserver is not reachable")
        if key is not None and key in self._delivered:
            self.dropped += 1
            return SentRef(chat, "duplicate")
        if key is not None:
            self._delivered.add(key)
        self.keys.append(key)
        return await super().send(chat, message, key=key)

    async def send_direct(
        self, account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        if account.external_id in self.unreachable:
            raise DirectMessageUnavailable("https://example.org/start-bot")
        chat = ChatRef(self.platform, f"dm-{account.external_id}", True)
        return await self.send(chat, message, key=key)


def use_transport(bot: BotHarness, transport: FakeTransport) -> None:
    """Put `transport` in the place of the harness's network of the same name."""
    bot.app.services.transports[transport.platform] = transport
    bot.transports[transport.platform] = transport
    if bot.transport.platform == transport.platform:
        bot.transport = transport
    transport.inbox = bot.app.dispatcher


async def remind_in(app: App, occurrence_id: int, seconds: float) -> datetime:
    """Give the occurrence's AG one reminder offset so that its reminder falls due
    `seconds` from now: what `/reminders` does, below its one-minute minimum (the
    end-to-end tests cannot wait for minutes). Returns the due time."""
    services = app.services
    now = services.now()

    async def work(session: AsyncSession) -> tuple[ReminderChanges, datetime]:
        occurrence = await session.get(Occurrence, occurrence_id)
        assert occurrence is not None
        meeting = await session.get(Meeting, occurrence.meeting_id)
        assert meeting is not None
        offset = occurrence.start_at - now - timedelta(seconds=seconds)
        offset = timedelta(seconds=round(offset.total_seconds()))
        changes, _n, _offsets = await plans.set_offsets(
            session, meeting.ag_id, [offset], now, default_offsets=[]
        )
        return changes, occurrence.start_at - offset

    changes, due = await services.db.run(work)
    engine(services).apply(changes)
    return due


async def add_private_delivery(bot: BotHarness, person_id: int) -> None:
    """A private reminder delivery to the person (as a sent reminder leaves one)."""

    async def deliver(session: AsyncSession) -> None:
        reminder = await session.scalar(select(Reminder).limit(1))
        assert reminder is not None
        session.add(
            ReminderDelivery(
                reminder_id=reminder.id,
                target=f"person:{person_id}",
                person_id=person_id,
                status="sent",
            )
        )

    await bot.app.services.db.run(deliver)
