"""Rights: every command x {stranger, member, lead of another AG, lead, admin, former
lead who left, former lead who was demoted} x {private chat, linked group, unlinked
group}, against a table of expected outcomes. This is the one place where "who may do
what" is written down; bot/commands/rights.py is the one place where it is decided.

The world: AG ag2 is linked to the group "linked"; "unlinked" is a group linked to no AG.
`member` is a member of ag2, `other_lead` leads ag1 only, `lead` leads ag2, `admin` is
an admin of the alliance (`fake:admin`), `stranger` is in no AG. `left` led ag2, planned
a meeting and started a poll in its group, then left the AG; `demoted` did the same and
was then made a plain member again (`/unlead`). Rights come from the role now: `left`
fares like a stranger, `demoted` like a member, also on their own poll and meeting.
Every role acts on `left`'s poll and meeting, except `demoted`, who acts on its own.

Every cell runs a fresh bot on a fresh copy of one prepared database, so no cell sees
what another did (tests/support/cells.py). A command missing from EXAMPLES or EXPECTED fails the test with its name.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import build_registry as load
from bot.core import PollSpec, SentPoll
from storage.datepoll.models import DatePoll
from storage.polls.models import Poll
from tests.support.cells import Cells
from tests.support.fake import BotHarness

ROLES = ("stranger", "member", "other_lead", "lead", "admin", "left", "demoted")
CHATS = ("dm", "linked", "unlinked")

# One representative invocation per command; {m} is a meeting of ag2, {p} a poll of ag2,
# {d} a Terminumfrage of ag2
# (for `demoted` the ones it created, for everybody else the ones `left` created).
EXAMPLES: dict[str, str] = {
    "ag archive": "ag3",
    "ag edit": "ag3 name Neuer Name",
    "ag info": "ag2",
    "ag leave": "ag2 entfernen",
    "ag new": "ag9 Neue AG",
    "ag nudge": "ag2 12h",
    "ag policy": "ag2 anfrage",
    "ag requests": "ag2 ablehnen",
    "ag restore": "ag3",
    "ag room": "ag2",
    "ag topic": "ag2",
    "ags": "",
    "approve": "ag2 @nobody",
    "attendance": "{m}",
    "cancel": "{m}",
    "card": "",
    "cards": "ag2",
    "chats": "ag2",
    "datepoll": 'ag2 "Titel" morgen 18:00; übermorgen 18:00',
    "decline": "ag2 @nobody",
    "close": "{p}",
    "connect": "",
    "disconnect": "",
    "edit": "{m} 19:30 Neuer Titel",
    "export": "{p}",
    "find": "Test",
    "forget": "",
    "help": "",
    "ics": "ag2",
    "kalender": "ag2",
    "seite": "{p}",
    "join": "ag2",
    "lang": "en",
    "lead": "ag2 @member",
    "leave": "ag2",
    "link": "ag2",
    "meeting": "ag2 morgen 18:00 Test",
    "meetings": "",
    "members": "ag2",
    "my": "",
    "mydata": "",
    "nudge": "{p}",
    "pick": "{d} 1 ja",
    "poll": '"Frage?" "Ja" "Nein" --ag ag2',
    "polls": "",
    "privacy": "",
    "remind": "",
    "requests": "",
    "reminders": "",
    "results": "{p}",
    "rsvp": "{m} ja",
    "space": "",
    "start": "",
    "stats": "ag2",
    "survey": "",
    "survey results": "",
    "survey run": "",
    "termin": "{d} 1 ja",
    "unlead": "ag2 @lead",
    "unlink": "ag2",
    "vote": "{p} 1",
    "welcome": "an",
    "whoami": "",
}

# Outcomes: A allowed, R refused for lack of right, P refused for the place (a chat of
# the wrong kind, or a group linked to no AG), U usage help, E apology (never expected).
# One string per command: seven groups (stranger member other_lead lead admin left
# demoted), each three letters (private chat, linked group, unlinked group).
#                  stranger member other lead admin left demoted
EXPECTED: dict[str, str] = {
    "ag archive":     "RRR RRR RRR RRR AAA RRR RRR",
    "ag edit":        "RRR RRR RRR RRR AAA RRR RRR",
    "ag info":        "RRR RRR RRR AAA AAA RRR RRR",
    "ag leave":       "RRR RRR RRR AAA AAA RRR RRR",
    "ag new":         "RRR RRR RRR RRR AAA RRR RRR",
    "ag nudge":       "RRR RRR RRR AAA AAA RRR RRR",
    "ag policy":      "RRR RRR RRR AAA AAA RRR RRR",
    "ag requests":    "RRR RRR RRR AAA AAA RRR RRR",
    "ag restore":     "RRR RRR RRR RRR AAA RRR RRR",
    "ag room":        "RRR RRR RRR AAA AAA RRR RRR",
    "ag topic":       "PRR PRR PRR PAA PAA PRR PRR",
    "ags":            "AAA AAA AAA AAA AAA AAA AAA",
    "approve":        "RRR RRR RRR AAA AAA RRR RRR",
    "attendance":     "RRR RRR RRR AAA AAA RRR RRR",
    "cancel":         "RRR RRR RRR AAA AAA RRR RRR",
    "card":           "AAA AAA AAA AAA AAA AAA AAA",
    "cards":          "RRR AAA RRR AAA AAA RRR AAA",
    "chats":          "RRR AAA RRR AAA AAA RRR AAA",
    "datepoll":       "RRR RRR RRR AAA AAA RRR RRR",
    "decline":        "RRR RRR RRR AAA AAA RRR RRR",
    "close":          "RRR RRR RRR AAA AAA RRR RRR",
    "connect":        "APP APP APP APP APP APP APP",
    "disconnect":     "APP APP APP APP APP APP APP",
    "edit":           "RRR RRR RRR AAA AAA RRR RRR",
    "export":         "RRR RRR RRR AAA AAA RRR RRR",
    "find":           "AAA AAA AAA AAA AAA AAA AAA",
    "forget":         "APP APP APP APP APP APP APP",
    "help":           "AAA AAA AAA AAA AAA AAA AAA",
    "ics":            "RRR AAA RRR AAA AAA RRR AAA",
    "kalender":       "RRR RRR RRR AAA AAA RRR RRR",
    # A page of a poll: members of its AG (no "follower in a linked chat": a page has no chat).
    "seite":          "RRR AAA RRR AAA AAA RRR AAA",
    "join":           "AAA AAA AAA AAA AAA AAA AAA",
    "lang":           "ARR ARR ARR AAR AAA ARR ARR",
    "lead":           "RRR RRR RRR RRR AAA RRR RRR",
    "leave":          "AAA AAA AAA AAA AAA AAA AAA",
    "link":           "PRR PRR PRR PAA PAA PRR PRR",
    "meeting":        "RRR RRR RRR AAA AAA RRR RRR",
    "meetings":       "AAA AAA AAA AAA AAA AAA AAA",
    "members":        "RRR AAA RRR AAA AAA RRR AAA",
    "my":             "AAA AAA AAA AAA AAA AAA AAA",
    "mydata":         "APP APP APP APP APP APP APP",
    # The AG's leads, admins, and whoever started the poll while still a member of the AG.
    "nudge":          "RRR RRR RRR AAA AAA RRR AAA",
    "pick":           "RRR RRR RRR AAA AAA RRR RRR",
    "poll":           "RRR RRR RRR AAA AAA RRR RRR",
    "polls":          "AAA AAA AAA AAA AAA AAA AAA",
    "privacy":        "AAA AAA AAA AAA AAA AAA AAA",
    "remind":         "AAA AAA AAA AAA AAA AAA AAA",
    "requests":       "RRR RRR AAA AAA AAA RRR RRR",
    "reminders":      "AAA AAA AAA AAA AAA AAA AAA",
    "results":        "RAR AAA RAR AAA AAA RAR AAA",
    "rsvp":           "RAR AAA RAR AAA AAA RAR AAA",
    "space":          "RRR RRR RRR RRR AAA RRR RRR",
    "start":          "AAA AAA AAA AAA AAA AAA AAA",
    "stats":          "RRR RRR RRR AAA AAA RRR RRR",
    "survey":         "AAA AAA AAA AAA AAA AAA AAA",
    "survey results": "AAA AAA AAA AAA AAA AAA AAA",
    "survey run":     "APP APP APP APP APP APP APP",
    # Answering a Terminumfrage takes a member: the admin here is in no AG.
    "termin":         "RRR AAA RRR AAA RRR RRR AAA",
    "unlead":         "RRR RRR RRR RRR AAA RRR RRR",
    "unlink":         "PRR PRR PRR PAA PAA PRR PRR",
    "vote":           "AAA AAA AAA AAA AAA AAA AAA",
    "welcome":        "PRP PRP PRP PAP PAP PRP PRP",
    "whoami":         "AAA AAA AAA AAA AAA AAA AAA",
}  # fmt: skip

APOLOGY = "schiefgegangen"


def is_place(reply: str) -> bool:
    return "funktioniert nur" in reply or "mit keiner AG verbunden" in reply


def is_right(reply: str) -> bool:
    return "dürfen nur" in reply or "sehen nur Mitglieder" in reply


def is_usage(reply: str) -> bool:
    return "So geht's:" in reply or "Da fehlt noch" in reply


def classify(replies: list[str]) -> str:
    """One letter for what the bot answered: A, R, P, U (usage) or E (apology/none)."""
    joined = "\n".join(replies)
    if APOLOGY in joined:
        return "E"
    if is_place(joined):
        return "P"
    if is_right(joined):
        return "R"
    if is_usage(joined):
        return "U"
    return "A"


def expected_cell(command: str, role: int, chat: int) -> str:
    groups = EXPECTED[command].split()
    return groups[role][chat]


TEMPLATE_POLLS: list[tuple[SentPoll, PollSpec]] = []


async def _prepare(path: Path) -> dict[str, dict[str, str]]:
    """Build the world once; returns per role the ids the examples refer to."""
    bot = await BotHarness.create(f"sqlite+aiosqlite:///{path}")
    try:
        joins = (
            ("member", "ag2"),
            ("lead", "ag2"),
            ("other_lead", "ag1"),
            ("left", "ag2"),
            ("demoted", "ag2"),
        )
        for who, slug in joins:
            await bot.dm(who).say(who, f"/join {slug}")
        admin = bot.dm("admin")
        for who, slug in (("lead", "ag2"), ("other_lead", "ag1"), ("left", "ag2")):
            await admin.say("admin", f"/lead {slug} @{who}")
        await admin.say("admin", "/lead ag2 @demoted")
        await admin.say("admin", "/leave ag1")  # stays an admin, in no AG
        await bot.group("linked").say("admin", "/link ag2")
        for creator in ("left", "demoted"):
            replies = await bot.group("linked").say(
                creator, f"/meeting ag2 morgen 18:00 Treffen {creator}"
            )
            assert replies and APOLOGY not in replies[0], replies
            replies = await bot.group("linked").say(creator, '/poll "Frage?" "Ja" "Nein"')
            assert replies and APOLOGY not in replies[0], replies
            replies = await bot.group("linked").say(
                creator, '/terminumfrage ag2 "Termine" morgen 18:00; übermorgen 18:00'
            )
            assert replies and replies[0].startswith("📅 Terminumfrage"), replies
        assert "verlassen" in (await bot.dm("left").say("left", "/leave ag2"))[0]
        assert "nicht mehr" in (await admin.say("admin", "/unlead ag2 @demoted"))[0]
        TEMPLATE_POLLS[:] = bot.transport.polls
        async with bot.app.services.db.read() as session:
            polls = (await session.execute(select(Poll).order_by(Poll.id))).scalars().all()
            found = (await session.execute(select(DatePoll).order_by(DatePoll.id))).scalars().all()
        ids = {who: {"m": "m1", "p": polls[0].short_id, "d": found[0].short_id} for who in ROLES}
        ids["demoted"] = {"m": "m2", "p": polls[1].short_id, "d": found[1].short_id}
        return ids
    finally:
        await bot.close()


async def _run_cell(cells: Cells, text: str, who: str, chat: str) -> list[str]:
    bot = await cells.bot()
    try:
        # The template already holds polls posted as "native-1", ...: carry on after them.
        bot.transport.polls.extend(TEMPLATE_POLLS)
        place = bot.dm(who) if chat == "dm" else bot.group(chat)
        return await place.say(who, text)
    finally:
        await bot.close()


# About 1,100 cells, each a bot on a copy of the prepared database: over a minute on an idle
# machine, more on a busy one; the suite's 120 s per test is too tight for it.
@pytest.mark.timeout(600)
async def test_every_command_for_every_role_and_chat(tmp_path: Path) -> None:
    registry = load()
    names = sorted(c.name for c in registry.unique())
    missing = [n for n in names if n not in EXAMPLES or n not in EXPECTED]
    assert not missing, f"commands without an entry in EXAMPLES/EXPECTED: {missing}"
    stale = sorted(set(EXPECTED) - set(names))
    assert not stale, f"EXPECTED names commands that no longer exist: {stale}"

    template = tmp_path / "template.db"
    ids = await _prepare(template)
    cells = Cells(template, tmp_path / "cell.db")
    try:
        mismatches = await _run_all(cells, names, ids)
    finally:
        await cells.close()
    assert not mismatches, "\n".join(mismatches)


async def _run_all(cells: Cells, names: list[str], ids: dict[str, dict[str, str]]) -> list[str]:
    mismatches: list[str] = []
    for name in names:
        actual_groups = []
        for r, who in enumerate(ROLES):
            args = EXAMPLES[name].format(**ids[who])
            text = f"/{name} {args}".rstrip()
            letters = ""
            for c, chat in enumerate(CHATS):
                replies = await _run_cell(cells, text, who, chat)
                got = classify(replies)
                letters += got
                if got != expected_cell(name, r, c):
                    mismatches.append(
                        f"{text!r} by {who} in {chat}: expected {expected_cell(name, r, c)},"
                        f" got {got}: {replies!r}"
                    )
            actual_groups.append(letters)
        if " ".join(actual_groups) != EXPECTED[name]:
            mismatches.append(f"    {name!r}: {' '.join(actual_groups)!r},")
    return mismatches
