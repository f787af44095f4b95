"""The leads' overview: numbers per network, new members, poll participation and meeting
attendance, for leads and admins only, and never a name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from bot.core import Capabilities
from storage import repo
from storage.meetings.models import Meeting, Occurrence, Rsvp
from storage.models import Person
from storage.polls.models import Poll, PollBallot, PollChoice, PollMessage
from tests.support.fake import BotHarness, FakeTransport
from tests.support.meetings import Clock
from tests.support.poll_chat import setup_ag, start_poll

NAMES = ("yvonne", "quirin", "xaver", "olivia")


async def test_stats_for_the_lead_without_names(sqlite_url: str) -> None:
    other = FakeTransport(
        platform="other", command_prefix="!", capabilities=Capabilities(html=True, files=True)
    )
    bot = await BotHarness.create(sqlite_url, more=(other,))
    try:
        clock = Clock()
        bot.app.services.clock = clock
        group = await setup_ag(bot, lead="yvonne", members=("quirin", "xaver"))
        await bot.dm("olivia", "other").say("olivia", "!join ag2")
        poll = await start_poll(group, "yvonne", '/poll "Wann?" "Di" "Mi"')
        await bot.dm("quirin").say("quirin", f"/vote {poll} 1")
        await bot.dm("xaver").say("xaver", f"/vote {poll} 2")
        await bot.dm("yvonne").say("yvonne", "/meeting ag2 03.12.2026 18:00 Plenum")
        await bot.dm("quirin").say("quirin", "/rsvp m1 ja")
        await bot.dm("xaver").say("xaver", "/rsvp m1 vielleicht")
        clock.set(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))

        [reply] = await bot.dm("yvonne").say("yvonne", "/stats ag2")
        assert reply.splitlines()[:5] == [
            "Zahlen zur AG Transparenz und Beteiligung",
            "4 Mitglieder",
            "• fake: 3",
            "• other: 1",
            "4 neue Mitglieder in den letzten 30 Tagen",
        ]
        assert f"• {poll} „Wann?“ (läuft): 2 Stimmen, 50 % der Mitglieder" in reply
        assert "Do 03.12. 18:00 Plenum: 1 ja, 1 vielleicht, 0 nein" in reply
        for name in NAMES:
            assert name not in reply.lower()

        # In the AG's group, for its chat's AG; and for admins.
        await group.say("yvonne", "/stats")
        assert group.last().startswith("Zahlen zur AG Transparenz und Beteiligung")
        [admin] = await bot.dm("admin").say("admin", "/statistik ag2")
        assert admin.startswith("Zahlen zur AG")
    finally:
        await bot.close()


async def test_stats_only_for_leads_and_admins(bot: BotHarness) -> None:
    await setup_ag(bot, lead="yvonne", members=("quirin",))
    assert await bot.dm("quirin").say("quirin", "/stats ag2") == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]


async def test_stats_of_an_empty_ag(bot: BotHarness) -> None:
    [reply] = await bot.dm("admin").say("admin", "/stats ag3")
    assert "0 Mitglieder" in reply
    assert "Noch keine Umfragen." in reply
    assert "Noch keine vergangenen Treffen." in reply


async def _add_polls_and_meetings(bot: BotHarness, first: int, count: int) -> None:
    """`count` polls of ag2, each with a counted ballot and a native poll's voters, and
    as many past meetings with an answer, written straight into the database."""
    now = bot.app.services.now()
    async with bot.app.services.db.write() as session:
        found = await repo.ag_by_slug(session, "ag2")
        assert found is not None
        person = Person()
        session.add(person)
        await session.flush()
        for n in range(first, first + count):
            poll = Poll(short_id=f"s{n}", ag_id=found.id, question=f"Frage {n}?")
            meeting = Meeting(
                ag_id=found.id, title=f"Treffen {n}", timezone="Europe/Berlin", start_at=now
            )
            session.add_all([poll, meeting])
            await session.flush()
            ballot = PollBallot(poll_id=poll.id, person_id=person.id, platform="fake")
            message = PollMessage(poll_id=poll.id, platform="fake", chat_id="g", native_voters=2)
            start = now - timedelta(days=n)
            occurrence = Occurrence(meeting_id=meeting.id, original_start=start, start_at=start)
            session.add_all([ballot, message, occurrence])
            await session.flush()
            session.add(PollChoice(ballot_id=ballot.id, position=0, poll_id=poll.id))
            session.add(Rsvp(occurrence_id=occurrence.id, person_id=person.id, answer="yes"))


async def _statements_of_stats(bot: BotHarness) -> tuple[int, str]:
    """How many SQL statements `/stats ag2` runs (after earlier calls warmed the caches:
    the first command of the admin makes them known, the next reads them into the cache)."""
    for _ in range(2):
        await bot.dm("admin").say("admin", "/stats ag2")
    engine = bot.app.services.db.engine.sync_engine
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        [reply] = await bot.dm("admin").say("admin", "/stats ag2")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), reply


async def test_stats_reads_a_fixed_number_of_statements(bot: BotHarness) -> None:
    """One poll and meeting or twenty: the same statements (no query per poll or meeting)."""
    await _add_polls_and_meetings(bot, 1, 1)
    few, reply = await _statements_of_stats(bot)
    assert "• s1 „Frage 1?“ (läuft): 3 Stimmen, – der Mitglieder" in reply
    assert ": 1 ja, 0 vielleicht, 0 nein" in reply
    await _add_polls_and_meetings(bot, 2, 19)
    many, reply = await _statements_of_stats(bot)
    assert "• s20 „Frage 20?“ (läuft): 3 Stimmen, – der Mitglieder" in reply
    assert reply.count(": 1 ja, 0 vielleicht, 0 nein") == 5
    assert many == few
