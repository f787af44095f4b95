"""Planning meetings as a lead would in a chat: /meeting, /meetings, /cancel, /edit.

The clock is the test's (`Clock`, starting Saturday 28.11.2026 10:00 UTC): dates are
fixed and nothing waits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.rich import render_html
from tests.support.fake import BotHarness
from tests.support.meetings import (
    Ag2,
    Clock,
    ag2_with_lead,
    occurrences,
    reminders,
    statuses,
)

BERLIN = ZoneInfo("Europe/Berlin")
LEADS_ONLY = "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."


@pytest.fixture
async def ag2(bot: BotHarness) -> Ag2:
    return await ag2_with_lead(bot)


# --- /meeting ------------------------------------------------------------------------


async def test_a_lead_plans_a_meeting_and_sees_the_full_date_and_an_id(ag2: Ag2) -> None:
    [reply, announced] = await ag2.anna.say(
        "anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen https://meet.example/ag2"
    )

    assert reply.splitlines() == [
        "📅 Neues Treffen der AG Transparenz und Beteiligung: Online-Treffen",
        "Donnerstag, 3. Dezember 2026, 18:00 Uhr",
        "🔗 https://meet.example/ag2",
        "Kennung: m1",
        "Erinnerungen: 1 Tag und 1 Stunde vorher. Ändern mit /edit m1 …, absagen mit /cancel m1.",
    ]
    # The AG's group is told, with answer buttons.
    assert announced == "\n".join(reply.splitlines()[:4])
    assert ag2.in_group()[-1] == announced
    chat, buttons = ag2.bot.transport.buttons[-1]
    assert chat.id == "ag2-gruppe"
    assert [b.data for b in buttons] == ["rsvp:1:yes", "rsvp:1:no", "rsvp:1:maybe"]
    assert [b.emoji for b in buttons] == ["✅", "❌", "❓"]

    [occurrence] = await occurrences(ag2.bot)
    assert occurrence.start_at == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # 18:00 CET
    due = [(r.offset_seconds, r.due_at, r.status) for r in await reminders(ag2.bot)]
    assert due == [
        (86400, datetime(2026, 12, 2, 17, 0, tzinfo=UTC), "pending"),
        (3600, datetime(2026, 12, 3, 16, 0, tzinfo=UTC), "pending"),
    ]


async def test_in_the_linked_group_the_ag_may_be_left_out(ag2: Ag2) -> None:
    [reply] = await ag2.group.say("anna", "/meeting morgen 19 Uhr Plenum")
    assert "Sonntag, 29. November 2026, 19:00 Uhr" in reply
    assert "Kennung: m1" in reply
    # Posted once, in this group, with buttons: the reply is the announcement.
    assert ag2.bot.transport.buttons[-1][0].id == "ag2-gruppe"


async def test_english_readers_get_the_date_in_english(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/lang en")
    [reply, _group] = await ag2.anna.say("anna", "/meeting ag2 2026-12-03 6pm Plenum")
    # Dates and durations come from Babel; the sentences around them from the catalog.
    assert "Thursday, 3 December 2026, 18:00" in reply
    assert "1 day and 1 hour" in reply


async def test_a_member_may_not_plan_a_meeting(ag2: Ag2) -> None:
    assert await ag2.ben.say("ben", "/meeting ag2 03.12.2026 18:00 Plenum") == [LEADS_ONLY]
    assert await occurrences(ag2.bot) == []


async def test_a_lead_of_another_ag_may_not_plan_for_this_one(ag2: Ag2) -> None:
    await ag2.bot.dm("admin").say("admin", "/lead ag1 @ben", mentions=("ben",))
    assert await ag2.ben.say("ben", "/meeting ag2 03.12.2026 18:00 Plenum") == [LEADS_ONLY]


async def test_without_an_ag_the_bot_asks_which(ag2: Ag2) -> None:
    assert await ag2.anna.say("anna", "/meeting 03.12.2026 18:00 Plenum") == [
        "Welche AG? Schreib sie dazu, z. B. /meeting ag2 03.12.2026 18:00 Plenum."
    ]


@pytest.mark.parametrize(
    ("when", "answer"),
    [
        (
            "01.12.2025 18:00",
            "Montag, 1. Dezember 2025, 18:00 Uhr ist schon vorbei. Nimm einen Zeitpunkt in der "
            "Zukunft, z. B. morgen 18:00.",
        ),
        (
            "31.02.2027 18:00",
            "Den 31.02.2027 gibt es nicht im Kalender. Prüf bitte Tag und Monat.",
        ),
        (
            "bald",
            "„bald Plenum“ verstehe ich nicht als Datum und Uhrzeit. Das geht z. B. so: "
            "03.12.2026 18:00, morgen 19 Uhr, Di 18:00, in 2 Stunden.",
        ),
        (  # the spring gap: 02:30 does not exist on that night
            "28.03.2027 02:30",
            "Am 28.03.2027 gibt es 02:30 nicht (Zeitumstellung). Nimm z. B. 03:30.",
        ),
        ("03.12.2026", "Mir fehlt die Uhrzeit. Schreib sie dazu, z. B. 03.12.2026 18:00."),
    ],
)
async def test_a_date_that_cannot_be_used_gets_a_clear_answer(
    ag2: Ag2, when: str, answer: str
) -> None:
    assert await ag2.anna.say("anna", f"/meeting ag2 {when} Plenum") == [answer]
    assert await occurrences(ag2.bot) == []


async def test_the_autumn_repeat_hour_is_asked_about(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot, Clock(datetime(2026, 10, 1, 8, 0, tzinfo=UTC)))
    assert await ag2.anna.say("anna", "/meeting ag2 25.10.2026 02:30 Nachtwanderung") == [
        "Am 25.10.2026 gibt es 02:30 zweimal (Zeitumstellung). Schreib 02:30 MESZ für das erste "
        "oder 02:30 MEZ für das zweite Mal."
    ]
    [reply, _] = await ag2.anna.say("anna", "/meeting ag2 25.10.2026 02:30 MEZ Nachtwanderung")
    assert "Sonntag, 25. Oktober 2026, 02:30 Uhr MEZ" in reply


async def test_a_4000_character_title_is_refused(ag2: Ag2) -> None:
    assert await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 " + "Plenum " * 570) == [
        "Der Titel ist zu lang (höchstens 200 Zeichen)."
    ]
    assert await occurrences(ag2.bot) == []


async def test_html_in_a_title_stays_text(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 <b>Fett</b> & <script>x</script>")
    reply = ag2.bot.transport.sent[-2].message
    assert "Neues Treffen der AG Transparenz und Beteiligung: <b>Fett</b> & <script>x</script>" in (
        reply.plain
    )
    html = render_html(reply, lambda _: None)
    assert "<b>&lt;b&gt;Fett&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</b>" in html
    assert "<script>" not in html


async def test_place_duration_and_an_unknown_option(ag2: Ag2) -> None:
    [reply, _] = await ag2.anna.say(
        "anna", "/meeting ag2 03.12.2026 18:00 Plenum --ort Haus der Vereine, Saal 2 --dauer 2h"
    )
    assert "📍 Ort: Haus der Vereine, Saal 2" in reply
    assert await ag2.anna.say("anna", "/meeting ag2 04.12.2026 18:00 Plenum --wann") == [
        "Die Option --wann kenne ich nicht."
    ]
    # A phone's dash for "--" works as well.
    [reply, _] = await ag2.anna.say("anna", "/meeting ag2 Di 18:00 Plenum —weekly —count 3")
    assert "jede Woche, 3-mal" in reply


# --- recurrence ------------------------------------------------------------------------


async def test_a_weekly_meeting_stays_at_18_00_local_time_across_dst(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot, Clock(datetime(2026, 10, 1, 8, 0, tzinfo=UTC)))
    [reply, _] = await ag2.anna.say(
        "anna", "/meeting ag2 Di 20.10.2026 18:00 Plenum --weekly --count 4"
    )
    assert "Dienstag, 20. Oktober 2026, 18:00 Uhr, jede Woche, 4-mal" in reply

    rows = await occurrences(bot)
    assert [o.start_at.astimezone(BERLIN).strftime("%d.%m. %H:%M") for o in rows] == [
        "20.10. 18:00",
        "27.10. 18:00",
        "03.11. 18:00",
        "10.11. 18:00",
    ]
    # In UTC the clock moved: summer time before 25 October, winter time after.
    assert [o.start_at.hour for o in rows] == [16, 17, 17, 17]


async def test_one_day_before_means_the_same_local_time_across_dst(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot, Clock(datetime(2026, 10, 1, 8, 0, tzinfo=UTC)))
    await ag2.anna.say("anna", "/meeting ag2 25.10.2026 18:00 Herbstplenum")
    due = {r.offset_seconds: r.due_at.astimezone(BERLIN) for r in await reminders(bot)}
    # The clocks go back in the night before: the day before is still 18:00 there,
    # one hour before is 17:00.
    assert due[86400].strftime("%d.%m. %H:%M %Z") == "24.10. 18:00 CEST"
    assert due[3600].strftime("%d.%m. %H:%M %Z") == "25.10. 17:00 CET"


async def test_monthly_on_the_first_tuesday(ag2: Ag2) -> None:
    [reply, _] = await ag2.anna.say(
        "anna", "/meeting ag2 01.12.2026 18:00 Stammtisch --monthly 1Di"
    )
    assert "jeden 1. Dienstag im Monat" in reply
    starts = [o.start_at.astimezone(BERLIN).date().isoformat() for o in await occurrences(ag2.bot)]
    assert starts == ["2026-12-01", "2027-01-05"]  # 60 days ahead are materialised


async def test_a_monthly_rule_that_does_not_fit_the_start_is_refused(ag2: Ag2) -> None:
    [reply] = await ag2.anna.say("anna", "/meeting ag2 02.12.2026 18:00 Stammtisch --monthly 1Di")
    assert reply.startswith("Der erste Termin (Mittwoch, 2. Dezember 2026, 18:00 Uhr) passt nicht")
    assert await occurrences(ag2.bot) == []


async def test_the_horizon_moves_on(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 Di 18:00 Plenum --weekly")
    assert len(await occurrences(ag2.bot)) == 9  # 1.12. .. 26.1.
    ag2.clock.advance(days=30)
    await ag2.engine.extend_horizon()
    assert len(await occurrences(ag2.bot)) == 13
    await ag2.engine.extend_horizon()  # idempotent
    assert len(await occurrences(ag2.bot)) == 13


# --- /meetings -------------------------------------------------------------------------


async def test_members_list_the_coming_meetings(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen")
    await ag2.anna.say("anna", "/meeting ag2 Di 18:00 Plenum --every 2w --count 2")
    await ag2.ben.say("ben", "/rsvp m1 ja")

    assert await ag2.ben.say("ben", "/meetings") == [
        "Die nächsten Treffen:\n"
        "• m2 Di 01.12. 18:00 – Plenum (ag2) · alle 2 Wochen, 2-mal\n"
        "• m1 Do 03.12. 18:00 – Online-Treffen (ag2) · 1 Zusage\n"
        "• m3 Di 15.12. 18:00 – Plenum (ag2) · alle 2 Wochen, 2-mal\n"
        "Zusagen mit /rsvp m2 ja."
    ]
    assert await ag2.group.say("carla", "/meetings") == await ag2.ben.say("ben", "/meetings ag2")


async def test_meetings_of_an_ag_are_for_its_members(ag2: Ag2) -> None:
    assert await ag2.bot.dm("carla").say("carla", "/meetings ag2") == [
        "Das sehen nur Mitglieder der AG „Transparenz und Beteiligung“. "
        "Mit /join ag2 kannst du beitreten."
    ]
    assert await ag2.ben.say("ben", "/meetings ag1") == [
        "Das sehen nur Mitglieder der AG „Nachhaltige Dorfentwicklung“. "
        "Mit /join ag1 kannst du beitreten."
    ]
    assert await ag2.ben.say("ben", "/meetings ag2") == ["Keine Treffen geplant (ag2)."]
    [unknown] = await ag2.ben.say("ben", "/meetings ag9")
    assert unknown.startswith("Die AG „ag9“ kenne ich nicht.")


# --- /cancel -------------------------------------------------------------------------


async def test_a_lead_cancels_a_meeting_and_the_group_is_told(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen")
    expected = (
        "❌ Abgesagt: Online-Treffen (AG Transparenz und Beteiligung) am "
        "Donnerstag, 3. Dezember 2026, 18:00 Uhr."
    )
    assert await ag2.anna.say("anna", "/cancel m1") == [expected, expected]
    assert ag2.in_group()[-1] == expected
    assert await statuses(ag2.bot) == ["cancelled", "cancelled"]  # kept, not deleted
    assert await ag2.anna.say("anna", "/cancel m1") == ["m1 ist schon abgesagt."]
    assert await ag2.ben.say("ben", "/meetings ag2") == ["Keine Treffen geplant (ag2)."]


async def test_cancelling_a_whole_series(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 Di 18:00 Plenum --weekly")
    [reply, told] = await ag2.anna.say("anna", "/cancel m3 --all")
    assert reply == (
        "❌ Die Reihe Plenum (jede Woche) der AG Transparenz und Beteiligung ist abgesagt: "
        "keine weiteren Termine. (9 geplante Termine abgesagt.)"
    )
    assert told.startswith("❌ Die Reihe Plenum (jede Woche)")
    assert {o.status for o in await occurrences(ag2.bot)} == {"cancelled"}
    assert set(await statuses(ag2.bot)) == {"cancelled"}
    ag2.clock.advance(days=40)
    await ag2.engine.extend_horizon()  # a cancelled series grows no new dates
    assert len(await occurrences(ag2.bot)) == 9


async def test_cancelling_someone_elses_meeting_is_refused(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Plenum")
    assert await ag2.ben.say("ben", "/cancel m1") == [LEADS_ONLY]
    await ag2.bot.dm("admin").say("admin", "/lead ag1 @ben", mentions=("ben",))
    assert await ag2.ben.say("ben", "/cancel m1") == [LEADS_ONLY]  # lead, but of AG 1
    assert await statuses(ag2.bot) == ["pending", "pending"]


async def test_unknown_and_malformed_ids(ag2: Ag2) -> None:
    assert await ag2.anna.say("anna", "/cancel m77") == [
        "Ein Treffen m77 kenne ich nicht. /meetings zeigt die Kennungen."
    ]
    assert await ag2.anna.say("anna", "/cancel morgen") == [
        "„morgen“ ist keine Kennung eines Treffens (z. B. m12). /meetings zeigt sie."
    ]
    assert await ag2.anna.say("anna", "/edit 77 19:00") == [
        "Ein Treffen m77 kenne ich nicht. /meetings zeigt die Kennungen."
    ]


async def test_a_past_meeting_cannot_be_cancelled(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Plenum")
    ag2.clock.set(datetime(2026, 12, 3, 18, 0, tzinfo=UTC))
    assert await ag2.anna.say("anna", "/cancel m1") == ["m1 hat schon begonnen oder ist vorbei."]


# --- /edit ---------------------------------------------------------------------------


async def test_moving_a_meeting_reschedules_its_reminders(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Plenum")
    [reply, told] = await ag2.anna.say("anna", "/edit m1 04.12.2026 19:30")
    assert reply == (
        "Geändert: Plenum (m1), Freitag, 4. Dezember 2026, 19:30 Uhr. "
        "Die Erinnerungen kommen zur neuen Zeit."
    )
    assert told == (
        "🔁 Verschoben: Plenum (AG Transparenz und Beteiligung) ist jetzt am Freitag, "
        "4. Dezember 2026, 19:30 Uhr (statt Donnerstag, 3. Dezember 2026, 18:00 Uhr)."
    )
    rows = [
        (r.status, r.due_at.astimezone(BERLIN).strftime("%d.%m. %H:%M"))
        for r in await reminders(ag2.bot)
    ]
    assert rows == [
        ("cancelled", "02.12. 18:00"),
        ("cancelled", "03.12. 17:00"),
        ("pending", "03.12. 19:30"),
        ("pending", "04.12. 18:30"),
    ]


async def test_a_time_alone_keeps_the_day_and_a_title_alone_keeps_the_time(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Plenum")
    [reply, _told] = await ag2.anna.say("anna", "/edit m1 19:00")
    assert "Donnerstag, 3. Dezember 2026, 19:00 Uhr" in reply
    assert await ag2.anna.say("anna", "/edit m1 Plenum mit Gästen") == [
        "Geändert: Plenum mit Gästen (m1), Donnerstag, 3. Dezember 2026, 19:00 Uhr."
    ]
    assert await ag2.anna.say("anna", "/edit m1 31.02.2027 19:00") == [
        "Den 31.02.2027 gibt es nicht im Kalender. Prüf bitte Tag und Monat."
    ]


async def test_one_date_of_a_series_is_moved_alone(ag2: Ag2) -> None:
    await ag2.anna.say("anna", "/meeting ag2 Di 18:00 Plenum --weekly")
    await ag2.anna.say("anna", "/edit m2 Mi 09.12.2026 18:00")
    starts = [
        o.start_at.astimezone(BERLIN).strftime("%a %d.%m.") for o in await occurrences(ag2.bot)
    ]
    assert starts[:3] == ["Tue 01.12.", "Wed 09.12.", "Tue 15.12."]
    assert await ag2.anna.say("anna", "/edit m3 19:00 --all") == [
        "Eine ganze Reihe verschiebe ich nicht. Sag sie mit /cancel m3 --serie ab und plane sie neu."
    ]
    assert await ag2.ben.say("ben", "/edit m3 Neuer Titel") == [LEADS_ONLY]
