"""Starting, listing and closing polls, as a chat: /poll, /polls, /close, and every refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import Capabilities
from tests.support.fake import BotHarness, FakeTransport
from tests.support.poll_chat import (
    AG2,
    START,
    Clock,
    last_poll,
    native_vote,
    poll_row,
    setup_ag,
    start_poll,
)

WANN = '/poll "Wann treffen wir uns?" "Di 18 Uhr" "Mi 19 Uhr" "Do 17 Uhr"'
NO_ANONYMOUS = Capabilities(html=True, mentions=True, native_polls=True, files=True)
TEXT_ONLY = Capabilities(html=True)


@pytest.fixture
async def two_networks(sqlite_url: str) -> AsyncIterator[BotHarness]:
    """The fake network plus "other": native polls, but none that hide the voters
    (like Matrix), and "plain": no native polls at all (like the console)."""
    other = FakeTransport(platform="other", command_prefix="!", capabilities=NO_ANONYMOUS)
    plain = FakeTransport(platform="plain", capabilities=TEXT_ONLY)
    admins = ("fake:admin", "other:admin", "plain:admin")
    harness = await BotHarness.create(sqlite_url, admins=admins, more=(other, plain))
    harness.app.services.clock = Clock()
    yield harness
    await harness.close()


@pytest.fixture(autouse=True)
def fixed_clock(request: pytest.FixtureRequest) -> None:
    """Every test runs at START, a Monday morning."""
    if "bot" in request.fixturenames:
        request.getfixturevalue("bot").app.services.clock = Clock()


# --- /poll ---------------------------------------------------------------------------------


async def test_a_lead_starts_a_poll_in_the_linked_group(bot: BotHarness) -> None:
    group = await setup_ag(bot)

    replies = await group.say("anna", WANN)

    sent, spec = last_poll(bot.transport)
    assert sent.chat == group.ref
    assert spec.question == "Wann treffen wir uns?"
    assert spec.options == ("Di 18 Uhr", "Mi 19 Uhr", "Do 17 Uhr")
    assert (spec.multi, spec.anonymous) == (False, False)
    assert replies == [
        f"Umfrage {spec.poll_id} läuft in 1 Chat: Ag2-Gruppe (Fake).\n"
        f"Ergebnis: /results {spec.poll_id} · Beenden: /close {spec.poll_id}"
    ]
    assert spec.fallback.plain.splitlines() == [
        f"Umfrage {spec.poll_id}:",
        "Wann treffen wir uns?",
        "1. Di 18 Uhr",
        "2. Mi 19 Uhr",
        "3. Do 17 Uhr",
        f"Abstimmen: /vote {spec.poll_id} 1 (Nummer der Antwort).",
    ]
    poll = await poll_row(bot, spec.poll_id)
    assert poll.closed_at is None and poll.closes_at is None


async def test_short_ids_are_short_unambiguous_and_unique(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    ids = {await start_poll(group, "anna", '/poll "F?" "A" "B"') for _ in range(25)}

    assert len(ids) == 25
    for short_id in ids:
        assert len(short_id) == 4 and short_id[0].isalpha()
        assert not set(short_id) & set("01ilo")


async def test_a_poll_goes_to_every_chat_of_the_ag_native_or_as_text(
    two_networks: BotHarness,
) -> None:
    bot = two_networks
    other = bot.transports["other"]
    await setup_ag(
        bot,
        groups=(bot.group("tg"), bot.group("room", platform="other"), bot.group("c", "plain")),
    )

    replies = await bot.dm("anna").say("anna", WANN + " --multi --ag ag2")

    [(fake_sent, spec)] = bot.transport.polls
    [(other_sent, other_spec)] = other.polls
    assert fake_sent.chat.id == "tg" and other_sent.chat.id == "room"
    assert spec.multi and other_spec.multi
    # Each network's text names its own prefix.
    assert "/vote" in spec.fallback.plain and "!vote" in other_spec.fallback.plain
    text_poll = bot.group("c", "plain").last()
    assert text_poll.splitlines()[1:4] == ["Wann treffen wir uns?", "1. Di 18 Uhr", "2. Mi 19 Uhr"]
    assert f"/vote {spec.poll_id} 1,3" in text_poll
    assert replies[0].startswith(f"Umfrage {spec.poll_id} läuft in 3 Chats: Tg (Fake), ")


async def test_an_anonymous_poll_is_native_only_where_the_network_hides_voters(
    two_networks: BotHarness,
) -> None:
    bot = two_networks
    other = bot.transports["other"]
    group = await setup_ag(bot, groups=(bot.group("tg"), bot.group("room", platform="other")))

    await group.say("anna", WANN + " --anonymous")

    [(_, spec)] = bot.transport.polls
    assert spec.anonymous
    assert other.polls == [], "a native poll there would show every vote to the room"
    text_poll = bot.group("room", "other").last()
    assert (
        f"Anonym: schreib mir deine Antwort bitte im privaten Chat, z. B. !vote {spec.poll_id} 1."
        in text_poll
    )


async def test_a_deadline_is_shown_and_stored(bot: BotHarness) -> None:
    group = await setup_ag(bot)

    short_id = await start_poll(group, "anna", WANN + " --until 05.12.2026 18:00")

    poll = await poll_row(bot, short_id)
    assert poll.closes_at is not None
    assert poll.closes_at.strftime("%Y-%m-%d %H:%M") == "2026-12-05 17:00"  # UTC
    _, spec = last_poll(bot.transport)
    assert spec.fallback.plain.endswith("Läuft bis Samstag, 5. Dezember 2026, 18:00 Uhr.")


@pytest.mark.parametrize(
    ("flag", "hours"), [("--for 3d", 72), ("—for 12h", 12), ("--für 2 Tage", 48)]
)
async def test_a_duration_sets_the_deadline(bot: BotHarness, flag: str, hours: int) -> None:
    group = await setup_ag(bot)

    short_id = await start_poll(group, "anna", f"{WANN} {flag}")

    poll = await poll_row(bot, short_id)
    assert poll.closes_at is not None
    assert (poll.closes_at.replace(tzinfo=START.tzinfo) - START).total_seconds() == hours * 3600


async def test_german_quotes_and_html_stay_plain_text(bot: BotHarness) -> None:
    group = await setup_ag(bot)

    await group.say("anna", "/poll „Was ist <b>besser</b>?“ „A & B“ „C\u200b“")

    _, spec = last_poll(bot.transport)
    assert spec.question == "Was ist <b>besser</b>?"
    assert spec.options == ("A & B", "C")


async def test_a_poll_from_a_private_chat_needs_the_ag(bot: BotHarness) -> None:
    await setup_ag(bot)

    assert await bot.dm("anna").say("anna", WANN) == [
        'Für welche AG? Gib sie mit --ag an, z. B. /poll "Frage?" "Ja" "Nein" --ag ag2.'
    ]
    assert bot.transport.polls == []


@pytest.mark.parametrize("who", ["ben", "zoe"])
async def test_a_member_or_a_stranger_cannot_start_a_poll(bot: BotHarness, who: str) -> None:
    group = await setup_ag(bot)

    assert await group.say(who, WANN) == [
        f"Umfragen starten dürfen nur die Leitung der AG „{AG2}“ und Admins."
    ]
    assert bot.transport.polls == []


async def test_a_lead_of_another_ag_cannot_poll_this_one(bot: BotHarness) -> None:
    await setup_ag(bot)
    await setup_ag(bot, lead="dora", members=(), slug="ag1")

    assert await bot.dm("dora").say("dora", WANN + " --ag ag2") == [
        f"Umfragen starten dürfen nur die Leitung der AG „{AG2}“ und Admins."
    ]


async def test_an_admin_may_poll_any_ag(bot: BotHarness) -> None:
    await setup_ag(bot)

    await bot.dm("admin").say("admin", WANN + " --ag ag2")

    assert len(bot.transport.polls) == 1


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (
            '/poll "F?" ' + " ".join(f'"{i}"' for i in range(13)),
            "Das sind 13 Antworten; Telegram erlaubt höchstens 12.",
        ),
        (
            '/poll "' + "x" * 301 + '" "A" "B"',
            "Die Frage ist 301 Zeichen lang; erlaubt sind höchstens 300.",
        ),
        (
            '/poll "F?" "A" "' + "y" * 101 + '"',
            "Antwort 2 ist 101 Zeichen lang; erlaubt sind höchstens 100.",
        ),
        (
            '/poll "F?" "Ja" "Nein" "ja"',
            "Antwort 3 ist dieselbe wie Antwort 1: „ja“. Jede Antwort nur einmal, bitte.",
        ),
        (
            '/poll "F?" "Nur eine"',
            "Eine Umfrage braucht mindestens 2 Antworten. "
            "Beispiel: /poll Wann treffen wir uns? Di 18 Uhr, Mi 19 Uhr",
        ),
        ('/poll "F?" "A" "  "', "Antwort 2 ist leer."),
        (
            '/poll "F?" "A" "B" --geheim',
            "Die Angabe --geheim kenne ich nicht. Möglich sind --multi --anonymous --until --for --ag.",
        ),
        (
            '/poll "F?" "A" "B" --for bald',
            "Die Dauer „bald“ verstehe ich nicht. Beispiele: --for 3d, --for 12h, --for 2 Tage.",
        ),
        (
            '/poll "F?" "A" "B" --for 1d --until 05.12.2026 18:00',
            "Bitte nur eins: --until oder --for.",
        ),
    ],
    ids=[
        "13 options",
        "301-char question",
        "101-char option",
        "duplicate",
        "one option",
        "empty option",
        "unknown flag",
        "bad duration",
        "two deadlines",
    ],
)
async def test_limits_and_mistakes_are_refused_before_sending(
    bot: BotHarness, text: str, answer: str
) -> None:
    group = await setup_ag(bot)

    assert await group.say("anna", text) == [answer]
    assert bot.transport.polls == []


async def test_exactly_the_limits_are_accepted(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    options = " ".join(f'"{i:02d}' + "o" * 98 + '"' for i in range(12))

    await group.say("anna", '/poll "' + "q" * 300 + '" ' + options)

    _, spec = last_poll(bot.transport)
    assert len(spec.question) == 300 and len(spec.options) == 12
    assert {len(o) for o in spec.options} == {100}


async def test_a_deadline_in_the_past_is_refused(bot: BotHarness) -> None:
    group = await setup_ag(bot)

    [answer] = await group.say("anna", WANN + " --until 01.11.2026 18:00")

    assert "vorbei" in answer or "Vergangenheit" in answer, answer
    assert bot.transport.polls == []


# --- /polls --------------------------------------------------------------------------------


async def test_polls_lists_open_polls_first(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    old = await start_poll(group, "anna", '/poll "Alt?" "A" "B"')
    await group.say("anna", f"/close {old}")
    new = await start_poll(group, "anna", '/poll "Neu?" "A" "B" --for 2d')

    [listing] = await bot.dm("ben").say("ben", "/polls")

    assert listing.splitlines() == [
        "Umfragen:",
        f"• {new} – Neu? – ag2 – läuft bis Mi 02.12. 10:00",
        f"• {old} – Alt? – ag2 – beendet",
        "Ergebnis: /results <Umfrage>",
    ]


async def test_polls_without_any(bot: BotHarness) -> None:
    assert await bot.dm("ben").say("ben", "/polls") == [
        'Deine AGs haben noch keine Umfragen. Die Leitung startet eine mit /poll "Frage?" "A" "B".'
    ]


# --- /close --------------------------------------------------------------------------------


async def test_close_ends_the_poll_everywhere_and_posts_the_result_once(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    short_id = await start_poll(group, "anna", WANN)
    sent, _ = last_poll(bot.transport)
    await native_vote(bot, sent.native_id or "", "ben", 1)

    replies = await group.say("anna", f"/close {short_id}")

    [(closed, result)] = bot.transport.closed_polls
    assert closed.native_id == sent.native_id
    assert result.plain.startswith(f"Endergebnis: Wann treffen wir uns? ({short_id})")
    assert replies == [result.plain], "the final result is the answer in the poll's own chat"
    assert [f.filename for f in bot.transport.files] == [f"umfrage-{short_id}.png"]
    assert (await poll_row(bot, short_id)).closed_at is not None

    assert await group.say("anna", f"/close {short_id}") == [
        f"Die Umfrage {short_id} ist schon beendet."
    ]
    assert len(bot.transport.closed_polls) == 1


async def test_close_from_a_private_chat_answers_with_the_result(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    short_id = await start_poll(group, "anna", WANN)

    await bot.dm("anna").say("anna", f"/close {short_id}")

    assert bot.dm("anna").last().startswith(f"Endergebnis: Wann treffen wir uns? ({short_id})")
    assert group.last().startswith("Endergebnis:")


async def test_another_lead_of_the_same_ag_may_close(bot: BotHarness) -> None:
    group = await setup_ag(bot)
    await bot.dm("admin").say("admin", "/lead ag2 @carl")
    short_id = await start_poll(group, "anna", WANN)

    await group.say("carl", f"/close {short_id}")

    assert (await poll_row(bot, short_id)).closed_at is not None


@pytest.mark.parametrize("who", ["ben", "dora"])
async def test_a_member_or_another_ags_lead_cannot_close_someone_elses_poll(
    bot: BotHarness, who: str
) -> None:
    group = await setup_ag(bot)
    await setup_ag(bot, lead="dora", members=(), slug="ag1")
    short_id = await start_poll(group, "anna", WANN)

    assert await bot.dm(who).say(who, f"/close {short_id}") == [
        f"Das dürfen nur die Leitung der AG „{AG2}“ und Admins."
    ]
    assert (await poll_row(bot, short_id)).closed_at is None
    assert bot.transport.closed_polls == []


async def test_close_of_an_unknown_poll(bot: BotHarness) -> None:
    await setup_ag(bot)

    assert await bot.dm("anna").say("anna", "/close zzzz") == [
        "Eine Umfrage „zzzz“ kenne ich nicht. /polls zeigt die Umfragen deiner AGs."
    ]


async def test_help_shows_poll_commands_to_leads_only(bot: BotHarness, tmp_path: Path) -> None:
    group = await setup_ag(bot)

    assert group  # the AG with its lead and member
    # A lead's help may come in two messages (the network's length); a member's in one.
    lead_help = "\n".join(await bot.dm("anna").say("anna", "/help"))
    [member_help] = await bot.dm("ben").say("ben", "/help")

    assert "/poll " in lead_help and "/close Umfrage –" in lead_help
    assert "/poll " not in member_help and "/close" not in member_help
    assert "/vote Umfrage und Nummer –" in member_help and "/results [Umfrage]" in member_help
