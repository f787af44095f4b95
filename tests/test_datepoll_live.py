"""Answering a Terminumfrage live (issue 15): the summary in the AG's chats carries a row
of answer buttons per date, a press answers like `/termin` and gets a toast of the
presser's own answers, and the summary is edited after every answer, at most once per
poll every few seconds (the first at once, later ones coalesced, nothing lost, not even
across a restart). The fake network opts into edits; the timers run on the test's clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from bot.core import ButtonPress, Capabilities
from handlers.datepoll.live import EDIT_EVERY, JOB
from storage.datepoll import polls
from tests.support.fake import BotHarness, Edit, FakeTransport, button_rows
from tests.support.meetings import START, Ag2, ag2_with_lead

DATES = "Di 1.12. 19 Uhr; Mi 2.12. 18:30; Do 3.12. 19-21 Uhr"  # the clock: Sat 28.11.2026
HEAD = "📅 Terminumfrage {sid}: Plenum (AG Transparenz und Beteiligung)"
HOW = "Oder tippe unten je Termin: ✅ ja · ❔ wenn nötig · ❌ nein."


@pytest.fixture
async def live(sqlite_url: str) -> AsyncIterator[Ag2]:
    harness = await BotHarness.create(sqlite_url, transport=FakeTransport().with_edits())
    ag2 = await ag2_with_lead(harness)
    harness.app.services.timers.start()  # edits are timer jobs, on the test's clock
    yield ag2
    await harness.app.services.timers.stop()
    await harness.close()


async def start(ag2: Ag2, extra: str = "") -> str:
    replies = await ag2.anna.say("anna", f'/terminumfrage ag2 "Plenum" {DATES}{extra}')
    return replies[0].split()[2].rstrip(":")


async def press(ag2: Ag2, who: str, data: str) -> str | None:
    presser = ag2.bot.user(who)
    return await ag2.bot.app.dispatcher.button_pressed(ButtonPress(ag2.group.ref, presser, data))


def edits(ag2: Ag2) -> list[Edit]:
    return [e for e in ag2.bot.transport.edits if e.sent.chat.id == ag2.group.ref.id]


async def poll_id(ag2: Ag2, sid: str) -> int:
    async with ag2.bot.app.services.db.read() as session:
        poll = await polls.by_short_id(session, sid)
    assert poll is not None
    return poll.id


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Until the timers (real APScheduler, on the test's clock) did their work."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (the timers' task sets no event of ours)
            await asyncio.sleep(0.01)


async def test_the_groups_summary_has_a_row_of_buttons_per_date(live: Ag2) -> None:
    sid = await start(live)
    assert live.in_group()[-1].endswith(
        "\nAntworten: /termin " + sid + f" 1 ja 2 nein 3 wenn nötig\n{HOW}"
    )
    chat, buttons = live.bot.transport.buttons[-1]
    assert chat == live.group.ref
    assert button_rows(buttons) == [
        ["1 ✅ 0", "❔ 0", "❌ 0"],
        ["2 ✅ 0", "❔ 0", "❌ 0"],
        ["3 ✅ 0", "❔ 0", "❌ 0"],
    ]
    assert [b.data for b in buttons[:3]] == [f"dp:{sid}:1:y", f"dp:{sid}:1:m", f"dp:{sid}:1:n"]
    assert [b.emoji for b in buttons[:3]] == ["1️⃣", None, None]
    assert max(len(b.data.encode()) for b in buttons) <= 64


async def test_a_press_answers_toasts_and_edits_the_summary_at_once(live: Ag2) -> None:
    sid = await start(live)
    assert await press(live, "ben", f"dp:{sid}:2:m") == "Gespeichert: 1 – · 2 wenn nötig · 3 –"
    await until(lambda: len(edits(live)) == 1)
    assert await press(live, "ben", f"dp:{sid}:1:y") is not None  # within the interval
    await asyncio.sleep(0.2)
    [edit] = edits(live)
    assert edit.text.split("\n") == [
        HEAD.format(sid=sid),
        "2. Mi 02.12. 18:30–19:30 – ja 0 · wenn nötig 1 · nein 0 · offen 1",
        "1. Di 01.12. 19:00–20:00 – ja 0 · wenn nötig 0 · nein 0 · offen 2",
        "3. Do 03.12. 19:00–21:00 – ja 0 · wenn nötig 0 · nein 0 · offen 2",
        "Noch keine Antwort: @anna",
        f"Antworten: /termin {sid} 1 ja 2 nein 3 wenn nötig",
        HOW,
    ]
    assert edit.rows == [
        ["1 ✅ 0", "❔ 0", "❌ 0"],
        ["2 ✅ 0", "❔ 1", "❌ 0"],
        ["3 ✅ 0", "❔ 0", "❌ 0"],
    ]
    # The press counts like a typed answer.
    [shown] = await live.ben.say("ben", f"/termin {sid}")
    assert "1. Di 01.12. 19:00–20:00 – ja 1 · wenn nötig 0 · nein 0 · offen 1" in shown
    assert await press(live, "ben", f"dp:{sid}:3:n") == "Gespeichert: 1 ja · 2 wenn nötig · 3 nein"


async def test_refusals_come_back_as_toasts(live: Ag2) -> None:
    sid = await start(live, " --bis Montag 12 Uhr")
    assert await press(live, "carl", f"dp:{sid}:1:y") == (
        "Antworten dürfen nur Mitglieder der AG Transparenz und Beteiligung. Beitreten: /join ag2"
    )
    assert await press(live, "ben", "dp:zz99:1:y") == "Eine Terminumfrage zz99 kenne ich nicht."
    assert await press(live, "ben", f"dp:{sid}:9:y") is None  # no such date: nothing
    assert await press(live, "ben", f"dp:{sid}:1") is None  # not ours
    assert edits(live) == []
    live.clock.advance(days=2, hours=2)  # Monday 12:00 in Berlin has passed
    assert await press(live, "ben", f"dp:{sid}:1:y") == (
        f"Die Terminumfrage {sid} nimmt keine Antworten mehr an."
    )
    # The deadline's job made the summary's last edit: no buttons, no hint.
    await until(lambda: len(edits(live)) == 1)
    [last] = edits(live)
    assert last.buttons == ()
    assert HOW not in last.text


async def test_an_english_group_gets_english_toasts_and_edits(live: Ag2) -> None:
    """A group is answered in its language (`/lang en` there), toasts too."""
    await live.group.say("admin", "/lang en")
    sid = await start(live)
    assert live.in_group()[-1].endswith("\nOr tap below, per date: ✅ yes · ❔ if need be · ❌ no.")
    assert await press(live, "ben", f"dp:{sid}:1:n") == "Saved: 1 no · 2 – · 3 –"
    await until(lambda: len(edits(live)) == 1)
    [edit] = edits(live)
    assert edit.text.split("\n")[1] == (
        "1. Tue 1 Dec 19:00–20:00 – yes 0 · if need be 0 · no 1 · open 1"
    )


async def test_answers_within_the_interval_are_coalesced_into_one_edit(live: Ag2) -> None:
    sid = await start(live)
    pid = await poll_id(live, sid)
    timers = live.bot.app.services.timers

    await live.ben.say("ben", f"/termin {sid} 1 ja")  # a typed answer: edited at once
    await until(lambda: len(edits(live)) == 1)
    assert timers.due(f"{JOB}{pid}") == START + EDIT_EVERY
    live.clock.advance(seconds=1)
    await press(live, "anna", f"dp:{sid}:2:y")
    live.clock.advance(seconds=1)
    await live.ben.say("ben", f"/termin {sid} 3 nein")
    await asyncio.sleep(0.2)
    assert len(edits(live)) == 1, "edited again within the interval"

    live.clock.advance(seconds=3)  # the interval is over: one edit with both answers
    await until(lambda: len(edits(live)) == 2)
    assert edits(live)[1].rows == [
        ["1 ✅ 1", "❔ 0", "❌ 0"],
        ["2 ✅ 1", "❔ 0", "❌ 0"],
        ["3 ✅ 0", "❔ 0", "❌ 1"],
    ]
    # That edit began the next interval: an answer in it waits for its end.
    live.clock.advance(seconds=1)
    await press(live, "anna", f"dp:{sid}:1:y")
    await asyncio.sleep(0.2)
    assert len(edits(live)) == 2
    live.clock.advance(seconds=4)
    await until(lambda: len(edits(live)) == 3)
    assert edits(live)[2].rows[0] == ["1 ✅ 2", "❔ 0", "❌ 0"]

    # A quiet interval ends without an edit; the next answer is shown at once again.
    live.clock.advance(seconds=30)
    await until(lambda: timers.ids(JOB) == [])  # the quiet interval's end ran
    assert len(edits(live)) == 3
    await press(live, "anna", f"dp:{sid}:3:m")
    await until(lambda: len(edits(live)) == 4)
    # An answer that changes nothing edits nothing.
    live.clock.advance(seconds=30)
    await press(live, "anna", f"dp:{sid}:3:m")
    await asyncio.sleep(0.2)
    assert len(edits(live)) == 4


async def test_an_edit_still_due_at_a_restart_is_made_at_the_start(database_url: str) -> None:
    """On SQLite and PostgreSQL: the start finds the summary older than the newest answer."""
    first = await BotHarness.create(database_url, transport=FakeTransport().with_edits())
    live = await ag2_with_lead(first)
    first.app.services.timers.start()
    try:
        sid = await start(live)
        await press(live, "ben", f"dp:{sid}:1:y")  # edited at once
        await until(lambda: len(edits(live)) == 1)
        live.clock.advance(seconds=1)
        await press(live, "anna", f"dp:{sid}:1:n")  # coalesced; the bot stops before its edit
    finally:
        await first.app.services.timers.stop()
        await first.close()
    assert len(edits(live)) == 1

    again = await BotHarness.create(database_url, transport=FakeTransport().with_edits())
    try:
        again.app.services.clock = live.clock
        for hook in again.app.services.registry.start_hooks:
            await hook(again.app.services)
        [edit] = again.transport.edits
        assert edit.sent.chat.id == live.group.ref.id
        assert edit.rows[0] == ["1 ✅ 1", "❔ 0", "❌ 1"]
        # Up to date now: a further start edits nothing.
        for hook in again.app.services.registry.start_hooks:
            await hook(again.app.services)
        assert len(again.transport.edits) == 1
    finally:
        await again.close()


async def test_where_buttons_are_reactions_the_keycaps_mean_ja(sqlite_url: str) -> None:
    """A network like Matrix: only "ja" can be a reaction; the text says the rest."""
    room = FakeTransport(
        platform="room",
        command_prefix="!",
        capabilities=Capabilities(html=True, buttons=True, reactions=True, edits=True),
    )
    harness = await BotHarness.create(sqlite_url, admins=("fake:admin", "room:admin"), more=(room,))
    try:
        ag2 = await ag2_with_lead(harness)
        harness.app.services.timers.start()
        await harness.group("raum", "room").say("admin", "!link ag2")
        sid = await start(ag2)
        [(chat, buttons)] = room.buttons
        assert [(b.label, b.emoji, b.data) for b in buttons] == [
            ("1️⃣", "1️⃣", f"dp:{sid}:1:y"),
            ("2️⃣", "2️⃣", f"dp:{sid}:2:y"),
            ("3️⃣", "3️⃣", f"dp:{sid}:3:y"),
        ]
        assert room.sent[-1].text.endswith(
            f"\nAntworten: !termin {sid} 1 ja 2 nein 3 wenn nötig\n"
            "Mit einer Reaktion 1️⃣…3️⃣ sagst du „ja“ zu diesem Termin; „wenn nötig“ und "
            f"„nein“ per Befehl, z. B. !termin {sid} 2 wenn nötig"
        )
        reaction = ButtonPress(chat, harness.user("ben", "room"), f"dp:{sid}:2:y")
        await harness.dm("ben", "room").say("ben", "!join ag2")
        assert await harness.app.dispatcher.button_pressed(reaction) == (
            "Gespeichert: 1 – · 2 ja · 3 –"
        )
        await until(lambda: len(room.edits) == 1)
        [edit] = room.edits
        # ben on this network is a person of his own until he connects his accounts.
        assert "2. Mi 02.12. 18:30–19:30 – ja 1 · wenn nötig 0 · nein 0 · offen 2" in edit.text
        assert [b.label for b in edit.buttons] == ["1️⃣", "2️⃣", "3️⃣"]
    finally:
        await harness.app.services.timers.stop()
        await harness.close()


async def test_more_than_ten_dates_and_a_long_toast(live: Ag2) -> None:
    days = "; ".join(f"{day}.12. 19 Uhr" for day in range(1, 16))
    replies = await live.anna.say("anna", f'/terminumfrage ag2 "Viele" {days}')
    sid = replies[0].split()[2].rstrip(":")
    _chat, buttons = live.bot.transport.buttons[-1]
    assert len(buttons) == 45
    assert [b.emoji for b in buttons if b.emoji] == [
        "1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟"
    ]  # fmt: skip
    assert buttons[-3].label == "15 ✅ 0"
    await live.ben.say("ben", f"/termin {sid} alle wenn nötig")
    toast = await press(live, "ben", f"dp:{sid}:15:y")
    assert toast == "Gespeichert: " + " · ".join([f"{n} ❔" for n in range(1, 15)] + ["15 ✅"])


async def test_started_in_the_group_its_reply_is_the_summary_kept_current(live: Ag2) -> None:
    replies = await live.group.say("anna", f'/terminumfrage ag2 "Plenum" {DATES}')
    sid = replies[0].split()[2].rstrip(":")
    assert replies[0].endswith(HOW)
    assert replies[1:] == [f"Festlegen, wenn die Antworten da sind: /festlegen {sid} <Nummer>"]
    [(chat, _)] = live.bot.transport.buttons
    assert chat == live.group.ref
    summary_id = next(
        str(n) for n, sent in enumerate(live.bot.transport.sent, start=1) if sent.text == replies[0]
    )
    await press(live, "ben", f"dp:{sid}:3:y")
    await until(lambda: len(edits(live)) == 1)
    assert edits(live)[0].sent.message_id == summary_id


async def test_the_pick_marks_the_date_in_the_summaries_and_drops_their_buttons(
    live: Ag2,
) -> None:
    sid = await start(live)
    await live.ben.say("ben", f"/termin {sid} 2 ja")
    await until(lambda: len(edits(live)) == 1)
    live.clock.advance(seconds=30)  # past the quiet interval
    await live.anna.say("anna", f"/festlegen {sid} 2")
    await until(lambda: len(edits(live)) == 2)
    last = edits(live)[-1]
    assert last.rows == []
    assert "✅ 2. Mi 02.12. 18:30–19:30 – ja 1" in last.text
    assert "Antworten:" not in last.text


async def test_an_answer_stored_while_an_edit_is_on_its_way_is_edited_after_a_restart(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edit shows the poll as it was read; an answer stored meanwhile is newer than
    the summary, even though the edit finished after it. A crash before the next edit:
    the start edits the summary again."""
    first = await BotHarness.create(sqlite_url, transport=FakeTransport().with_edits())
    live = await ag2_with_lead(first)
    first.app.services.timers.start()
    real_edit = first.transport.edit
    release = asyncio.Event()

    async def slow_edit(*args: object, **kwargs: object) -> None:
        await release.wait()
        await real_edit(*args, **kwargs)  # type: ignore[arg-type]

    try:
        sid = await start(live)
        monkeypatch.setattr(first.transport, "edit", slow_edit)
        await press(live, "ben", f"dp:{sid}:1:y")  # its edit starts and waits
        await asyncio.sleep(0.1)
        live.clock.advance(seconds=1)
        await press(live, "anna", f"dp:{sid}:1:n")  # stored while the edit is on its way
        release.set()
        await until(lambda: len(edits(live)) == 1)
        await asyncio.sleep(0.1)  # the edit is recorded
    finally:
        await first.app.services.timers.stop()
        await first.close()
    assert edits(live)[0].rows[0] == ["1 ✅ 1", "❔ 0", "❌ 0"]  # without Anna's answer

    again = await BotHarness.create(sqlite_url, transport=FakeTransport().with_edits())
    try:
        again.app.services.clock = live.clock
        for hook in again.app.services.registry.start_hooks:
            await hook(again.app.services)
        [edit] = again.transport.edits
        assert edit.rows[0] == ["1 ✅ 1", "❔ 0", "❌ 1"]
    finally:
        await again.close()
