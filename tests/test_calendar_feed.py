"""Calendar feeds over real HTTP, parsed back with `icalendar`: a series with its rule,
a moved date (RECURRENCE-ID), a cancelled date (EXDATE), a cancelled single meeting
(STATUS:CANCELLED), SEQUENCE rising with each change, the link in DESCRIPTION and URL,
no names; the "Dabei" feed; 304 on a repeat. The clock is the test's (28.11.2026)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from bot.web.server import WebServer
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead
from tests.support.web import Answer, feed_token, request, serve

BERLIN = ZoneInfo("Europe/Berlin")
SERIES = "/meeting ag2 jeden Dienstag 18 Uhr Plenum --ort Haus der Vereine, Saal 2"
FEST = "/meeting ag2 05.12.2026 14:00 Sommerfest; Grillen https://meet.example/fest"


@pytest.fixture
async def ag2(database_url: str) -> AsyncIterator[tuple[Ag2, WebServer]]:
    """On SQLite and PostgreSQL: the feed's queries differ little, but they differ."""
    bot = await BotHarness.create(database_url)
    ag2 = await ag2_with_lead(bot)
    server = await serve(bot)
    yield ag2, server
    await server.stop()
    await bot.close()


def kennung(replies: list[str]) -> str:
    found = re.search(r"Kennung: (m\d+)", replies[0])
    assert found, replies
    return found[1]


async def fetch(server: WebServer, token: str, **headers: str) -> Answer:
    return await request(server, f"/kalender/{token}.ics", headers=headers)


def events(answer: Answer) -> list[Event]:
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return list(Calendar.from_ical(answer.body).events)


def by_uid(found: list[Event]) -> dict[tuple[str, str | None], Event]:
    return {
        (str(e["UID"]), e.get("RECURRENCE-ID") and e.decoded("RECURRENCE-ID").isoformat()): e
        for e in found
    }


async def test_series_move_cancel_and_cancelled_meeting(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    first = kennung(await group.anna.say("anna", SERIES))
    fest = kennung(await group.anna.say("anna", FEST))
    token = feed_token((await group.ben.say("ben", "/kalender"))[0])

    before = events(await fetch(server, token))
    assert [(str(e["UID"]), str(e["STATUS"]), int(e["SEQUENCE"])) for e in before] == [
        ("meeting-1@bot.example.org", "CONFIRMED", 0),
        ("meeting-2@bot.example.org", "CONFIRMED", 0),
    ]
    series, single = before
    assert series.start == datetime(2026, 12, 1, 18, tzinfo=BERLIN)
    assert series["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert series["RRULE"].to_ical() == b"FREQ=WEEKLY"
    assert series.location == "Haus der Vereine, Saal 2"
    assert single.summary == "Sommerfest; Grillen"
    assert single.description == "AG Transparenz und Beteiligung\nhttps://meet.example/fest"
    assert str(single["URL"]) == "https://meet.example/fest"
    calendar = Calendar.from_ical((await fetch(server, token)).body)
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]

    second, third = f"m{int(first[1:]) + 1}", f"m{int(first[1:]) + 2}"
    await group.anna.say("anna", f"/edit {second} 09.12.2026 19:00")
    await group.anna.say("anna", f"/cancel {third}")
    await group.anna.say("anna", f"/cancel {fest}")

    after = by_uid(events(await fetch(server, token)))
    assert set(after) == {
        ("meeting-1@bot.example.org", None),
        ("meeting-1@bot.example.org", "2026-12-08T18:00:00+01:00"),
        ("meeting-2@bot.example.org", None),
    }
    master = after["meeting-1@bot.example.org", None]
    assert [d.dt for d in master["EXDATE"].dts] == [datetime(2026, 12, 15, 18, tzinfo=BERLIN)]
    assert str(master["STATUS"]) == "CONFIRMED"
    moved = after["meeting-1@bot.example.org", "2026-12-08T18:00:00+01:00"]
    assert moved.start == datetime(2026, 12, 9, 19, tzinfo=BERLIN)
    assert str(moved["STATUS"]) == "CONFIRMED"
    assert int(master["SEQUENCE"]) == int(moved["SEQUENCE"]) == 2  # moved, then cancelled
    cancelled = after["meeting-2@bot.example.org", None]
    assert (str(cancelled["STATUS"]), int(cancelled["SEQUENCE"])) == ("CANCELLED", 1)
    assert cancelled.start == datetime(2026, 12, 5, 14, tzinfo=BERLIN)


async def test_no_names_in_a_feed(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    kennung(await group.anna.say("anna", FEST))
    await group.ben.say("ben", "/rsvp m1 ja")
    await group.anna.say("anna", "/rsvp m1 ja")
    for words in ("/kalender", "/kalender ag2"):
        body = (await fetch(server, feed_token((await group.anna.say("anna", words))[0]))).body
        assert b"ATTENDEE" not in body and b"ORGANIZER" not in body
        assert not re.search(rb"anna|ben", body, re.IGNORECASE)


async def test_the_dabei_feed_has_the_dates_said_yes_to(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    first = kennung(await group.anna.say("anna", SERIES))
    fest = kennung(await group.anna.say("anna", FEST))
    second = f"m{int(first[1:]) + 1}"
    await group.ben.say("ben", f"/rsvp {second} ja")
    await group.ben.say("ben", f"/rsvp {fest} ja")
    await group.ben.say("ben", f"/rsvp {first} nein")
    token = feed_token((await group.ben.say("ben", "/kalender dabei"))[0])

    found = events(await fetch(server, token))
    assert [(e.summary, e.start, str(e["STATUS"])) for e in found] == [
        ("Sommerfest; Grillen", datetime(2026, 12, 5, 14, tzinfo=BERLIN), "CONFIRMED"),
        ("Plenum", datetime(2026, 12, 8, 18, tzinfo=BERLIN), "CONFIRMED"),
    ]
    assert "RRULE" not in found[1]
    await group.anna.say("anna", f"/cancel {fest}")
    found = events(await fetch(server, token))
    assert [(e.summary, str(e["STATUS"])) for e in found] == [
        ("Sommerfest; Grillen", "CANCELLED"),
        ("Plenum", "CONFIRMED"),
    ]
    # The same link shows all meetings again after /kalender alle.
    await group.ben.say("ben", "/kalender alle")
    assert len(events(await fetch(server, token))) == 2  # the series and the festival
    assert "RRULE" in events(await fetch(server, token))[0]


async def test_a_repeat_gets_304_until_something_changes(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    fest = kennung(await group.anna.say("anna", FEST))
    token = feed_token((await group.ben.say("ben", "/kalender"))[0])
    first = await fetch(server, token)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "private, max-age=300, must-revalidate"

    again = await fetch(server, token, **{"If-None-Match": etag})
    assert (again.status, again.body, again.headers["ETag"]) == (304, b"", etag)
    assert (await fetch(server, token, **{"If-None-Match": '"other"'})).status == 200
    assert (await fetch(server, token)).body == first.body  # the same bytes each time

    group.clock.advance(minutes=5)
    await group.anna.say("anna", f"/edit {fest} --ort Marktplatz")
    changed = await fetch(server, token, **{"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert b"LOCATION:Marktplatz" in changed.body
    assert (await fetch(server, token, **{"If-Modified-Since": modified})).status == 200


async def test_if_modified_since_alone_never_hides_a_change_without_a_time(
    ag2: tuple[Ag2, WebServer],
) -> None:
    """`/kalender dabei` changes what the link shows but no timestamp: a client that
    sends only If-Modified-Since must get the new feed, not 304."""
    group, server = ag2
    kennung(await group.anna.say("anna", FEST))
    token = feed_token((await group.ben.say("ben", "/kalender"))[0])
    first = await fetch(server, token)
    assert len(events(first)) == 1
    group.clock.advance(minutes=5)
    await group.ben.say("ben", "/kalender dabei")  # ben said nothing yet: no dates
    after = await fetch(server, token, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert after.status == 200
    assert events(after) == []
    assert after.headers["ETag"] != first.headers["ETag"]


async def test_if_modified_since_alone_sees_an_ag_joined(ag2: tuple[Ag2, WebServer]) -> None:
    """Joining an AG adds its meetings to the feed without a newer timestamp: they were
    planned before the last fetch."""
    group, server = ag2
    admin = group.bot.dm("admin")
    kennung(await admin.say("admin", "/meeting ag1 05.12.2026 14:00 Vorstand"))
    kennung(await group.anna.say("anna", FEST))
    token = feed_token((await group.ben.say("ben", "/kalender"))[0])
    first = await fetch(server, token)
    assert [e.summary for e in events(first)] == ["Sommerfest; Grillen"]
    group.clock.advance(minutes=5)
    await group.ben.say("ben", "/join ag1")
    after = await fetch(server, token, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert after.status == 200
    assert sorted(e.summary for e in events(after)) == ["Sommerfest; Grillen", "Vorstand"]


async def test_what_people_typed_is_escaped_and_folded(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    title = 'Plenum; Tagesordnung, Teil 1 \\ "Zukunft" – Übergänge im Revier ' * 3
    place = "Haus der Vereine, Saal 2; Eingang über den Hof\\Hinterhaus"
    await group.anna.say("anna", f"/meeting ag2 05.12.2026 14:00 {title.strip()} --ort {place}")
    token = feed_token((await group.ben.say("ben", "/kalender"))[0])
    answer = await fetch(server, token)
    assert all(len(line) <= 75 for line in answer.body.split(b"\r\n"))
    [event] = events(answer)
    assert event.summary == title.strip()
    assert event.location == place


async def test_a_series_cancelled_from_a_date_on_ends_there(ag2: tuple[Ag2, WebServer]) -> None:
    group, server = ag2
    first = kennung(await group.anna.say("anna", SERIES))
    token = feed_token((await group.ben.say("ben", "/kalender"))[0])
    group.clock.set(datetime(2026, 12, 9, 12, tzinfo=BERLIN))  # 1.12. and 8.12. took place
    third = f"m{int(first[1:]) + 2}"
    await group.anna.say("anna", f"/cancel {third} --serie")
    [master] = events(await fetch(server, token))
    assert str(master["STATUS"]) == "CONFIRMED"
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;UNTIL=20261208T225959Z"
    assert "EXDATE" not in master
    assert int(master["SEQUENCE"]) == 1

    # Cancelled before any date took place: the whole series is cancelled.
    second = kennung(await group.anna.say("anna", "/meeting ag2 jeden Freitag 18 Uhr Stammtisch"))
    await group.anna.say("anna", f"/cancel {second} --serie")
    stammtisch = [e for e in events(await fetch(server, token)) if e.summary == "Stammtisch"]
    assert [str(e["STATUS"]) for e in stammtisch] == ["CANCELLED"]


async def test_joining_an_ag_brings_its_meetings_and_a_new_etag(
    ag2: tuple[Ag2, WebServer],
) -> None:
    group, server = ag2
    token = feed_token((await group.ben.say("ben", "/kalender"))[0])
    etag = (await fetch(server, token)).headers["ETag"]
    admin = group.bot.dm("admin")
    await admin.say("admin", "/meeting ag1 05.12.2026 11:00 Dorfspaziergang")
    assert (await fetch(server, token, **{"If-None-Match": etag})).status == 304  # not ben's AG
    await group.ben.say("ben", "/join ag1")
    joined = await fetch(server, token, **{"If-None-Match": etag})
    assert joined.status == 200
    assert [e.summary for e in events(joined)] == ["Dorfspaziergang"]
    await group.ben.say("ben", "/leave ag1")
    assert events(await fetch(server, token)) == []
