"""One person on two networks: `/connect`, `/connect CODE`, `/disconnect`, and the merge
of two people who both already have memberships, votes and RSVPs."""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import people_repo
from storage.meeting_models import Reminder, ReminderDelivery, ReminderPreference, Rsvp
from storage.models import Account, Base, Membership, Person
from storage.poll_models import PollBallot, SurveyRun
from tests.support.fake import BotHarness, Chat, FakeTransport
from tests.support.poll_chat import Clock, counts_of, setup_ag, start_poll

STORAGE = Path(__file__).resolve().parents[1] / "storage"
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
    """`who` on the fake network asks for a code and redeems it on "other"."""
    code = await get_code(bot.dm(who), who)
    return await bot.dm(who, "other").say(who, f"/connect {code}")


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
    assert replies[-1].startswith("Verbunden! Deine Konten gehören jetzt zu einer Person")
    assert await person_of(two, "fake", "anna") == await person_of(two, "other", "anna")


async def test_the_code_is_shown_with_the_other_networks_command(two: BotHarness) -> None:
    replies = await two.dm("anna").say("anna", "/connect")
    code = CODE.search(replies[0])
    assert code and re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code.group(1))
    assert f"/connect {code.group(1)}" in replies[0]
    assert "10 Minuten" in replies[0]


async def test_only_a_hash_of_the_code_is_stored(two: BotHarness) -> None:
    from storage.connect_models import ConnectCode

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
    replies = await two.dm("anna", "other").say("anna", f"/connect {code.lower()}")
    assert replies[0].startswith("Verbunden!")


async def test_a_code_works_once(two: BotHarness) -> None:
    code = await get_code(two.dm("anna"), "anna")
    assert (await two.dm("anna", "other").say("anna", f"/connect {code}"))[0].startswith(
        "Verbunden!"
    )
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
    replies = await two.dm("anna", "other").say("anna", f"/connect {code}")
    assert replies[0].startswith("Verbunden!")


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

    assert (await link(two))[0].startswith("Verbunden!")

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
    assert replies[0].startswith("Unlinked. This account now stands on its own."), replies
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
    """A new table with a person column must be added to people_repo.merge."""
    for path in sorted(STORAGE.glob("*models.py")):
        importlib.import_module(f"storage.{path.stem}")
    found: set[tuple[str, str]] = set()
    for table in Base.metadata.tables.values():
        if table.name == "person":
            continue
        for column in table.columns:
            refers = any(fk.column.table.name == "person" for fk in column.foreign_keys)
            if refers or column.name == "person_id":
                found.add((table.name, column.name))
    assert found, "no person columns found: the models were not imported"
    missing = found - people_repo.PERSON_COLUMNS
    assert not missing, f"people_repo.merge does not handle {sorted(missing)}"
    assert not (
        people_repo.PERSON_COLUMNS
        - found
        - {("card", "person_id"), ("forget_request", "person_id")}
    )


async def test_merge_loses_nothing_and_doubles_nothing(two: BotHarness) -> None:
    """Row counts of every person table: only the doubled membership of AG 2 goes."""
    await setup_ag(two)
    await two.dm("anna", "other").say("anna", "/join ag2")
    await two.dm("anna", "other").say("anna", "/join ag1")
    absorbed = await person_of(two, "other", "anna")

    async def counts() -> dict[str, int]:
        async with two.app.services.db.read() as session:
            found: dict[str, int] = {}
            for name in sorted({table for table, _ in people_repo.PERSON_COLUMNS}):
                if (table := Base.metadata.tables.get(name)) is not None:
                    found[name] = await session.scalar(select(func.count()).select_from(table)) or 0
            return found

    before = await counts()
    await link(two)
    after = await counts()
    assert after == {**before, "membership": before["membership"] - 1}
    async with two.app.services.db.read() as session:
        assert await session.get(Person, absorbed) is None
