"""The Terminumfrage as a PNG grid (people x dates) for AGs of more than 8 members, with
`/termin k3f7` and once with the pick; and the text summary of a 500-member AG stays one
message ("… und N weitere")."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from bot.core import Capabilities
from handlers.datepoll.grid import PEOPLE_MAX, Grid, draw_grid, size_for
from storage import repo
from storage.datepoll import polls
from storage.datepoll.models import Answer
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead
from tests.test_datepoll import start

LONG = "Sehr langer Name aus dem Bündnis mit vielen Vornamen und noch einem Nachnamen dazu " * 2


async def crowd(ag2: Ag2, n: int, sid: str, *, answering: int = 0) -> None:
    """`n` more members of AG 2 with 120-letter names; the first `answering` say ja to
    date 1 and nein to date 2."""
    bot = ag2.bot
    async with bot.app.services.db.write() as session:
        ag = await repo.ag_by_slug(session, "ag2")
        assert ag is not None
        poll = await polls.by_short_id(session, sid)
        assert poll is not None
        for i in range(n):
            account = await repo.ensure_account(session, "fake", f"m{i}", f"{i:03d} {LONG}")
            await repo.join(session, account.person_id, ag.id)
            if i < answering:
                answers = {0: Answer.YES, 1: Answer.NO}
                now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
                await polls.set_answers(session, poll.id, account.person_id, "fake", answers, now)


def png_files(bot: BotHarness, chat_id: str) -> list[bytes]:
    return [f.data for f in bot.transport.files if f.chat.id == chat_id and f.mime == "image/png"]


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_a_small_ag_gets_no_grid(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await crowd(ag2, 6, sid)  # 8 members
    await ag2.ben.say("ben", f"/termin {sid}")
    assert png_files(bot, "dm-ben") == []


async def test_termin_sends_the_grid_in_an_ag_of_nine(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await crowd(ag2, 7, sid, answering=3)  # 9 members
    replies = await ag2.ben.say("ben", f"/termin {sid}")
    assert replies[0].split("\n")[1] == (
        "1. Di 01.12. 19:00–20:00 – ja 3 · wenn nötig 0 · nein 0 · offen 6"
    )
    [png] = png_files(bot, "dm-ben")
    image = decoded(png)
    assert image.format == "PNG"
    assert image.size == size_for(3, 9, False)
    # A network without files: the text only.
    ag2.bot.transport.capabilities = Capabilities(buttons=True, files=False)
    await ag2.ben.say("ben", f"/termin {sid}")
    assert len(png_files(bot, "dm-ben")) == 1


async def test_500_members_one_message_and_a_bounded_grid(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await crowd(ag2, 500, sid, answering=100)
    [text] = await ag2.ben.say("ben", f"/termin {sid}")
    assert len(text) <= 4096
    silent = next(line for line in text.split("\n") if line.startswith("Noch keine Antwort: "))
    # Leads first, then by name, as many of the 120-letter names as 1,200 characters hold.
    shown = silent.removeprefix("Noch keine Antwort: ").split(", ")
    assert shown[0] == "@anna"
    assert shown[1:10] == [f"@{i:03d} {LONG}"[:121] for i in range(100, 109)]
    assert shown[10:] == ["… und 392 weitere"]  # 400 + Anna and Ben did not answer
    [png] = png_files(bot, "dm-ben")
    image = decoded(png)
    assert image.size == size_for(3, 502, True)
    assert image.size[1] < 2200  # at most 60 rows of people, however big the AG


def test_15_dates_and_500_people_draw_within_bounds() -> None:
    people = [
        (f"Person {i} {LONG}", [("yes", "maybe", "no", None)[(i + j) % 4] for j in range(15)])
        for i in range(500)
    ]
    heads = [(str(j + 1), "Di", "01.12.", "19:00") for j in range(15)]
    grid = Grid("Plenum", heads, people, 2, "… und 440 weitere", ["ja", "wenn nötig", "nein"])
    image = decoded(draw_grid(grid))
    assert image.size == size_for(15, 500, True) == (1104, 64 + 40 + 80 + 64 * 28 + 8)
    assert PEOPLE_MAX == 60
    # The best date's column is shaded; an empty cell is white.
    assert image.getpixel((32 + 200 + 2 * 56 + 3, 200)) != (255, 255, 255)


async def test_the_pick_sends_the_final_grid_once(bot: BotHarness) -> None:
    ag2 = await ag2_with_lead(bot)
    sid = await start(ag2)
    await crowd(ag2, 7, sid, answering=3)
    await ag2.anna.say("anna", f"/festlegen {sid} 1")
    assert [f.filename for f in bot.transport.files if f.chat.id == "ag2-gruppe"] == [
        "treffen-m1.ics",
        f"terminumfrage-{sid}.png",
    ]
    assert len(png_files(bot, "dm-anna")) == 1


def test_the_longest_summary_stays_within_one_telegram_message() -> None:
    """15 dates, the longest title, place and link, 500 members with 120-letter names,
    nobody answered: still one message of at most 4,096 characters."""
    from bot.i18n import Translator
    from handlers.datepoll.render import summary
    from storage.datepoll.models import (
        PLACE_MAX,
        TITLE_MAX,
        URL_MAX,
        DatePoll,
        DatePollOption,
        DatePollStatus,
    )
    from storage.datepoll.polls import DatePollView
    from storage.models import Account, Ag
    from storage.repo import MemberRow

    start = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    poll = DatePoll(
        short_id="k3f7abcd", ag_id=1, title="T" * TITLE_MAX, place="P" * PLACE_MAX,
        url="https://example.org/" + "u" * (URL_MAX - 20), timezone="Europe/Berlin",
        closes_at=start, status=DatePollStatus.OPEN.value,
    )  # fmt: skip
    options = [
        DatePollOption(poll_id=1, position=i, start_at=start, duration_minutes=90)
        for i in range(15)
    ]
    members = [
        MemberRow(p, "member", [Account(platform="fake", external_id=str(p),
                                        display_name=f"{p:03d} {LONG}"[:120], username=None)])
        for p in range(500)
    ]  # fmt: skip
    ag = Ag(slug="ag2", name="A" * 100, description="")
    for language in ("de", "en"):
        lang = Translator([language]).for_language(language)
        text = summary(lang, "/", DatePollView(poll, options, {}), ag, members).plain
        assert len(text) <= 4096, (language, len(text))
        assert text.split("\n")[-3].endswith(("weitere", "more"))
