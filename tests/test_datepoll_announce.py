"""After `/festlegen`: the chats get the announcement and the meeting's `.ics`; the AG's
members who asked for private messages (`/remind on`) get both privately, exactly once,
also when a crash or an outage left a notice `sending`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from bot.core import SentRef
from bot.rich import AccountRef, Rich
from handlers.datepoll import notify
from storage.leases import LEASE
from storage.notices.models import Notice, NoticeKind
from tests.support.connect import link
from tests.support.fake import BotHarness, FakeTransport
from tests.support.meetings import START, Clock, KeyedTransport, ag2_with_lead
from tests.test_datepoll import start
from tests.test_datepoll_pick import rsvps

AG = "Transparenz und Beteiligung"
ANNOUNCED = (
    f"📅 Neues Treffen der AG {AG}: Plenum im Januar\n"
    "Donnerstag, 3. Dezember 2026, 19:00–21:00 Uhr\n"
    "Kennung: m1"
)
PRIVATE = "Der Termin steht fest:\n" + ANNOUNCED + "\nAntworten mit /rsvp m1 ja|nein|vielleicht"
ICS = "treffen-m1.ics"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'pick.db'}"


@pytest.fixture
async def first(db_url: str) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.create(db_url)
    yield harness
    await harness.close()


def in_chat(bot: BotHarness, chat_id: str) -> list[str]:
    return [s.text for s in bot.transport.sent if s.chat.id == chat_id]


def files_in(bot: BotHarness, chat_id: str) -> list[str]:
    return [f.filename for f in bot.transport.files if f.chat.id == chat_id]


async def notices(bot: BotHarness) -> list[str]:
    """The states of the picked date's notices (the lead's "everyone answered" is another)."""
    picked = Notice.kind == NoticeKind.PICKED.value
    async with bot.app.services.db.read() as session:
        return [
            n.status
            for n in await session.scalars(select(Notice).where(picked).order_by(Notice.id))
        ]


async def picked_id(bot: BotHarness) -> int:
    """The id of Ben's notice of the picked date."""
    async with bot.app.services.db.read() as session:
        found = await session.scalar(
            select(Notice.id).where(Notice.kind == NoticeKind.PICKED.value)
        )
    assert found is not None
    return found


async def restarted(
    db_url: str, transport: FakeTransport | None = None, clock: Clock | None = None
) -> BotHarness:
    """A new bot on the same database, started as `App.start` does its start-up steps."""
    harness = await BotHarness.create(db_url, transport=transport)
    harness.app.services.clock = clock or Clock()
    for hook in harness.app.services.registry.start_hooks:
        await hook(harness.app.services)
    return harness


async def picked(bot: BotHarness) -> str:
    """Anna (lead) and Ben with private messages on; Ben said nein to date 3, Anna ja;
    Anna picks date 3 in her private chat. The poll's id."""
    ag2 = await ag2_with_lead(bot)
    await ag2.ben.say("ben", "/remind on")
    await ag2.anna.say("anna", "/remind on")
    sid = await start(ag2)
    await ag2.ben.say("ben", f"/termin {sid} 3 nein")
    await ag2.anna.say("anna", f"/termin {sid} 3 ja")
    replies = await ag2.anna.say("anna", f"/festlegen {sid} 3")
    assert replies[0].startswith(f"Festgelegt: Termin 3 der Terminumfrage {sid}, ")
    return sid


async def test_the_chats_and_the_members_who_want_it_get_the_ics(first: BotHarness) -> None:
    bot = first
    cora = bot.dm("cora")
    await cora.say("cora", "/join ag2")  # private messages off: nothing privately
    await picked(bot)
    # The group: the announcement, then the calendar file (Anna had the reply and file).
    assert in_chat(bot, "ag2-gruppe")[-1] == ANNOUNCED
    assert files_in(bot, "ag2-gruppe") == [ICS]
    assert files_in(bot, "dm-anna") == [ICS]
    # Ben said nein to the date: told anyway (a member), but not put down as "Dabei".
    assert in_chat(bot, "dm-ben")[-1] == PRIVATE
    assert files_in(bot, "dm-ben") == [ICS]
    assert await rsvps(bot) == {(1, "anna"): "yes"}
    # Anna picked in her private chat: the reply was her announcement; Cora: nothing.
    assert PRIVATE not in in_chat(bot, "dm-anna")
    assert files_in(bot, "dm-cora") == [] and PRIVATE not in in_chat(bot, "dm-cora")
    assert await notices(bot) == ["sent"]
    [sent] = [f for f in bot.transport.files if f.chat.id == "dm-ben"]
    assert sent.mime == "text/calendar"
    assert sent.caption is not None and sent.caption.plain == "Zum Importieren in deinen Kalender."
    [event] = Calendar.from_ical(sent.data).walk("VEVENT")
    assert str(event["summary"]) == "Plenum im Januar"
    assert event["dtstart"].dt.isoformat() == "2026-12-03T19:00:00+01:00"
    assert event["dtend"].dt.isoformat() == "2026-12-03T21:00:00+01:00"
    assert str(event["uid"]) == "meeting-1@buendnisbot"  # the uid `/ics ag2` gives it
    # Another start sends nothing again.
    for hook in bot.app.services.registry.start_hooks:
        await hook(bot.app.services)
    assert in_chat(bot, "dm-ben").count(PRIVATE) == 1
    assert files_in(bot, "dm-ben") == [ICS]


async def test_a_notice_cut_short_is_sent_once_at_the_next_start(
    first: BotHarness, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def network_down(
        account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        raise ConnectionError("network down")

    monkeypatch.setattr(first.transport, "send_direct", network_down)
    await picked(first)
    assert await notices(first) == ["sending"]  # claimed, not sent: tried again later
    assert PRIVATE not in in_chat(first, "dm-ben")
    picked_notice = await picked_id(first)
    assert first.app.services.timers.ids("notice-retry:") == [f"notice-retry:{picked_notice}"]
    await first.close()
    monkeypatch.undo()

    # The first process is gone: once its lease on the notice ran out, the start sends it.
    second = await restarted(db_url, clock=Clock(START + LEASE + timedelta(seconds=1)))
    try:
        assert in_chat(second, "dm-ben") == [PRIVATE]
        assert files_in(second, "dm-ben") == [ICS]
        assert await notices(second) == ["sent"]
        for hook in second.app.services.registry.start_hooks:  # a third start: nothing new
            await hook(second.app.services)
        assert in_chat(second, "dm-ben") == [PRIVATE]
        assert files_in(second, "dm-ben") == [ICS]
    finally:
        await second.close()


async def test_a_resend_after_a_crash_carries_the_notice_key(db_url: str) -> None:
    """Sent, then the process died before marking it: the resend at the next start has the
    same key, so a network that keeps keys (Matrix transaction ids) drops it."""
    network = KeyedTransport()
    bot = await BotHarness.create(db_url, transport=network)
    try:
        await picked(bot)
        async with bot.app.services.db.write() as session:
            await session.execute(
                update(Notice)
                .where(Notice.kind == NoticeKind.PICKED.value)
                .values(status="sending", sent_at=None)
            )
        picked_notice = await picked_id(bot)
    finally:
        await bot.close()
    second = await restarted(db_url, transport=network)
    try:
        assert f"notice:{picked_notice}" in network.keys
        assert network.dropped == 1
        assert in_chat(second, "dm-ben").count(PRIVATE) == 1
        assert await notices(second) == ["sent"]
    finally:
        await second.close()


async def test_someone_who_cannot_be_written_to_is_recorded_as_failed(first: BotHarness) -> None:
    first.transport.unreachable.add("ben")
    await picked(first)
    assert await notices(first) == ["failed"]
    assert files_in(first, "dm-ben") == []


async def test_a_failed_send_is_tried_again_by_a_timer(
    first: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real = first.transport.send_direct

    async def flaky(account: AccountRef, message: Rich, *, key: str | None = None) -> SentRef:
        nonlocal calls
        calls += account.external_id == "ben"
        if calls == 1 and account.external_id == "ben":
            raise ConnectionError("network down")
        return await real(account, message, key=key)

    monkeypatch.setattr(first.transport, "send_direct", flaky)
    await picked(first)
    timers = first.app.services.timers
    picked_notice = await picked_id(first)
    due = timers.due(f"notice-retry:{picked_notice}")
    assert due == first.app.services.now() + timedelta(seconds=2)
    await notify.retry(first.app.services, picked_notice, 1)  # what the timer runs at `due`
    assert in_chat(first, "dm-ben")[-1] == PRIVATE
    assert files_in(first, "dm-ben") == [ICS]
    assert await notices(first) == ["sent"]
    await notify.retry(first.app.services, picked_notice, 2)  # a second firing finds it done
    assert in_chat(first, "dm-ben").count(PRIVATE) == 1


async def test_someone_who_turned_private_messages_off_meanwhile_is_skipped(
    first: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def network_down(
        account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        raise ConnectionError("network down")

    monkeypatch.setattr(first.transport, "send_direct", network_down)
    await picked(first)
    monkeypatch.undo()
    await first.dm("ben").say("ben", "/remind off")
    await notify.retry(first.app.services, await picked_id(first), 1)
    assert await notices(first) == ["skipped"]
    assert PRIVATE not in in_chat(first, "dm-ben")


async def test_the_files_come_in_the_readers_language(first: BotHarness) -> None:
    ag2 = await ag2_with_lead(first)
    sid = await start(ag2)
    await ag2.anna.say("anna", "/lang en")
    await ag2.ben.say("ben", "/lang en")
    await ag2.ben.say("ben", "/remind on")
    await ag2.anna.say("anna", f"/pick {sid} 3 yes")
    captions = {f.chat.id: f.caption.plain for f in first.transport.files if f.caption}
    assert captions == {
        "dm-anna": "To import into your calendar.",  # the reply's language: Anna's
        "ag2-gruppe": "Zum Importieren in deinen Kalender.",  # the group's
        "dm-ben": "To import into your calendar.",  # Ben's
    }
    assert in_chat(first, "dm-ben")[-1].startswith("The date is set:\n")


async def test_a_linked_network_is_tried_when_one_cannot_write_privately(db_url: str) -> None:
    """Ben linked his accounts (/connect); on this network he blocked the bot: the picked
    date reaches him on the other one, as a nudge would, instead of ending as `failed`."""
    other = FakeTransport(platform="other")
    bot = await BotHarness.create(db_url, more=(other,))
    try:
        await link(bot, "ben")
        bot.transport.unreachable.add("ben")
        await picked(bot)
        assert [s.text for s in other.sent if s.chat.id == "dm-ben"][-1] == PRIVATE
        assert [f.filename for f in other.files if f.chat.id == "dm-ben"] == [ICS]
        assert await notices(bot) == ["sent"]
    finally:
        await bot.close()
