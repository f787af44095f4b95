"""Load: 200 simulated people sending 20 commands each, all at once, through the whole bot
(dispatcher, handlers, database) on SQLite and on PostgreSQL.

Every person writes in their own private chat; all 4,000 messages go to the dispatcher
before any is awaited, which keeps one sender's order in one chat. The commands
(/join, /leave, /lang, /my) are drawn at random with a fixed seed, so the end state is
computed from them: exactly these memberships and languages in the database, and every
reply the one the command implies at its place in the person's sequence (a lost update
shows as a wrong reply or a wrong row), no apology, no "database is locked".
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from bot.core import ChatRef, IncomingMessage
from storage import repo
from storage.models import Account, Membership, Person
from tests.support.fake import BotHarness

PEOPLE = 200
COMMANDS = 20
AGS = ("ag1", "ag2", "ag3")
TIME_LIMIT = 60.0

# The reply each outcome gives, by the person's language at that point.
REPLIES = {
    "de": {
        "joined": "Willkommen in der AG",
        "already": "Du bist schon in der AG",
        "left": "Du hast die AG",
        "not-in": "Du bist nicht in der AG",
        "my-none": "Du bist noch in keiner AG",
        "my-list": "Deine AGs:",
        "lang": "Ich schreibe dir ab jetzt auf Deutsch.",
    },
    "en": {
        "joined": "Welcome to the AG",
        "already": "You are already in the AG",
        "left": "You left the AG",
        "not-in": "You are not in the AG",
        "my-none": "You are not in any AG yet",
        "my-list": "Your AGs:",
        "lang": "From now on I'll write to you in English.",
    },
}


@dataclass
class Script:
    """One person's commands, and what they imply (replies, final memberships, language)."""

    name: str
    commands: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # the expected start of each reply
    ags: set[str] = field(default_factory=set)
    language: str | None = None


def script_for(index: int, rng: random.Random) -> Script:
    script = Script(f"person{index:03d}")
    for _ in range(COMMANDS):
        lang = script.language or "de"
        kind = rng.choices(("join", "leave", "lang", "my"), weights=(5, 3, 1, 1))[0]
        if kind in ("join", "leave"):
            ag = rng.choice(AGS)
            script.commands.append(f"{kind} {ag}")
            if kind == "join":
                outcome = "already" if ag in script.ags else "joined"
                script.ags.add(ag)
            else:
                outcome = "left" if ag in script.ags else "not-in"
                script.ags.discard(ag)
        elif kind == "lang":
            code = rng.choice(("de", "en"))
            script.commands.append(f"lang {code}")
            script.language = lang = code
            outcome = "lang"
        else:
            script.commands.append("my")
            outcome = "my-list" if script.ags else "my-none"
        script.replies.append(REPLIES[lang][outcome])
    return script


async def test_200_people_sending_20_commands_each_at_once(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(20261128)
    scripts = [script_for(i, rng) for i in range(PEOPLE)]
    bot = await BotHarness.create(database_url)
    try:
        dispatcher = bot.app.dispatcher
        caplog.set_level(logging.DEBUG)
        started = time.monotonic()
        tasks = []
        for step in range(COMMANDS):  # interleaved: every person's n-th command, then n+1-th
            for script in scripts:
                chat = ChatRef("fake", f"dm-{script.name}", is_direct=True, title=None)
                message = IncomingMessage(
                    chat=chat,
                    sender=bot.user(script.name),
                    text=script.commands[step],
                    message_id=f"{script.name}-{step}",
                )
                tasks.append(await dispatcher.message(message))
        # Bounded, so a deadlock fails the test instead of hanging it.
        done, pending = await asyncio.wait(tasks, timeout=TIME_LIMIT)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        elapsed = time.monotonic() - started
        assert not pending, f"{len(pending)} of {len(tasks)} commands still running (deadlock?)"
        assert not [t for t in done if t.exception() is not None]
        assert elapsed < TIME_LIMIT, f"{PEOPLE * COMMANDS} commands took {elapsed:.1f} s"

        # Every reply is the one its command implies, in order, in the sender's chat.
        by_chat: dict[str, list[str]] = {}
        for sent in bot.transport.sent:
            by_chat.setdefault(sent.chat.id, []).append(sent.text)
        wrong = {}
        for script in scripts:
            got = by_chat.get(f"dm-{script.name}", [])
            if len(got) != COMMANDS or not all(
                text.startswith(expected)
                for text, expected in zip(got, script.replies, strict=True)
            ):
                wrong[script.name] = list(zip(script.commands, script.replies, got, strict=False))
        assert not wrong, next(iter(wrong.items()))
        assert len(bot.transport.sent) == PEOPLE * COMMANDS
        assert not [s for s in bot.transport.sent if "schiefgegangen" in s.text]
        assert not [s for s in bot.transport.sent if "went wrong" in s.text]

        # The database holds exactly what the commands imply.
        db = bot.app.services.db
        async with db.read() as session:
            assert await session.scalar(select(func.count()).select_from(Person)) == PEOPLE
            assert await session.scalar(select(func.count()).select_from(Account)) == PEOPLE
            assert await session.scalar(select(func.count()).select_from(Membership)) == sum(
                len(s.ags) for s in scripts
            )
            for script in scripts:
                account = await repo.find_account(session, "fake", script.name)
                assert account is not None, script.name
                memberships = await repo.memberships_of(session, account.person_id)
                assert {ag.slug: role for ag, role in memberships} == dict.fromkeys(
                    script.ags, "member"
                ), script.name
                assert await repo.person_language(session, account.person_id) == script.language

        problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert not problems, [r.getMessage() for r in problems[:5]]
        assert "database is locked" not in caplog.text
    finally:
        await bot.close()
