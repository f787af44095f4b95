"""The merge of two people who both already have memberships, votes, RSVPs, reminders
and cards: one row of each remains, nothing is lost and nothing is doubled."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.connect.merge import PERSON_COLUMNS
from storage.meetings.models import Reminder, ReminderDelivery, ReminderPreference, Rsvp
from storage.models import Base, Membership, Person
from storage.polls.models import PollBallot, SurveyRun
from tests.support.connect import (
    clock,
    get_code,
    link,
    person_of,
    two_networks,
)
from tests.support.fake import BotHarness
from tests.support.poll_chat import counts_of, setup_ag, start_poll
from tests.support.storage_models import import_all


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[BotHarness]:
    """The fake network and "other", with a clock the test moves."""
    async with two_networks(database_url) as harness:
        yield harness


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
