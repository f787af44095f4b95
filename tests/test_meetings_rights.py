"""Who may plan, change and answer meetings is declared with each command (right and
scope) and checked by dispatch, not by hand in the handlers; the order of the answers
stays as it was: usage first, then an unknown meeting, then a refusal, then the rest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot import commands as c
from bot.commands import rights
from bot.core import ButtonPress
from handlers.meetings import attendance, edit, listing
from handlers.meetings import commands as meetings
from handlers.reminders import commands as reminders
from tests.support.fake import BotHarness
from tests.support.meetings import Ag2, ag2_with_lead

ROOT = Path(__file__).resolve().parent.parent
FEATURES = (meetings.feature, edit.feature, listing.feature, attendance.feature, reminders.feature)
NOT_MEMBER = "Das sehen nur Mitglieder der AG „Transparenz und Beteiligung“."


@pytest.fixture
async def ag2(bot: BotHarness) -> Ag2:
    setup = await ag2_with_lead(bot)
    await setup.anna.say("anna", "/meeting ag2 03.12.2026 18:00 Online-Treffen")
    return setup


def test_every_command_with_a_right_says_where_its_ag_comes_from() -> None:
    for feature in FEATURES:
        for cmd in feature.unique():
            if cmd.right is not c.Right.ANYONE:
                assert cmd.scope is not None or cmd.ag_param is not None, cmd.name


@pytest.mark.parametrize(
    ("name", "right"),
    [
        ("meeting", c.Right.LEAD),
        ("cancel", c.Right.LEAD),
        ("edit", c.Right.LEAD),
        ("attendance", c.Right.LEAD),
        ("rsvp", c.Right.FOLLOWER),
        ("meetings", c.Right.FOLLOWER),
        ("reminders", c.Right.ANYONE),  # showing is open; changing needs LEAD (its scope)
        ("ics", c.Right.MEMBER),
        ("remind", c.Right.ANYONE),
    ],
)
def test_the_declared_rights(name: str, right: c.Right) -> None:
    [cmd] = [cmd for f in FEATURES for cmd in f.unique() if cmd.name == name]
    assert cmd.right is right


def test_help_offers_reminders_to_members_as_before() -> None:
    """/reminders shows an AG's offsets to anyone, so help and menus list it for everyone
    (declared LEAD, it vanished from members' /help)."""
    [cmd] = [cmd for cmd in reminders.feature.unique() if cmd.name == "reminders"]
    assert rights.offered(cmd, direct=False, admin=False, lead=False)


def test_the_answer_buttons_are_for_followers_of_the_meetings_ag() -> None:
    right, scope = attendance.feature.button_rights["rsvp"]
    assert right is c.Right.FOLLOWER and scope is not None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", ["meetings", "reminders"])
def test_no_sql_and_no_hand_written_rights_in_the_handlers(package: str) -> None:
    for path in sorted((ROOT / "handlers" / package).glob("*.py")):
        modules = _imports(path)
        assert not any(m.split(".")[0] == "sqlalchemy" for m in modules), path.name
        source = path.read_text(encoding="utf-8")
        for call in ("rights.require", "rights.allowed", "rights.follows", "is_admin"):
            assert call not in source, (path.name, call)


def test_meetings_do_not_import_the_reminders_feature() -> None:
    """One way only: the reminders feature builds on meetings (its series, its texts)."""
    for path in sorted((ROOT / "handlers" / "meetings").glob("*.py")):
        assert not any(m.startswith("handlers.reminders") for m in _imports(path)), path.name


# --- the order of the answers ----------------------------------------------------------


async def test_a_missing_change_is_a_usage_error_before_the_meeting_is_looked_up(
    ag2: Ag2,
) -> None:
    [reply] = await ag2.anna.say("anna", "/edit m99")
    assert reply.startswith("Da fehlt noch etwas: neue Zeit und/oder --titel, --ort, Link.")


async def test_an_unknown_meeting_comes_before_a_refusal(ag2: Ag2) -> None:
    stranger = ag2.bot.dm("carla")
    assert await stranger.say("carla", "/cancel m99") == [
        "Ein Treffen m99 kenne ich nicht. /meetings zeigt die Kennungen."
    ]
    assert await stranger.say("carla", "/cancel m1") == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]


async def test_a_wrong_answer_word_gets_the_hint_also_from_a_stranger(ag2: Ag2) -> None:
    stranger = ag2.bot.dm("carla")
    assert await stranger.say("carla", "/rsvp m1 gerne") == [
        "Antworte mit ja, nein oder vielleicht."
    ]
    [refusal] = await stranger.say("carla", "/rsvp m1 ja")
    assert refusal.startswith(NOT_MEMBER)


async def test_a_stranger_pressing_an_answer_button_gets_the_refusal_as_toast(ag2: Ag2) -> None:
    unlinked = ag2.bot.group("irgendwo")
    press = ButtonPress(unlinked.ref, ag2.bot.user("carla"), "rsvp:1:yes", "cb-9")
    toast = await ag2.bot.app.dispatcher.button_pressed(press)
    assert toast is not None and toast.startswith(NOT_MEMBER)
    nothing = ButtonPress(unlinked.ref, ag2.bot.user("carla"), "rsvp:1:later", "cb-10")
    assert await ag2.bot.app.dispatcher.button_pressed(nothing) is None


async def test_showing_the_offsets_needs_no_right_changing_them_does(ag2: Ag2) -> None:
    stranger = ag2.bot.dm("carla")
    [shown] = await stranger.say("carla", "/reminders ag2")
    assert shown.startswith("Erinnerungen für die AG Transparenz und Beteiligung:")
    assert await stranger.say("carla", "/reminders ag2 2h") == [
        "Das dürfen nur die Leitung der AG „Transparenz und Beteiligung“ und Admins."
    ]
    assert await stranger.say("carla", "/reminders") == [
        "Welche AG? Schreib sie dazu, z. B. /reminders ag2 2d 1h."
    ]
