"""Helpers for poll tests: an AG with a lead, members and linked chats, native votes as a
network would report them, and a look into the poll tables."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.clock import ManualClock
from bot.core import Capabilities, PollCounts, PollSpec, PollVote, SentPoll, UserRef
from storage.polls import ballots, polls
from storage.polls.models import Poll, PollBallot
from tests.support.fake import BotHarness, Chat, FakeTransport

AG2 = "Transparenz und Beteiligung"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday morning


class Clock(ManualClock):
    """A clock the test moves by hand: `services.clock = clock` (the timers follow it)."""

    def __init__(self, now: datetime = START) -> None:
        super().__init__(now)


async def setup_ag(
    bot: BotHarness,
    *,
    lead: str = "anna",
    members: tuple[str, ...] = ("ben", "carl"),
    groups: tuple[Chat, ...] = (),
    slug: str = "ag2",
) -> Chat:
    """Link the groups (default: `ag2-gruppe` on the fake network) to the AG, let the
    members join and make `lead` its lead. Returns the first group."""
    chats = groups or (bot.group(f"{slug}-gruppe"),)
    for chat in chats:
        await chat.say("admin", f"/link {slug}")
    for who in (lead, *members):
        await bot.dm(who).say(who, f"/join {slug}")
    await bot.dm("admin").say("admin", f"/lead {slug} @{lead}")
    return chats[0]


def polls_on(transport: FakeTransport) -> list[tuple[SentPoll, PollSpec]]:
    return transport.polls


def last_poll(transport: FakeTransport) -> tuple[SentPoll, PollSpec]:
    assert transport.polls, f"no native poll was sent on {transport.platform}"
    return transport.polls[-1]


async def start_poll(chat: Chat, who: str, text: str) -> str:
    """Run `/poll ...` and return the new poll's short id (from the bot's answer)."""
    replies = await chat.say(who, text)
    assert replies, "the bot did not answer /poll"
    words = replies[-1].split()
    assert words[0] == "Umfrage", replies
    return words[1]


async def native_vote(
    bot: BotHarness,
    native_id: str,
    who: str | None,
    *options: int,
    platform: str = "fake",
    at: datetime | None = None,
) -> None:
    """A vote as a network reports it (0-based options), handled to the end."""
    voter = UserRef(platform, who, who.title(), username=who) if who else None
    await bot.app.dispatcher.poll_vote(PollVote(platform, native_id, voter, options, at=at))
    await bot.app.dispatcher.drain()


async def native_counts(
    bot: BotHarness, native_id: str, counts: tuple[int, ...], voters: int, platform: str = "fake"
) -> None:
    await bot.app.dispatcher.poll_counts(PollCounts(platform, native_id, counts, voters))
    await bot.app.dispatcher.drain()


async def poll_row(bot: BotHarness, short_id: str) -> Poll:
    async with bot.app.services.db.read() as session:
        poll = await polls.poll_by_short_id(session, short_id)
    assert poll is not None
    return poll


async def counts_of(bot: BotHarness, short_id: str) -> list[int]:
    poll = await poll_row(bot, short_id)
    async with bot.app.services.db.read() as session:
        options = await polls.options_of(session, poll.id)
        return (await ballots.tally(session, poll.id, len(options))).counts


async def ballots_of(bot: BotHarness, short_id: str) -> list[PollBallot]:
    poll = await poll_row(bot, short_id)
    async with bot.app.services.db.read() as session:
        return list(await session.scalars(select(PollBallot).where(PollBallot.poll_id == poll.id)))


async def two_networks(sqlite_url: str) -> BotHarness:
    """The fake network (with anonymous native polls) and "other" (native polls that
    show voters, like Matrix), each with a group linked to AG 2; olga and otto joined
    from "other"."""
    other = FakeTransport(
        platform="other",
        command_prefix="!",
        capabilities=Capabilities(html=True, native_polls=True, files=True),
    )
    harness = await BotHarness.create(
        sqlite_url, admins=("fake:admin", "other:admin"), more=(other,)
    )
    harness.app.services.clock = Clock()
    await setup_ag(harness, groups=(harness.group("tg"), harness.group("room", platform="other")))
    for who in ("olga", "otto"):
        await harness.dm(who, "other").say(who, "!join ag2")
    return harness
