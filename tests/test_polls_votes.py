"""Votes: `/vote` and native votes from two networks, one person one vote, order, close,
membership, and anonymous polls that keep no identity anywhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core import ChatRef, PollSpec, PollVote, SentPoll, UserRef
from handlers.polls import votes as poll_votes
from tests.support.fake import BotHarness
from tests.support.poll_chat import (
    AG2,
    START,
    Clock,
    ballots_of,
    counts_of,
    last_poll,
    native_vote,
    setup_ag,
    start_poll,
    two_networks,
)

WANN = '/poll "Wann?" "Di" "Mi" "Do"'


@pytest.fixture
async def two(sqlite_url: str) -> AsyncIterator[BotHarness]:
    harness = await two_networks(sqlite_url)
    yield harness
    await harness.close()


@pytest.fixture
async def polled(bot: BotHarness) -> tuple[BotHarness, str, str]:
    """AG 2 with lead anna and members ben and carl, and an open poll: (bot, id, native id)."""
    bot.app.services.clock = Clock()
    group = await setup_ag(bot)
    short_id = await start_poll(group, "anna", WANN)
    sent, _ = last_poll(bot.transport)
    return bot, short_id, sent.native_id or ""


# --- /vote ---------------------------------------------------------------------------------


async def test_vote_and_change_it(polled: tuple[BotHarness, str, str]) -> None:
    bot, short_id, _ = polled
    dm = bot.dm("ben")

    assert await dm.say("ben", f"/vote {short_id} 2") == ["Danke! Deine Stimme zählt: „Mi“"]
    assert await dm.say("ben", f"/vote {short_id} 3") == ["Deine Stimme ist geändert: „Do“"]
    assert await dm.say("ben", f"/vote {short_id} 3") == ["Das hattest du schon gewählt: „Do“"]

    assert await counts_of(bot, short_id) == [0, 0, 1]
    assert len(await ballots_of(bot, short_id)) == 1


async def test_vote_without_an_id_when_one_poll_is_open(
    polled: tuple[BotHarness, str, str],
) -> None:
    bot, short_id, _ = polled

    assert await bot.group("ag2-gruppe").say("carl", "/vote 1") == [
        "Danke! Deine Stimme zählt: „Di“"
    ]
    assert await bot.dm("ben").say("ben", "/abstimmen 3") == ["Danke! Deine Stimme zählt: „Do“"]
    assert await counts_of(bot, short_id) == [1, 0, 1]


async def test_vote_without_an_id_when_several_are_open(
    polled: tuple[BotHarness, str, str],
) -> None:
    bot, first, _ = polled
    second = await start_poll(bot.group("ag2-gruppe"), "anna", '/poll "Wo?" "Hier" "Dort"')

    [answer] = await bot.dm("ben").say("ben", "/vote 1")

    assert answer.splitlines() == [
        "Es laufen 2 Umfragen. Welche meinst du?",
        f"1. Wo? – /vote {second} 1",
        f"2. Wann? – /vote {first} 1",
    ]


async def test_vote_retract(polled: tuple[BotHarness, str, str]) -> None:
    bot, short_id, _ = polled
    dm = bot.dm("ben")
    await dm.say("ben", f"/vote {short_id} 2")

    assert await dm.say("ben", f"/vote {short_id} -") == ["Deine Stimme ist zurückgezogen."]
    assert await dm.say("ben", f"/vote {short_id} -") == ["Du hattest hier noch nicht abgestimmt."]
    assert await counts_of(bot, short_id) == [0, 0, 0]


@pytest.mark.parametrize("answer", ["4", "0,2", "zwei", "2,9", "²"])
async def test_vote_with_a_bad_number(polled: tuple[BotHarness, str, str], answer: str) -> None:
    bot, short_id, _ = polled

    assert await bot.dm("ben").say("ben", f"/vote {short_id} {answer}") == [
        f"Bitte wähle eine Nummer von 1 bis 3, z. B. /vote {short_id} 1."
    ]
    assert await ballots_of(bot, short_id) == []


async def test_several_answers_only_where_the_poll_allows(
    polled: tuple[BotHarness, str, str],
) -> None:
    bot, single, _ = polled
    multi = await start_poll(bot.group("ag2-gruppe"), "anna", WANN + " --multi")

    assert await bot.dm("ben").say("ben", f"/vote {single} 1,3") == [
        "Bei dieser Umfrage geht nur eine Antwort."
    ]
    assert await bot.dm("ben").say("ben", f"/vote {multi} 3 1") == [
        "Danke! Deine Stimme zählt: „Di“, „Do“"
    ]
    assert await counts_of(bot, multi) == [1, 0, 1]


async def test_vote_for_an_unknown_poll(polled: tuple[BotHarness, str, str]) -> None:
    bot, _, _ = polled

    assert await bot.dm("ben").say("ben", "/vote zzzz 1") == [
        "Eine Umfrage „zzzz“ kenne ich nicht. /polls zeigt die Umfragen deiner AGs."
    ]


async def test_vote_with_only_the_id_shows_the_options(polled: tuple[BotHarness, str, str]) -> None:
    bot, short_id, _ = polled

    assert await bot.dm("ben").say("ben", f"/vote {short_id}") == [
        f"{short_id} Wann?\n1. Di\n2. Mi\n3. Do\nAbstimmen: /vote {short_id} 1"
    ]


async def test_vote_after_close_is_refused(polled: tuple[BotHarness, str, str]) -> None:
    bot, short_id, native_id = polled
    await bot.dm("ben").say("ben", f"/vote {short_id} 1")
    await bot.dm("anna").say("anna", f"/close {short_id}")

    assert await bot.dm("ben").say("ben", f"/vote {short_id} 2") == [
        f"Die Umfrage {short_id} ist beendet; Stimmen zählen nicht mehr. Ergebnis: /results {short_id}"
    ]
    await native_vote(bot, native_id, "carl", 2)
    assert await counts_of(bot, short_id) == [1, 0, 0]


async def test_vote_after_the_deadline_before_the_close_job_ran(bot: BotHarness) -> None:
    clock = Clock()
    bot.app.services.clock = clock
    group = await setup_ag(bot)
    short_id = await start_poll(group, "anna", WANN + " --for 1h")
    clock.advance(hours=1)

    [answer] = await bot.dm("ben").say("ben", f"/vote {short_id} 1")

    assert answer.startswith(f"Die Umfrage {short_id} ist beendet")
    assert await counts_of(bot, short_id) == [0, 0, 0]


async def test_a_non_member_cannot_vote(polled: tuple[BotHarness, str, str]) -> None:
    bot, short_id, _ = polled

    assert await bot.group("ag2-gruppe").say("zoe", f"/vote {short_id} 1") == [
        f"Abstimmen können nur Mitglieder der AG „{AG2}“. Mit /join ag2 trittst du bei."
    ]
    assert await ballots_of(bot, short_id) == []


async def test_a_vote_counts_after_the_voter_left_the_ag(
    polled: tuple[BotHarness, str, str],
) -> None:
    bot, short_id, _ = polled
    await bot.dm("ben").say("ben", f"/vote {short_id} 2")

    await bot.dm("ben").say("ben", "/leave ag2")

    assert await counts_of(bot, short_id) == [0, 1, 0]


# --- native votes --------------------------------------------------------------------------


async def test_native_vote_change_and_retraction(polled: tuple[BotHarness, str, str]) -> None:
    bot, short_id, native_id = polled

    await native_vote(bot, native_id, "ben", 0)
    assert await counts_of(bot, short_id) == [1, 0, 0]
    await native_vote(bot, native_id, "ben", 2)
    assert await counts_of(bot, short_id) == [0, 0, 1]
    await native_vote(bot, native_id, "ben")
    assert await counts_of(bot, short_id) == [0, 0, 0]


async def test_an_older_native_vote_never_overwrites_a_newer_one(
    polled: tuple[BotHarness, str, str],
) -> None:
    bot, short_id, native_id = polled

    await native_vote(bot, native_id, "ben", 1, at=START + timedelta(minutes=5))
    await native_vote(bot, native_id, "ben", 0, at=START + timedelta(minutes=1))

    assert await counts_of(bot, short_id) == [0, 1, 0]


async def test_a_native_vote_and_a_vote_command_are_one_vote(
    polled: tuple[BotHarness, str, str],
) -> None:
    bot, short_id, native_id = polled
    await native_vote(bot, native_id, "ben", 0)

    assert await bot.dm("ben").say("ben", f"/vote {short_id} 2") == [
        "Deine Stimme ist geändert: „Mi“"
    ]
    assert await counts_of(bot, short_id) == [0, 1, 0]


async def test_a_native_vote_from_a_stranger_creates_the_person_but_does_not_count(
    polled: tuple[BotHarness, str, str],
) -> None:
    bot, short_id, native_id = polled

    await native_vote(bot, native_id, "zoe", 0)
    await native_vote(bot, native_id, "ben", 0)

    assert await counts_of(bot, short_id) == [1, 0, 0]
    [result] = await bot.dm("anna").say("anna", f"/results {short_id}")
    assert "1 Stimme kam von außerhalb der AG und zählt nicht." in result


async def test_votes_for_unknown_native_polls_are_ignored(
    polled: tuple[BotHarness, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, short_id, _ = polled
    monkeypatch.setattr(poll_votes, "POSTING_WAITS", (0.01,))

    await native_vote(bot, "no-such-poll", "ben", 0)
    await native_vote(bot, "native-1", "ben", 0, platform="elsewhere")

    assert await ballots_of(bot, short_id) == []


async def test_a_vote_arriving_before_the_posted_poll_is_stored_still_counts(
    bot: BotHarness,
) -> None:
    """Telegram can deliver a quick voter's `poll_answer` before `sendPoll`'s answer is
    processed; the vote waits briefly for the poll instead of being lost."""
    bot.app.services.clock = Clock()
    group = await setup_ag(bot)
    transport = bot.transport
    original = transport.send_poll

    async def send_and_vote_at_once(
        chat: ChatRef, poll: PollSpec, *, key: str | None = None
    ) -> SentPoll:
        sent = await original(chat, poll, key=key)
        voter = UserRef("fake", "ben", "Ben", username="ben")
        await bot.app.dispatcher.poll_vote(PollVote("fake", sent.native_id or "", voter, (1,)))
        await asyncio.sleep(0)  # the vote's task starts before the poll is recorded
        return sent

    transport.send_poll = send_and_vote_at_once  # type: ignore[method-assign]
    short_id = await start_poll(group, "anna", WANN)
    await bot.app.dispatcher.drain()

    assert await counts_of(bot, short_id) == [0, 1, 0]


async def test_votes_from_two_networks_make_one_result(two: BotHarness) -> None:
    bot = two
    short_id = await start_poll(bot.group("tg"), "anna", WANN)
    [(tg_poll, _)] = bot.transport.polls
    [(room_poll, _)] = bot.transports["other"].polls

    await native_vote(bot, tg_poll.native_id or "", "ben", 0)
    await native_vote(bot, tg_poll.native_id or "", "carl", 1)
    await native_vote(bot, room_poll.native_id or "", "olga", 0, platform="other")
    await bot.dm("otto", "other").say("otto", f"!vote {short_id} 3")

    assert await counts_of(bot, short_id) == [2, 1, 1]
    [result] = await bot.dm("anna").say("anna", f"/results {short_id}")
    assert result.splitlines()[1:5] == [
        "1. Di – 2 (50 %) █████",
        "2. Mi – 1 (25 %) ██",
        "3. Do – 1 (25 %) ██",
        "4 Stimmen: Fake 2 · Other 2",
    ]
