"""One person on two networks: `/connect`, `/connect CODE`, `/disconnect`, and the merge
of two people who both already have memberships, votes and RSVPs."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import ButtonPress
from storage.connect.merge import PERSON_COLUMNS
from storage.meeting_models import Reminder, ReminderDelivery, ReminderPreference, Rsvp
from storage.models import Account, Base, Membership, Person
from storage.poll_models import PollBallot, SurveyRun
from tests.support.fake import BotHarness, Chat, FakeTransport
from tests.support.poll_chat import Clock, counts_of, setup_ag, start_poll
from tests.support.storage_models import import_all

CODE = re.compile(r"(?:Dein Code|Your code): (\S+)")


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[BotHarness]:
    """The fake network and "other", with a clock the test moves."""
    harness = await BotHarness.create(database_url, more=(FakeTransport(platform="other"),))
    harness.app.services.clock = Clock()
    yield harness
    await harness.close()


def clock(bot: BotHarness) -> Clock:
    tick = bot.app.services.clock
    assert isinstance(tick, Clock)
    return tick


async def get_code(chat: Chat, who: str) -> str:
    replies = await chat.say(who, "/connect")
    found = CODE.search(replies[-1])
    assert found, replies
    return found.group(1)


async def link(bot: BotHarness, who: str = "anna") -> list[str]:
    """`who` on the fake network asks for a code, types it on "other" and confirms."""
    code = await get_code(bot.dm(who), who)
    return await redeem(bot.dm(who, "other"), who, code)


async def redeem(chat: Chat, who: str, code: str) -> list[str]:
    """Type the code, and if a summary comes back, confirm it."""
    replies = await chat.say(who, f"/connect {code}")
    if not replies[-1].endswith(f"/connect {code} JA."):
        return replies
    return await chat.say(who, f"/connect {code} JA")


async def person_of(bot: BotHarness, platform: str, who: str) -> int:
    async with bot.app.services.db.read() as session:
        person = await session.scalar(
            select(Account.person_id).where(
                Account.platform == platform, Account.external_id == who
            )
        )
    assert person is not None
    return person


# --- codes ---------------------------------------------------------------------------------


async def test_a_code_links_two_accounts(two: BotHarness) -> None:
    replies = await link(two)
    assert replies[-1].startswith(
        "Verbunden mit Anna (@anna, Fake)! Deine Konten gehören jetzt zu einer Person"
    )
    assert await person_of(two, "fake", "anna") == await person_of(two, "other", "anna")


async def test_the_code_is_shown_with_the_other_networks_command(two: BotHarness) -> None:
    replies = await two.dm("anna").say("anna", "/connect")
    code = CODE.search(replies[0])
    assert code and re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code.group(1))
    assert f"/connect {code.group(1)}" in replies[0]
    assert "10 Minuten" in replies[0]


async def test_only_a_hash_of_the_code_is_stored(two: BotHarness) -> None:
    from storage.connect.models import ConnectCode

    code = await get_code(two.dm("anna"), "anna")
    async with two.app.services.db.read() as session:
        rows = list(await session.scalars(select(ConnectCode)))
    assert len(rows) == 1
    assert code.replace("-", "") not in rows[0].code_hash
    assert len(rows[0].code_hash) == 64


async def test_a_code_expires_after_ten_minutes(two: BotHarness) -> None:
    code = await get_code(two.dm("anna"), "anna")
    clock(two).advance(minutes=10, seconds=1)
    replies = await two.dm("anna", "other").say("anna", f"/connect {code}")
    assert replies == [
        "Dieser Code ist abgelaufen (er gilt 10 Minuten). Hol dir auf dem anderen Netzwerk "
        "mit /connect einen neuen."
    ]
    assert await person_of(two, "fake", "anna") != await person_of(two, "other", "anna")


async def test_a_code_is_valid_just_before_ten_minutes(two: BotHarness) -> None:
    code = await get_code(two.dm("anna"), "anna")
    clock(two).advance(minutes=9, seconds=59)
    replies = await redeem(two.dm("anna", "other"), "anna", code.lower())
    assert replies[0].startswith("Verbunden mit")


async def test_a_code_works_once(two: BotHarness) -> None:
    code = await get_code(two.dm("anna"), "anna")
    assert (await redeem(two.dm("anna", "other"), "anna", code))[0].startswith("Verbunden mit")
    assert await two.dm("mallory", "other").say("mallory", f"/connect {code}") == [
        "Dieser Code wurde schon benutzt. Hol dir auf dem anderen Netzwerk mit /connect "
        "einen neuen."
    ]
    assert await person_of(two, "other", "mallory") != await person_of(two, "fake", "anna")


async def test_a_new_code_replaces_the_earlier_one(two: BotHarness) -> None:
    first = await get_code(two.dm("anna"), "anna")
    await get_code(two.dm("anna"), "anna")
    replies = await two.dm("anna", "other").say("anna", f"/connect {first}")
    assert replies[0].startswith("Diesen Code kenne ich nicht.")


async def test_a_code_must_be_used_on_the_other_network(two: BotHarness) -> None:
    code = await get_code(two.dm("anna"), "anna")
    assert await two.dm("ben").say("ben", f"/connect {code}") == [
        "Diesen Code musst du auf dem anderen Netzwerk eingeben, nicht hier."
    ]
    assert await two.dm("anna").say("anna", f"/connect {code}") == [
        "Diesen Code musst du auf dem anderen Netzwerk eingeben, nicht hier."
    ]
    # Not used up by the attempt: it still works on the other network.
    replies = await redeem(two.dm("anna", "other"), "anna", code)
    assert replies[0].startswith("Verbunden mit")


async def test_linking_to_oneself(two: BotHarness) -> None:
    await link(two)
    code = await get_code(two.dm("anna", "other"), "anna")
    assert await two.dm("anna").say("anna", f"/connect {code}") == [
        "Diese beiden Konten sind schon miteinander verbunden."
    ]


async def test_one_account_per_network(two: BotHarness) -> None:
    await link(two, "anna")
    code = await get_code(two.dm("ben"), "ben")
    assert await two.dm("anna", "other").say("anna", f"/connect {code}") == [
        "Eines der Konten ist schon mit einem Konto auf demselben Netzwerk verbunden. "
        "Trenne es zuerst mit /disconnect."
    ]


async def test_a_wrong_code(two: BotHarness) -> None:
    assert await two.dm("anna", "other").say("anna", "/connect ABCD-EFGH") == [
        "Diesen Code kenne ich nicht. Hol dir auf dem anderen Netzwerk mit /connect einen neuen."
    ]


async def test_guessing_stops_after_five_wrong_codes(two: BotHarness) -> None:
    eve = two.dm("eve", "other")
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"):
        [reply] = await eve.say("eve", f"/connect {guess}")
        assert reply.startswith("Diesen Code kenne ich nicht.")
    code = await get_code(two.dm("anna"), "anna")
    too_many = ["Zu viele falsche Codes. Versuch es in einer Stunde wieder, mit einem neuen Code."]
    assert await eve.say("eve", f"/connect {code}") == too_many
    assert await eve.say("eve", f"/connect {code} JA") == too_many
    assert await person_of(two, "other", "eve") != await person_of(two, "fake", "anna")
    # Someone else is not held up, and after an hour eve may try again.
    assert (await two.dm("ben", "other").say("ben", "/connect FFFF-FFFF"))[0].startswith(
        "Diesen Code kenne ich nicht."
    )
    clock(two).advance(hours=1)
    code = await get_code(two.dm("anna"), "anna")
    assert (await eve.say("eve", f"/connect {code}"))[0].startswith("Willst du dieses Konto")


async def test_connect_and_disconnect_only_in_a_private_chat(two: BotHarness) -> None:
    group = two.group("ag2-gruppe")
    assert await group.say("anna", "/connect") == [
        "/connect funktioniert nur im privaten Chat mit mir."
    ]
    assert await group.say("anna", "/disconnect") == [
        "/disconnect funktioniert nur im privaten Chat mit mir."
    ]
    code = await get_code(two.dm("anna"), "anna")
    assert await two.group("raum", "other").say("anna", f"/connect {code}") == [
        "/connect funktioniert nur im privaten Chat mit mir."
    ]


# --- a code hands over nothing without the confirmation of whoever types it ---------------


async def victim_and_mallory(bot: BotHarness) -> str:
    """Vera leads AG 2 on the fake network and has a card; Mallory, a member of AG 1 on
    "other", asks for a code. Returns Mallory's code."""
    await setup_ag(bot, lead="vera")
    await bot.dm("vera").say("vera", "/card name Vera Victim")
    await bot.dm("mallory", "other").say("mallory", "/join ag1")
    return await get_code(bot.dm("mallory", "other"), "mallory")


def told(bot: BotHarness, platform: str, who: str) -> list[str]:
    """What the bot sent to `who`'s private chat on `platform`."""
    return [s.text for s in bot.transports[platform].sent if s.chat.id == f"dm-{who}"]


async def test_a_typed_code_shows_whom_it_joins_and_links_nothing(two: BotHarness) -> None:
    """Issue 11.4: the victim types Mallory's code; Mallory gets nothing of hers."""
    code = await victim_and_mallory(two)
    [summary] = await two.dm("vera").say("vera", f"/connect {code}")
    assert summary.startswith("Willst du dieses Konto mit Mallory (@mallory, Other) verbinden?")
    assert (
        "• Mallory (@mallory, Other) bringt mit: AGs: ag1 (Mitglied); Visitenkarte: nein" in summary
    )
    assert "• Dieses Konto bringt mit: AGs: ag2 (Leitung); Visitenkarte: ja" in summary
    assert "Mallory (@mallory, Other) bekommt alle deine AGs und Rollen (auch Leitungen)" in summary
    assert summary.endswith(f"Bestätige innerhalb von 10 Minuten mit /connect {code} JA.")

    mallory = two.dm("mallory", "other")
    assert "ag2" not in (await mallory.say("mallory", "/my"))[0]
    assert "Vera Victim" not in (await mallory.say("mallory", "/card"))[0]
    [refused] = await mallory.say("mallory", '/poll "Frage?" "Ja" "Nein" --ag ag2')
    assert "dürfen nur" in refused
    await mallory.say("mallory", "/forget")
    await mallory.say("mallory", "/forget JA")

    assert await person_of(two, "fake", "vera")
    assert (
        "Transparenz und Beteiligung (ag2) – Leitung"
        in (await two.dm("vera").say("vera", "/my"))[0]
    )
    assert "Vera Victim" in (await two.dm("vera").say("vera", "/card"))[0]
    assert told(two, "other", "mallory")[-1].startswith("Erledigt")  # nothing else told


async def test_confirming_links_and_both_are_told(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    vera = two.dm("vera")
    await vera.say("vera", f"/connect {code}")
    [linked] = await vera.say("vera", f"/connect {code} JA")
    assert linked.startswith("Verbunden mit Mallory (@mallory, Other)! Deine Konten gehören jetzt")
    assert told(two, "other", "mallory")[-1] == (
        "Vera (@vera, Fake) ist jetzt mit dir verbunden: AGs, Rollen, Stimmen und Visitenkarte "
        "gehören jetzt zu einer Person. Warst du das nicht, trenne die Verbindung mit "
        "/disconnect."
    )
    assert await person_of(two, "fake", "vera") == await person_of(two, "other", "mallory")
    assert "(ag2) – Leitung" in (await two.dm("mallory", "other").say("mallory", "/my"))[0]


async def test_the_issuer_is_told_in_its_own_language(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("mallory", "other").say("mallory", "/lang en")
    await redeem(two.dm("vera"), "vera", code)
    assert told(two, "other", "mallory")[-1].startswith("Vera (@vera, Fake) is now linked with you")


async def test_confirming_straight_away_only_shows_the_summary(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    [reply] = await two.dm("vera").say("vera", f"/connect {code} JA")
    assert reply.startswith("Willst du dieses Konto mit Mallory (@mallory, Other) verbinden?")
    assert await person_of(two, "fake", "vera") != await person_of(two, "other", "mallory")


async def test_only_the_account_shown_the_summary_may_confirm(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("vera").say("vera", f"/connect {code}")
    for say in (f"/connect {code}", f"/connect {code} JA"):
        assert await two.dm("eve").say("eve", say) == [
            "Dieser Code wurde schon benutzt. Hol dir auf dem anderen Netzwerk mit /connect "
            "einen neuen."
        ]
    assert await person_of(two, "fake", "eve") != await person_of(two, "other", "mallory")
    # Vera may still confirm.
    assert (await two.dm("vera").say("vera", f"/connect {code} ja"))[0].startswith("Verbunden")


async def test_the_summary_has_a_button_that_confirms(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("vera").say("vera", f"/connect {code}")
    chat, buttons = two.transports["fake"].buttons[-1]
    assert chat == two.dm("vera").ref
    assert [(b.label, b.data) for b in buttons] == [
        ("Ja, verbinden", f"connect:{code.replace('-', '')}")
    ]
    dispatcher = two.app.dispatcher
    # Pressed in a group (or by someone else) it does nothing.
    press = ButtonPress(two.group("g").ref, two.user("vera"), buttons[0].data, "cb-1")
    assert await dispatcher.button_pressed(press) is None
    eve = ButtonPress(two.dm("eve").ref, two.user("eve"), buttons[0].data, "cb-2")
    await dispatcher.button_pressed(eve)
    assert await person_of(two, "fake", "vera") != await person_of(two, "other", "mallory")
    assert await person_of(two, "fake", "eve") != await person_of(two, "other", "mallory")

    before = len(two.transports["fake"].sent)
    press = ButtonPress(two.dm("vera").ref, two.user("vera"), buttons[0].data, "cb-3")
    await dispatcher.button_pressed(press)
    assert (
        two.transports["fake"]
        .sent[before]
        .text.startswith("Verbunden mit Mallory (@mallory, Other)!")
    )
    assert await person_of(two, "fake", "vera") == await person_of(two, "other", "mallory")


async def test_the_confirmation_expires(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    clock(two).advance(minutes=9)
    await two.dm("vera").say("vera", f"/connect {code}")
    clock(two).advance(minutes=5)
    # Showing the summary again does not keep the code alive.
    assert (await two.dm("vera").say("vera", f"/connect {code}"))[0].startswith("Willst du")
    clock(two).advance(minutes=4, seconds=59)  # 10 minutes from the first summary
    await two.dm("vera").say("vera", "/my")
    clock(two).advance(seconds=2)
    assert await two.dm("vera").say("vera", f"/connect {code} JA") == [
        "Dieser Code ist abgelaufen (er gilt 10 Minuten). Hol dir auf dem anderen Netzwerk "
        "mit /connect einen neuen."
    ]
    assert await person_of(two, "fake", "vera") != await person_of(two, "other", "mallory")


async def test_a_confirmation_must_say_yes(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("vera").say("vera", f"/connect {code}")
    assert await two.dm("vera").say("vera", f"/connect {code} vielleicht") == [
        f"Zum Bestätigen schreib /connect {code} JA."
    ]
    assert await person_of(two, "fake", "vera") != await person_of(two, "other", "mallory")


async def test_disconnect_gives_each_account_back_what_it_brought(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await two.dm("mallory", "other").say("mallory", "/join ag2")  # a member where Vera leads
    await redeem(two.dm("vera"), "vera", code)
    vera, mallory = two.dm("vera"), two.dm("mallory", "other")
    assert "(ag2) – Leitung" in (await mallory.say("mallory", "/my"))[0]

    [reply] = await vera.say("vera", "/disconnect")
    assert reply.startswith("Getrennt. Dieses Konto steht jetzt für sich allein")
    assert told(two, "other", "mallory")[-1] == (
        "Vera (@vera, Fake) ist nicht mehr mit dir verbunden und hat die AGs, Rollen und die "
        "Visitenkarte mitgenommen, die es mitgebracht hatte."
    )
    mine = (await vera.say("vera", "/my"))[0]
    assert "(ag2) – Leitung" in mine and "ag1" not in mine
    assert "Vera Victim" in (await vera.say("vera", "/card"))[0]
    theirs = (await mallory.say("mallory", "/my"))[0]
    assert "(ag2) – Mitglied" in theirs and "(ag1) – Mitglied" in theirs
    assert "Vera Victim" not in (await mallory.say("mallory", "/card"))[0]
    [refused] = await mallory.say("mallory", '/poll "Frage?" "Ja" "Nein" --ag ag2')
    assert "dürfen nur" in refused


async def test_the_issuer_disconnecting_takes_only_its_own(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await redeem(two.dm("vera"), "vera", code)
    mallory = two.dm("mallory", "other")
    await mallory.say("mallory", "/disconnect")
    theirs = (await mallory.say("mallory", "/my"))[0]
    assert "(ag1) – Mitglied" in theirs and "ag2" not in theirs
    assert "Vera Victim" not in (await mallory.say("mallory", "/card"))[0]
    mine = (await two.dm("vera").say("vera", "/my"))[0]
    assert "(ag2) – Leitung" in mine and "ag1" not in mine
    assert "Vera Victim" in (await two.dm("vera").say("vera", "/card"))[0]


async def test_a_role_lost_after_the_link_is_not_given_back(two: BotHarness) -> None:
    code = await victim_and_mallory(two)
    await redeem(two.dm("vera"), "vera", code)
    await two.dm("admin").say("admin", "/unlead ag2 @vera")
    await two.dm("vera").say("vera", "/disconnect")
    assert "(ag2) – Mitglied" in (await two.dm("vera").say("vera", "/my"))[0]


async def test_forget_after_a_confirmed_link_leaves_no_connect_rows(two: BotHarness) -> None:
    """With Vera's confirmation Mallory's /forget deletes both accounts, as the summary
    said; what the link noted (shares, wrong codes, codes) goes with the accounts."""
    from storage.connect.models import ConnectCode, ConnectMiss, ConnectShare

    code = await victim_and_mallory(two)
    await two.dm("vera").say("vera", "/connect ZZZZ-ZZZZ")  # a wrong code is noted
    await redeem(two.dm("vera"), "vera", code)
    await get_code(two.dm("vera"), "vera")
    async with two.app.services.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(ConnectShare))
        assert await session.scalar(select(func.count()).select_from(ConnectMiss))
    mallory = two.dm("mallory", "other")
    await mallory.say("mallory", "/forget")
    assert (await mallory.say("mallory", "/forget JA"))[0].startswith("Erledigt")
    async with two.app.services.db.read() as session:
        for model in (ConnectShare, ConnectMiss, ConnectCode, Account):
            rows = await session.scalar(select(func.count()).select_from(model))
            assert rows == 0 or model is Account, model
        names = set(await session.scalars(select(Account.external_id)))
    assert not names & {"vera", "mallory"}


# --- merging two people --------------------------------------------------------------------


async def test_merge_keeps_the_stronger_role_and_the_most_recent_vote_and_rsvp(
    two: BotHarness,
) -> None:
    group = await setup_ag(two)  # anna leads AG 2 on the fake network
    other = two.dm("anna", "other")
    await other.say("anna", "/join ag2")
    await other.say("anna", "/join ag1")
    await other.say("anna", "/remind on")
    short_id = await start_poll(group, "anna", '/poll "Wann?" "Di" "Mi" "Do"')
    await two.dm("anna").say("anna", f"/vote {short_id} 1")
    await two.dm("ben").say("ben", f"/vote {short_id} 1")
    clock(two).advance(minutes=1)
    await other.say("anna", f"/vote {short_id} 3")  # the most recent vote
    assert await counts_of(two, short_id) == [2, 0, 1]
    await two.dm("anna").say("anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen")
    await two.dm("anna").say("anna", "/rsvp m1 ja")
    await other.say("anna", "/rsvp m1 nein")
    kept = await person_of(two, "fake", "anna")
    absorbed = await person_of(two, "other", "anna")

    assert (await link(two))[0].startswith("Verbunden mit")

    async with two.app.services.db.read() as session:
        roles = {
            m.ag_id: m.role
            for m in await session.scalars(select(Membership).where(Membership.person_id == kept))
        }
        ballots = list(
            await session.scalars(select(PollBallot).where(PollBallot.person_id == kept))
        )
        rsvps = list(await session.scalars(select(Rsvp).where(Rsvp.person_id == kept)))
        preference = await session.get(ReminderPreference, kept)
        gone = await session.get(Person, absorbed)
        leftovers = await session.scalar(select(Membership).where(Membership.person_id == absorbed))
    assert sorted(roles.values()) == ["lead", "member"]
    assert len(ballots) == 1 and ballots[0].platform == "other"
    assert [r.answer for r in rsvps] == ["no"]
    assert preference is not None and preference.direct
    assert gone is None and leftovers is None
    assert await counts_of(two, short_id) == [1, 0, 1]

    fake_my = await two.dm("anna").say("anna", "/my")
    other_my = await other.say("anna", "/my")
    assert fake_my == other_my
    assert "Transparenz und Beteiligung (ag2) – Leitung" in fake_my[0]
    assert "(ag1) – Mitglied" in fake_my[0]

    # One person, one vote: a vote from either network replaces the merged one.
    await two.dm("anna").say("anna", f"/vote {short_id} 2")
    assert await counts_of(two, short_id) == [1, 1, 0]


async def test_the_kept_vote_wins_when_it_is_the_most_recent(two: BotHarness) -> None:
    group = await setup_ag(two)
    other = two.dm("anna", "other")
    await other.say("anna", "/join ag2")
    short_id = await start_poll(group, "anna", '/poll "Wann?" "Di" "Mi" "Do"')
    await other.say("anna", f"/vote {short_id} 3")
    clock(two).advance(minutes=1)
    await two.dm("anna").say("anna", f"/vote {short_id} 2")
    await link(two)
    assert await counts_of(two, short_id) == [0, 1, 0]


async def test_merge_moves_anonymous_votes_to_the_merged_person(two: BotHarness) -> None:
    # Anonymous polls as text, answered privately on both networks (a native anonymous
    # poll would take no private votes from a person with an account on its network).
    two.transport.capabilities = dataclasses.replace(
        two.transport.capabilities, anonymous_polls=False
    )
    group = await setup_ag(two)
    other = two.dm("anna", "other")
    await other.say("anna", "/join ag2")
    short_id = await start_poll(group, "anna", '/poll --anonym "Wann?" "Di" "Mi" "Do"')
    await other.say("anna", f"/vote {short_id} 3")
    await link(two)
    assert await counts_of(two, short_id) == [0, 0, 1]
    # The vote now belongs to the merged person: changing it replaces it.
    assert (await other.say("anna", f"/vote {short_id} 1"))[0].startswith(
        "Deine Stimme ist geändert"
    )
    assert await counts_of(two, short_id) == [1, 0, 0]


async def test_merge_keeps_the_survey_run_that_got_furthest(two: BotHarness) -> None:
    await get_code(two.dm("anna"), "anna")  # creates both people
    await two.dm("anna", "other").say("anna", "/connect ABCD-EFGH")
    kept = await person_of(two, "fake", "anna")
    absorbed = await person_of(two, "other", "anna")

    async def runs(session: AsyncSession) -> None:
        session.add_all([SurveyRun(person_id=kept, step=1), SurveyRun(person_id=absorbed, step=3)])

    await two.app.services.db.run(runs)
    await link(two)
    async with two.app.services.db.read() as session:
        rows = [(r.person_id, r.step) for r in await session.scalars(select(SurveyRun))]
    assert rows == [(kept, 3)]


async def test_a_reminder_under_way_reaches_the_merged_person_once(two: BotHarness) -> None:
    await setup_ag(two)
    await two.dm("anna", "other").say("anna", "/join ag2")
    await two.dm("anna").say("anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen")
    kept = await person_of(two, "fake", "anna")
    absorbed = await person_of(two, "other", "anna")

    async def deliveries(session: AsyncSession) -> None:
        reminder = await session.scalar(select(Reminder.id).limit(1))
        assert reminder is not None
        session.add_all(
            [
                ReminderDelivery(reminder_id=reminder, target=f"person:{kept}", person_id=kept),
                ReminderDelivery(
                    reminder_id=reminder, target=f"person:{absorbed}", person_id=absorbed
                ),
            ]
        )

    await two.app.services.db.run(deliveries)
    await link(two)
    async with two.app.services.db.read() as session:
        rows = sorted(
            (d.target, d.person_id, d.status)
            for d in await session.scalars(select(ReminderDelivery))
        )
    assert rows == sorted(
        [(f"person:{kept}", kept, "pending"), (f"person:{absorbed}", kept, "cancelled")]
    )


async def test_merge_keeps_the_card_changed_last(two: BotHarness) -> None:
    await two.dm("anna").say("anna", "/card name Anna Alt")
    await two.dm("anna", "other").say("anna", "/card name Anna Neu")
    await link(two)
    card = Base.metadata.tables["card"]
    async with two.app.services.db.read() as session:
        names = list(await session.scalars(select(card.c.name)))
    assert names == ["Anna Neu"]
    assert "Anna Neu" in (await two.dm("anna").say("anna", "/card"))[0]


# --- /disconnect ---------------------------------------------------------------------------


async def test_disconnect_gives_the_account_a_person_of_its_own(two: BotHarness) -> None:
    await setup_ag(two)
    await two.dm("anna").say("anna", "/language en")
    await link(two)
    other = two.dm("anna", "other")
    replies = await other.say("anna", "/disconnect")
    assert replies[0].startswith("Unlinked. This account now stands on its own"), replies
    assert await person_of(two, "fake", "anna") != await person_of(two, "other", "anna")
    assert "(ag2)" in (await two.dm("anna").say("anna", "/my"))[0]
    assert "(ag2)" not in (await other.say("anna", "/my"))[0]
    async with two.app.services.db.read() as session:
        language = await session.scalar(
            select(Person.language).where(Person.id == await person_of(two, "other", "anna"))
        )
    assert language == "en"


async def test_disconnect_without_a_link(two: BotHarness) -> None:
    assert await two.dm("anna").say("anna", "/disconnect") == [
        "Dein Konto ist mit keinem anderen verbunden."
    ]


# --- the merge knows every table -----------------------------------------------------------


def test_the_merge_handles_every_column_that_refers_to_a_person() -> None:
    """A new table with a person column must be added to storage/connect/merge.py."""
    import_all()
    found: set[tuple[str, str]] = set()
    for table in Base.metadata.tables.values():
        if table.name == "person":
            continue
        for column in table.columns:
            refers = any(fk.column.table.name == "person" for fk in column.foreign_keys)
            if refers or column.name == "person_id":
                found.add((table.name, column.name))
    assert found, "no person columns found: the models were not imported"
    missing = found - PERSON_COLUMNS
    assert not missing, f"storage/connect/merge.py does not handle {sorted(missing)}"
    assert not (PERSON_COLUMNS - found - {("card", "person_id"), ("forget_request", "person_id")})


async def test_merge_loses_nothing_and_doubles_nothing(two: BotHarness) -> None:
    """Row counts of every person table: only the doubled membership of AG 2 goes."""
    await setup_ag(two)
    await two.dm("anna", "other").say("anna", "/join ag2")
    await two.dm("anna", "other").say("anna", "/join ag1")
    absorbed = await person_of(two, "other", "anna")

    async def counts() -> dict[str, int]:
        async with two.app.services.db.read() as session:
            found: dict[str, int] = {}
            for name in sorted({table for table, _ in PERSON_COLUMNS}):
                if (table := Base.metadata.tables.get(name)) is not None:
                    found[name] = await session.scalar(select(func.count()).select_from(table)) or 0
            return found

    before = await counts()
    await link(two)
    after = await counts()
    assert after == {**before, "membership": before["membership"] - 1}
    async with two.app.services.db.read() as session:
        assert await session.get(Person, absorbed) is None
