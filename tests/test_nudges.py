"""Nudges (issue 15): before a poll's or Terminumfrage's deadline the members who have
not answered and turned private messages on get one private reminder; `/erinnern` does
the same by hand; the lead hears once when everyone has answered, and when a
Terminumfrage's deadline has passed. Restarts: tests/test_nudges_restart.py."""

from __future__ import annotations

from datetime import timedelta

from handlers.nudges.schedule import deadline_due, nudge_due
from storage.datepoll import polls as datepolls
from storage.polls import polls
from tests.support.fake import BotHarness
from tests.support.meetings import START, Ag2, ag2_with_lead

AG = "Transparenz und Beteiligung"
DATES = "Di 1.12. 19 Uhr; Mi 2.12. 18:30; Do 3.12. 19-21 Uhr"  # the clock: Sat 28.11.2026
DEADLINE = " --bis 30.11. 18 Uhr"  # 17:00 UTC: the nudge is due on 29.11. at 17:00 UTC
NUDGE_AT = START.replace(day=29, hour=17)


async def with_members(bot: BotHarness) -> Ag2:
    """Anna leads AG 2; Ben, Carl and Dora are members; Ben and Carl get private messages."""
    ag2 = await ag2_with_lead(bot)
    for who in ("carl", "dora"):
        await bot.dm(who).say(who, "/join ag2")
    for who in ("ben", "carl"):
        await bot.dm(who).say(who, "/remind on")
    return ag2


class Inbox:
    """What the bot wrote to people's private chats since it was made."""

    def __init__(self, bot: BotHarness) -> None:
        self.bot = bot
        self.start = len(bot.transport.sent)

    def of(self, who: str) -> list[str]:
        return [s.text for s in self.bot.transport.sent[self.start :] if s.chat.id == f"dm-{who}"]

    def people(self) -> list[str]:
        sent = self.bot.transport.sent[self.start :]
        return sorted({s.chat.id.removeprefix("dm-") for s in sent if s.chat.is_direct})


async def start_datepoll(ag2: Ag2, extra: str = DEADLINE) -> tuple[str, int]:
    replies = await ag2.anna.say("anna", f'/terminumfrage ag2 "Plenum im Januar" {DATES}{extra}')
    sid = replies[0].split("\n")[0].split()[2].rstrip(":")
    async with ag2.bot.app.services.db.read() as session:
        poll = await datepolls.by_short_id(session, sid)
    assert poll is not None
    return sid, poll.id


async def start_poll(ag2: Ag2, options: str = "--for 3d") -> tuple[str, int]:
    replies = await ag2.group.say("anna", f'/poll "Wann Plenum?" "Di" "Mi" {options}')
    sid = replies[-1].split()[1]
    async with ag2.bot.app.services.db.read() as session:
        poll = await polls.poll_by_short_id(session, sid)
    assert poll is not None
    return sid, poll.id


def datepoll_nudge(sid: str) -> str:
    return "\n".join(
        [
            f"🔔 Die Terminumfrage {sid} der AG {AG} läuft bis Montag, 30. November 2026, "
            "18:00 Uhr, und deine Antwort fehlt noch:",
            "Plenum im Januar",
            "1. Di 01.12. 19:00–20:00",
            "2. Mi 02.12. 18:30–19:30",
            "3. Do 03.12. 19:00–21:00",
            f"Antworten: /termin {sid} 1 ja 2 nein 3 wenn nötig (ja, wenn nötig oder nein je Termin)",
        ]
    )


async def test_a_due_nudge_reaches_exactly_the_silent_members_with_private_messages_on(
    bot: BotHarness,
) -> None:
    ag2 = await with_members(bot)
    sid, poll_id = await start_datepoll(ag2)
    services = bot.app.services
    assert services.timers.due(f"nudge:datepoll:{poll_id}") == NUDGE_AT
    await bot.dm("carl").say("carl", f"/termin {sid} 1 ja")  # Carl answered: no nudge
    inbox = Inbox(bot)
    await nudge_due(services, "datepoll", poll_id)  # too early: nothing
    assert inbox.people() == []
    ag2.clock.advance(days=1, hours=7)  # 29.11. 17:00 UTC
    await nudge_due(services, "datepoll", poll_id)
    # Anna and Dora have not answered either, but get no private messages.
    assert inbox.people() == ["ben"]
    assert inbox.of("ben") == [datepoll_nudge(sid)]
    await nudge_due(services, "datepoll", poll_id)  # a second run: nobody twice
    assert inbox.of("ben") == [datepoll_nudge(sid)]


async def test_a_member_who_answered_after_the_nudge_was_written_is_skipped(
    bot: BotHarness,
) -> None:
    from handlers.nudges import sender
    from storage.notices import rows
    from storage.notices.models import Notice, NoticeKind, NoticeStatus, subject_of

    ag2 = await with_members(bot)
    sid, poll_id = await start_poll(ag2)
    services = bot.app.services
    ben = await person(bot, "ben")
    [notice_id] = await services.db.run(
        lambda s: rows.want(s, NoticeKind.NUDGE, subject_of("poll", poll_id), [ben])
    )
    await bot.dm("ben").say("ben", f"/vote {sid} 2")  # meanwhile
    inbox = Inbox(bot)
    assert await sender.deliver(services, notice_id) == NoticeStatus.SKIPPED
    assert inbox.people() == []
    async with services.db.read() as session:
        row = await session.get(Notice, notice_id)
        assert row is not None and row.status == "skipped"


async def person(bot: BotHarness, who: str) -> int:
    from storage import repo

    async with bot.app.services.db.read() as session:
        account = await repo.find_account(session, "fake", who)
    assert account is not None
    return account.person_id


async def test_erinnern_by_hand_twice_reaches_only_those_not_nudged_before(
    bot: BotHarness,
) -> None:
    ag2 = await with_members(bot)
    sid, _ = await start_poll(ag2, "")  # no deadline: only by hand
    bot.transport.unreachable.add("carl")  # never opened the private chat on this network
    inbox = Inbox(bot)
    assert (await ag2.group.say("anna", f"/erinnern {sid}"))[-1:] == [
        "1 Person habe ich privat erinnert.\n"
        "1 Person ist privat nicht erreichbar (hat den privaten Chat mit mir nie geöffnet).\n"
        "2 Personen ohne Antwort bekommen keine privaten Nachrichten (/remind on)."
    ]
    assert inbox.of("ben") == [
        f"🔔 Die Umfrage {sid} der AG {AG} wartet noch auf deine Antwort:\n"
        "Wann Plenum?\n1. Di\n2. Mi\n"
        f"Abstimmen: /vote {sid} 1 (Nummer der Antwort), hier oder im Chat der AG."
    ]
    await bot.dm("dora").say("dora", "/remind on")  # Dora wants them now
    inbox = Inbox(bot)
    assert (await ag2.anna.say("anna", f"/nudge {sid}"))[-1:] == [
        "1 Person habe ich privat erinnert.\n"
        "2 Personen waren schon vorher erinnert worden.\n"
        "1 Person ohne Antwort bekommt keine privaten Nachrichten (/remind on)."
    ]
    assert inbox.people() == ["anna", "dora"]  # Anna: only the answer to her command
    assert len(inbox.of("dora")) == 1


async def test_everyone_answered_tells_the_lead_once(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)  # Anna (lead) and Ben
    sid, _ = await start_poll(ag2)
    inbox = Inbox(bot)
    await bot.dm("ben").say("ben", f"/vote {sid} 1")
    assert inbox.of("anna") == []
    await bot.dm("anna").say("anna", f"/vote {sid} 2")
    told = (
        f"✅ Alle 2 Mitglieder der AG {AG} haben bei der Umfrage {sid} abgestimmt: Wann Plenum?\n"
        f"Ergebnis: /results {sid} · Beenden: /close {sid}"
    )
    assert inbox.of("anna").count(told) == 1
    await bot.dm("ben").say("ben", f"/vote {sid} 2")  # a changed vote: not again
    assert inbox.of("anna").count(told) == 1


async def test_everyone_answered_in_the_native_poll_tells_the_lead(bot: BotHarness) -> None:
    from tests.support.poll_chat import last_poll, native_vote

    ag2 = await ag2_with_lead(bot)
    sid, _ = await start_poll(ag2)
    sent, _ = last_poll(bot.transport)
    assert sent.native_id is not None
    inbox = Inbox(bot)
    await native_vote(bot, sent.native_id, "ben", 0)
    assert inbox.people() == []
    await native_vote(bot, sent.native_id, "anna", 1)
    assert inbox.of("anna") == [
        f"✅ Alle 2 Mitglieder der AG {AG} haben bei der Umfrage {sid} abgestimmt: Wann Plenum?\n"
        f"Ergebnis: /results {sid} · Beenden: /close {sid}"
    ]


async def test_everyone_answered_a_datepoll_and_its_deadline_tell_the_lead_once(
    bot: BotHarness,
) -> None:
    ag2 = await ag2_with_lead(bot)
    sid, poll_id = await start_datepoll(ag2)
    services = bot.app.services
    assert services.timers.due(f"deadline:datepoll:{poll_id}") == START.replace(day=30, hour=17)
    inbox = Inbox(bot)
    await ag2.ben.say("ben", f"/termin {sid} 1 nein 2 ja 3 wenn nötig")
    await ag2.anna.say("anna", f"/termin {sid} 2 ja 3 ja")
    best = "Bester Termin: 2. Mi 02.12. 18:30–19:30 (ja 2 · wenn nötig 0 · nein 0)"
    assert inbox.of("anna")[-1] == (
        f"✅ Alle 2 Mitglieder der AG {AG} haben bei der Terminumfrage {sid} geantwortet: "
        f"Plenum im Januar\n{best}\nFestlegen: /festlegen {sid} 2"
    )
    inbox = Inbox(bot)
    await deadline_due(services, poll_id)  # too early
    assert inbox.people() == []
    ag2.clock.advance(days=2, hours=7)  # 30.11. 17:00 UTC
    await deadline_due(services, poll_id)
    closed = (
        f"⏰ Die Antwortfrist der Terminumfrage {sid} ist vorbei: Plenum im Januar (AG {AG})\n"
        f"2 Personen haben geantwortet.\n{best}\nFestlegen: /festlegen {sid} 2"
    )
    assert inbox.of("anna") == [closed]
    await deadline_due(services, poll_id)
    assert inbox.of("anna") == [closed]
    assert inbox.people() == ["anna"]
    assert services.timers.ids("deadline:") == []


async def test_ag_nudge_sets_moves_and_switches_off_the_nudge(bot: BotHarness) -> None:
    ag2 = await with_members(bot)
    _, poll_id = await start_datepoll(ag2)
    timers = bot.app.services.timers
    job = f"nudge:datepoll:{poll_id}"
    assert await ag2.anna.say("anna", "/ag nudge ag2") == [
        f"Wer in der AG {AG} noch nicht geantwortet hat und private Nachrichten bekommt, "
        "wird 1 Tag vor der Frist (Standard) erinnert."
    ]
    assert await ag2.anna.say("anna", "/ag nudge ag2 12h") == [
        f"Wer in der AG {AG} noch nicht geantwortet hat und private Nachrichten bekommt, "
        "wird 12 Stunden vor der Frist erinnert."
    ]
    assert timers.due(job) == START.replace(day=30, hour=5)
    info = await ag2.anna.say("anna", "/ag info ag2")
    assert "Private Erinnerung an offene Umfragen: 12 Stunden vor der Frist" in info[0]
    assert await ag2.anna.say("anna", "/ag nudge ag2 aus") == [
        f"Automatische Erinnerungen vor Fristen in der AG {AG}: aus. "
        "Von Hand geht es weiter mit /erinnern <id>."
    ]
    assert timers.due(job) is None
    assert await ag2.anna.say("anna", "/ag nudge ag2 bald") == [
        "„bald“ verstehe ich nicht als Dauer. Schreib z. B. 1d, 2h, 30m, 1h30m."
    ]
    assert await ag2.anna.say("anna", "/ag nudge ag2 standard") == [
        f"Wer in der AG {AG} noch nicht geantwortet hat und private Nachrichten bekommt, "
        "wird 1 Tag vor der Frist (Standard) erinnert."
    ]
    assert timers.due(job) == NUDGE_AT
    assert (await ag2.ben.say("ben", "/ag nudge ag2 1h"))[0].startswith("Das dürfen nur")


async def test_a_poll_shorter_than_the_nudge_interval_gets_no_automatic_nudge(
    bot: BotHarness,
) -> None:
    ag2 = await with_members(bot)
    _, poll_id = await start_poll(ag2, "--for 12h")
    assert bot.app.services.timers.due(f"nudge:poll:{poll_id}") is None
    _, longer = await start_poll(ag2, "--for 2d")
    assert bot.app.services.timers.due(f"nudge:poll:{longer}") == START + timedelta(days=1)


async def test_no_nudges_for_anonymous_native_polls_and_clear_answers_to_bad_input(
    bot: BotHarness,
) -> None:
    ag2 = await with_members(bot)
    sid, poll_id = await start_poll(ag2, "--anonymous --for 3d")
    assert bot.app.services.timers.due(f"nudge:poll:{poll_id}") is None
    assert await ag2.anna.say("anna", f"/erinnern {sid}") == [
        "Bei dieser anonymen Umfrage sieht niemand, wer schon abgestimmt hat, auch ich nicht. "
        "Darum erinnere ich niemanden einzeln."
    ]
    assert await ag2.anna.say("anna", "/erinnern an") == [
        "Private Erinnerungen schaltest du mit /remind an an oder aus. "
        "/erinnern erinnert an eine Umfrage, z. B. /erinnern k3f7."
    ]
    assert await ag2.anna.say("anna", "/erinnern zzzz") == [
        "Eine Umfrage oder Terminumfrage zzzz kenne ich nicht. Die offenen zeigt /polls."
    ]
    closed, _ = await start_poll(ag2, "")
    await ag2.anna.say("anna", f"/close {closed}")
    assert await ag2.anna.say("anna", f"/erinnern {closed}") == [
        f"{closed} nimmt keine Antworten mehr an; erinnern lohnt nicht."
    ]
    assert (await ag2.ben.say("ben", f"/erinnern {closed}"))[0].startswith("Das dürfen nur")


async def test_anonymous_polls_answered_through_the_bot_are_nudged_without_voters(
    sqlite_url: str,
) -> None:
    """Where the network has no anonymous polls (Matrix), an anonymous poll is answered
    privately with /vote under a keyed hash: enough to leave out who has answered."""
    from bot.core import Capabilities
    from tests.support.fake import FakeTransport

    plain = FakeTransport(capabilities=Capabilities(html=True, native_polls=True))
    bot = await BotHarness.create(sqlite_url, transport=plain)
    try:
        ag2 = await with_members(bot)
        sid, poll_id = await start_poll(ag2, "--anonymous --for 3d")
        assert bot.app.services.timers.due(f"nudge:poll:{poll_id}") == START + timedelta(days=2)
        await bot.dm("ben").say("ben", f"/vote {sid} 1")
        inbox = Inbox(bot)
        assert (await ag2.anna.say("anna", f"/erinnern {sid}"))[-1] == (
            "1 Person habe ich privat erinnert.\n"
            "2 Personen ohne Antwort bekommen keine privaten Nachrichten (/remind on)."
        )
        assert inbox.people() == ["anna", "carl"]
        assert inbox.of("carl")[0].endswith("Anonym: niemand erfährt, wer wie abgestimmt hat.")
    finally:
        await bot.close()


async def test_a_nudge_reads_in_the_members_language(bot: BotHarness) -> None:
    ag2 = await with_members(bot)
    await bot.dm("ben").say("ben", "/lang en")
    sid, poll_id = await start_datepoll(ag2)
    ag2.clock.set(NUDGE_AT)
    inbox = Inbox(bot)
    await nudge_due(bot.app.services, "datepoll", poll_id)
    assert inbox.of("ben") == [
        f"🔔 The date poll {sid} of the AG {AG} runs until Monday, 30 November 2026, 18:00, "
        "and your answer is still missing:\n"
        "Plenum im Januar\n"
        "1. Tue 1 Dec 19:00–20:00\n2. Wed 2 Dec 18:30–19:30\n3. Thu 3 Dec 19:00–21:00\n"
        f"Answer: /termin {sid} 1 yes 2 no 3 maybe (yes, if need be or no per date)"
    ]
