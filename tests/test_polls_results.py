"""Results and exports: the merged tally as text and PNG, who has not voted yet, and
the CSV for the lead."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from handlers.polls import chart
from tests.support.fake import BotHarness
from tests.support.poll_chat import (
    AG2,
    Clock,
    last_poll,
    native_counts,
    native_vote,
    setup_ag,
    start_poll,
)

WANN = '/poll "Wann treffen wir uns?" "Di 18 Uhr" "Mi 19 Uhr" "Do 17 Uhr"'


@pytest.fixture
async def voted(bot: BotHarness) -> tuple[BotHarness, str]:
    """ben voted natively for option 1, carl by command for option 2; anna has not."""
    bot.app.services.clock = Clock()
    group = await setup_ag(bot, members=("ben", "carl", "dora"))
    short_id = await start_poll(group, "anna", WANN + " --for 2d")
    sent, _ = last_poll(bot.transport)
    await native_vote(bot, sent.native_id or "", "ben", 0)
    await bot.dm("carl").say("carl", f"/vote {short_id} 2")
    await bot.dm("dora").say("dora", f"/vote {short_id} 2")
    return bot, short_id


async def test_results_in_a_private_chat_name_who_has_not_voted(
    voted: tuple[BotHarness, str],
) -> None:
    bot, short_id = voted

    [text] = await bot.dm("ben").say("ben", f"/results {short_id}")

    assert text.splitlines() == [
        f"Zwischenstand: Wann treffen wir uns? ({short_id})",
        "1. Di 18 Uhr – 1 (33 %) ███",
        "2. Mi 19 Uhr – 2 (67 %) ███████",
        "3. Do 17 Uhr – 0 (0 %)",
        "3 Stimmen",
        "Läuft bis Mi 02.12. 10:00.",
        "Noch nicht abgestimmt (1): @anna",
    ]


async def test_results_in_a_group_give_only_the_number_of_missing_voters(
    voted: tuple[BotHarness, str],
) -> None:
    bot, short_id = voted

    [text] = await bot.group("ag2-gruppe").say("zoe", "/results")

    assert text.splitlines()[0] == f"Zwischenstand: Wann treffen wir uns? ({short_id})"
    assert text.splitlines()[-1] == (
        f"1 Mitglied der AG hat noch nicht abgestimmt (Namen: /results {short_id} im privaten Chat)."
    )


async def test_results_come_with_a_chart_where_files_work(voted: tuple[BotHarness, str]) -> None:
    bot, short_id = voted

    await bot.dm("ben").say("ben", f"/results {short_id}")

    [picture] = bot.transport.files
    assert (picture.filename, picture.mime) == (f"umfrage-{short_id}.png", "image/png")
    image = Image.open(io.BytesIO(picture.data))
    assert image.format == "PNG"
    assert image.size == chart.size_for("Wann treffen wir uns?", 3)
    assert image.size[0] == chart.WIDTH


async def test_no_chart_on_a_network_without_files(voted: tuple[BotHarness, str]) -> None:
    bot, short_id = voted
    bot.transport.capabilities = type(bot.transport.capabilities)(native_polls=True)

    await bot.dm("ben").say("ben", f"/results {short_id}")

    assert bot.transport.files == []


async def test_results_are_for_the_ag_only(voted: tuple[BotHarness, str]) -> None:
    bot, short_id = voted

    assert await bot.dm("zoe").say("zoe", f"/results {short_id}") == [
        f"Das Ergebnis sehen nur Mitglieder der AG „{AG2}“ und ihre Chats."
    ]


async def test_results_without_any_poll(bot: BotHarness) -> None:
    assert await bot.dm("ben").say("ben", "/results") == [
        "Hier gibt es noch keine Umfrage. /polls zeigt die Umfragen deiner AGs."
    ]


async def test_results_in_english(voted: tuple[BotHarness, str]) -> None:
    bot, short_id = voted
    await bot.dm("ben").say("ben", "/lang en")

    [text] = await bot.dm("ben").say("ben", f"/results {short_id}")

    assert text.splitlines()[0] == f"Interim result: Wann treffen wir uns? ({short_id})"
    assert "3 votes" in text


def test_the_chart_is_a_png_of_the_promised_size() -> None:
    labels = ["Ich möchte mich aktiv an einem Koordinierungskreis beteiligen.", "Nein", "x" * 100]
    title = "Haben Sie Interesse? " * 10

    data = chart.bar_chart(title, labels, [3, 0, 1], "4 Stimmen", total=4)

    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.format == "PNG"
    assert image.size == chart.size_for(title, 3)
    assert image.size[1] < 600


def test_without_a_system_font_umlauts_are_spelled_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart, "_font_file", lambda: None)
    chart._font.cache_clear()
    try:
        font = chart._font(18)
        assert chart._drawable("Bündnis – Größe", font) == "Buendnis - Groesse"
        assert chart.bar_chart("Bündnis?", ["Ja", "Nö"], [1, 1])[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        chart._font.cache_clear()


# --- /export -------------------------------------------------------------------------------


async def test_export_of_a_named_poll_has_a_row_per_vote(voted: tuple[BotHarness, str]) -> None:
    bot, short_id = voted

    assert await bot.dm("anna").say("anna", f"/export {short_id}") == []

    [csv_file] = bot.transport.files
    assert (csv_file.filename, csv_file.mime) == (f"umfrage-{short_id}.csv", "text/csv")
    assert csv_file.chat == bot.dm("anna").ref
    text = csv_file.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = [line.split(";") for line in text.lstrip("\ufeff").splitlines()]
    assert rows[0] == [
        "Umfrage",
        "Name",
        "Netzwerk",
        "Konto",
        "Antwort-Nr.",
        "Antwort",
        "Zeit (Europe/Berlin)",
        "Gezählt",
    ]
    assert [(r[1], r[3], r[4], r[5], r[7]) for r in rows[1:]] == [
        ("Ben", "ben", "1", "Di 18 Uhr", "ja"),
        ("Carl", "carl", "2", "Mi 19 Uhr", "ja"),
        ("Dora", "dora", "2", "Mi 19 Uhr", "ja"),
    ]


async def test_export_of_an_anonymous_poll_has_totals_only(bot: BotHarness) -> None:
    bot.app.services.clock = Clock()
    group = await setup_ag(bot)
    short_id = await start_poll(group, "anna", WANN + " --anonymous")
    sent, _ = last_poll(bot.transport)
    await native_counts(bot, sent.native_id or "", (2, 0, 1), 3)

    await bot.dm("anna").say("anna", f"/export {short_id}")

    text = bot.transport.files[-1].data.decode("utf-8").lstrip("\ufeff")
    assert text.splitlines() == [
        "Umfrage;Antwort-Nr.;Antwort;Stimmen",
        f"{short_id};1;Di 18 Uhr;2",
        f"{short_id};2;Mi 19 Uhr;0",
        f"{short_id};3;Do 17 Uhr;1",
        f"{short_id};;Abstimmende;3",
    ]
    assert "ben" not in text.lower() and "carl" not in text.lower()


async def test_export_from_a_group_goes_privately(voted: tuple[BotHarness, str]) -> None:
    bot, short_id = voted

    replies = await bot.group("ag2-gruppe").say("anna", f"/export {short_id}")

    assert replies[-1] == "Ich habe es dir privat geschickt."
    private = bot.dm("anna").last()
    assert private.startswith(f"Export der Umfrage {short_id}\nUmfrage;Name;")


async def test_a_member_cannot_export(voted: tuple[BotHarness, str]) -> None:
    bot, short_id = voted

    assert await bot.dm("ben").say("ben", f"/export {short_id}") == [
        f"Das dürfen nur die Leitung der AG „{AG2}“ und Admins."
    ]
    assert bot.transport.files == []


def test_csv_cells_never_run_as_formulas() -> None:
    from handlers.polls.export import to_csv

    assert to_csv([["=SUM(A1)", "+1", "ok"]]).decode("utf-8") == "\ufeff'=SUM(A1);'+1;ok\r\n"
