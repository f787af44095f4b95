"""`/stats` after members left (issue 13): the share of a poll is the part of today's
members who voted, so it never passes 100 % ("4 Stimmen, 133 % der Mitglieder" before),
and the reply says what the share means. Long questions are cut between words, with "…"."""

from __future__ import annotations

import pytest

from tests.support.fake import BotHarness
from tests.support.poll_chat import Clock, setup_ag, start_poll

LONG = (
    "Sollen wir beim Stadtfest im Juni einen eigenen Stand mit Infomaterial, Quiz und "
    "Kuchen haben oder lieber nicht?"
)


@pytest.fixture(autouse=True)
def fixed_clock(bot: BotHarness) -> None:
    bot.app.services.clock = Clock()


async def test_the_share_counts_todays_members_and_never_passes_100(bot: BotHarness) -> None:
    group = await setup_ag(bot, members=("ben", "carl", "dora"))
    poll = await start_poll(group, "anna", '/poll "Wann?" "Di" "Mi"')
    for who in ("anna", "ben", "carl", "dora"):
        await bot.dm(who).say(who, f"/vote {poll} 1")
    await bot.dm("dora").say("dora", "/leave ag2")

    [reply] = await bot.dm("anna").say("anna", "/stats ag2")

    assert reply.splitlines()[4:8] == [
        "",
        "Beteiligung an Umfragen",
        f"• {poll} „Wann?“ (läuft): 4 Stimmen, 100 % der Mitglieder",
        "Anteil: wie viele der heutigen Mitglieder abgestimmt haben. "
        "Stimmen von Ausgetretenen zählen im Ergebnis, hier nicht.",
    ]


async def test_anonymous_polls_get_no_share_and_long_questions_end_in_an_ellipsis(
    bot: BotHarness,
) -> None:
    group = await setup_ag(bot)
    secret = await start_poll(group, "anna", '/poll "Vorsitz?" "Anna" "Ben" --anonymous')
    long = await start_poll(group, "anna", f'/poll "{LONG}" "Ja" "Nein"')
    await bot.dm("ben").say("ben", f"/vote {long} 1")

    [reply] = await bot.dm("anna").say("anna", "/stats ag2")

    assert reply.splitlines()[6:8] == [
        f"• {long} „Sollen wir beim Stadtfest im Juni einen eigenen Stand mit Infomaterial, "
        "Quiz…“ (läuft): 1 Stimme, 33 % der Mitglieder",
        f"• {secret} „Vorsitz?“ (läuft): 0 Stimmen, anonym (ohne Anteil)",
    ]


async def test_the_share_in_english(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    await start_poll(group, "anna", '/poll "Wann?" "Di" "Mi"')
    await bot.dm("anna").say("anna", "/lang en")

    [reply] = await bot.dm("anna").say("anna", "/stats ag2")

    assert reply.splitlines()[7] == (
        "Share: how many of today's members voted. Votes of people who have left count in "
        "the result, not here."
    )
