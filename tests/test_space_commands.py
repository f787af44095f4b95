"""`/space` and `/ag room` as chat: the exact replies through the real dispatcher, on a
fake Matrix network (FakeMatrix) and on a bot without Matrix."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot.config import MatrixSettings
from storage import repo
from storage.access.problems import missing_rights
from storage.access.settings import MATRIX_SPACE, get_setting
from tests.support.fake import BotHarness
from tests.support.fake_spaces import FakeMatrix

AG2 = "Transparenz und Beteiligung"
NO_MATRIX = "Ich bin nicht mit Matrix verbunden: Spaces gibt es nur dort."
ADMINS_ONLY = "Das dürfen nur Admins des Bündnisses."
LEADS_ONLY = f"Das dürfen nur die Leitung der AG „{AG2}“ und Admins."
NO_SPACE = (
    'Das Bündnis hat noch keinen Matrix-Space. Lege einen an mit !space neu "Bündnis" '
    "oder nenne einen, in dem ich bin: !space #buendnis:example.org."
)


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[tuple[BotHarness, FakeMatrix]]:
    matrix = FakeMatrix()
    harness = await BotHarness.create(
        sqlite_url, admins=("fake:admin", "matrix:admin"), more=(matrix,)
    )
    yield harness, matrix
    await harness.close()


async def test_without_matrix_both_commands_say_so(bot: BotHarness) -> None:
    admin = bot.dm("admin")
    assert await admin.say("admin", "/space") == [NO_MATRIX]
    assert await admin.say("admin", '/space neu "Bündnis"') == [NO_MATRIX]
    assert await admin.say("admin", "/ag room ag2") == [NO_MATRIX]


async def test_only_admins_set_the_space_and_leads_make_rooms(bot: BotHarness) -> None:
    await bot.dm("maria").say("maria", "/join ag2")
    assert await bot.dm("maria").say("maria", "/space") == [ADMINS_ONLY]
    assert await bot.dm("maria").say("maria", "/ag room ag2") == [LEADS_ONLY]
    await bot.dm("admin").say("admin", "/lead ag2 @maria")
    assert await bot.dm("maria").say("maria", "/ag room ag2") == [NO_MATRIX]


async def test_create_a_space_and_a_room_in_it(world: tuple[BotHarness, FakeMatrix]) -> None:
    bot, matrix = world
    admin = bot.dm("admin", platform="matrix")
    assert await admin.say("admin", "!space") == [NO_SPACE]
    assert await admin.say("admin", "!space neu") == ['So geht\'s: !space neu "Bündnis"']
    assert await admin.say("admin", "!space neu " + "x" * 101) == [
        "Der Name ist zu lang (höchstens 100 Zeichen)."
    ]

    assert await admin.say("admin", '!space neu "Bündnis Revier"') == [
        "Ich habe den Space Bündnis Revier (https://matrix.to/#/!space1) angelegt; neue "
        "AG-Räume lege ich mit !ag room ag2 darin an. Ich habe dich eingeladen."
    ]
    assert matrix.invited == [("!space1", "admin")]
    assert await admin.say("admin", "!space") == [
        "Der Space des Bündnisses ist Bündnis Revier (https://matrix.to/#/!space1)."
    ]

    assert await admin.say("admin", "!ag room ag2") == [
        f"Der Raum {AG2} (https://matrix.to/#/!room1) der AG {AG2} (ag2) ist im Space "
        "Bündnis Revier angelegt und mit der AG verbunden. Ich habe dich eingeladen."
    ]
    assert matrix.made[0][0] == AG2 and matrix.made[0][2] == "!space1"
    assert matrix.made[0][1]  # the AG's description is the room's topic
    async with bot.app.services.db.read() as session:
        ag = next(a for a in await bot.app.services.ags.all() if a.slug == "ag2")
        chats = await repo.chats_of_ag(session, ag.id)
    assert [(c.platform, c.external_id) for c in chats] == [("matrix", "!room1")]


async def test_the_space_set_in_a_chat_wins_over_the_configuration(
    world: tuple[BotHarness, FakeMatrix],
) -> None:
    bot, matrix = world
    services = bot.app.services
    configured = MatrixSettings("https://m.example.org", "@bot:example.org", space="#conf:x")
    services.settings = dataclasses.replace(services.settings, matrix=configured)
    matrix.add_space("#conf:x", "!conf", "Aus der Datei")
    matrix.add_space("#chat:x", "!chat", "Aus dem Chat")
    matrix.plain_rooms.add("#raum:x")
    admin = bot.dm("admin", platform="matrix")

    assert await admin.say("admin", "!space") == [
        "Der Space des Bündnisses ist Aus der Datei (https://matrix.to/#/!conf) "
        "(aus der Konfiguration)."
    ]
    assert await admin.say("admin", "!space #raum:x") == ["#raum:x ist ein Raum, kein Space."]
    assert await admin.say("admin", "!space #nix:x") == ["Den Space #nix:x finde ich nicht."]
    assert await admin.say("admin", "!space #chat:x") == [
        "Der Space des Bündnisses ist jetzt Aus dem Chat (https://matrix.to/#/!chat)."
    ]
    async with services.db.read() as session:
        assert await get_setting(session, MATRIX_SPACE) == "!chat"
    assert await admin.say("admin", "!space") == [
        "Der Space des Bündnisses ist Aus dem Chat (https://matrix.to/#/!chat)."
    ]
    await admin.say("admin", "!ag room ag2")
    assert matrix.made[-1][2] == "!chat"


async def test_a_room_outside_the_space_is_made_and_the_missing_right_noted(
    world: tuple[BotHarness, FakeMatrix],
) -> None:
    bot, matrix = world
    matrix.add_space("!s", "!s", "Space")
    matrix.may_add_children = False
    admin = bot.dm("admin", platform="matrix")
    await admin.say("admin", "!space !s")

    assert await admin.say("admin", "!ag room ag2") == [
        f"Der Raum {AG2} (https://matrix.to/#/!room1) der AG {AG2} (ag2) ist angelegt und mit "
        "ihr verbunden, aber nicht im Space. Mir fehlt in Space das Recht „Räume zum Space "
        "hinzufügen“. Ich habe dich eingeladen."
    ]
    async with bot.app.services.db.read() as session:
        row = await repo.find_chat(session, "matrix", "!s")
        assert row is not None
        assert await missing_rights(session, [row.id]) == {row.id: ["space_child"]}


async def test_a_room_without_a_space_says_how_to_set_one(
    world: tuple[BotHarness, FakeMatrix],
) -> None:
    bot, matrix = world
    assert await bot.dm("admin").say("admin", "/ag room ag2") == [
        f"Der Raum {AG2} (https://matrix.to/#/!room1) der AG {AG2} (ag2) ist angelegt und mit "
        "ihr verbunden. Er gehört zu keinem Space: lege mit /space einen fest, dann kommen "
        "neue AG-Räume hinein."
    ]  # asked on another network: no Matrix account to invite
    assert matrix.made == [(AG2, matrix.made[0][1], None)]
    assert matrix.invited == []


async def test_ag_info_shows_the_space_where_matrix_runs(
    world: tuple[BotHarness, FakeMatrix],
) -> None:
    bot, matrix = world
    admin = bot.dm("admin", platform="matrix")
    [info] = await admin.say("admin", "!ag info ag2")
    assert "Matrix-Space des Bündnisses: noch keiner (festlegen mit !space)" in info.splitlines()
    matrix.add_space("#chat:x", "!chat", "Aus dem Chat")
    await admin.say("admin", "!space #chat:x")
    [info] = await admin.say("admin", "!ag info ag2")
    assert "Matrix-Space des Bündnisses: !chat" in info.splitlines()


async def test_ag_info_has_no_space_line_without_matrix(bot: BotHarness) -> None:
    [info] = await bot.dm("admin").say("admin", "/ag info ag2")
    assert "Matrix-Space" not in info
