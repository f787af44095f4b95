"""Hostile input: every command, driven through the fake transport with arbitrary
unicode, control characters, 10,000-character arguments and HTML/Markdown meant to
break formatting or fake a mention.

For each example: no unhandled exception (no apology, no ERROR log record), every reply
renders to well-formed HTML on Telegram and Matrix with the user's text escaped, Matrix
`m.mentions` names only the people the bot meant to mention, and afterwards no string
column in the database holds more than its declared length.
"""

from __future__ import annotations

import asyncio
import logging
import zlib

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import String, select

from bot.app import build_registry as load
from bot.core import ChatRef, IncomingMessage, UserRef
from bot.rich import Rich, Text
from storage.models import Base
from storage.polls.models import Poll
from tests.support.fake import BotHarness
from tests.support.reply_checks import MATRIX_TAGS, TELEGRAM_TAGS, html_problems, reply_problems

COMMANDS = sorted(c.name for c in load().unique())
ROLES = ("stranger", "member", "lead", "admin")
CHATS = ("dm", "linked", "unlinked")
APOLOGY = "schiefgegangen"

# --- strategies ----------------------------------------------------------------------

HOSTILE = (
    "<b>",
    "</b>",
    "</code>",
    "<pre>",
    "<i>x",
    "<a href=javascript:alert(1)>x</a>",
    '<a href="https://matrix.to/#/@admin:x">admin</a>',
    '<a href="tg://user?id=1">du</a>',
    "tg://user?id=1",
    "@room",
    "@admin",
    "@member",
    "@everyone",
    "*fett*",
    "_kursiv_",
    "`code`",
    "```",
    "[x](tg://user?id=1)",
    "[a](https://example.org)",
    "&amp;",
    "&lt;b&gt;",
    "&#60;",
    "<!--",
    "<![CDATA[",
    "\u202e",
    "\u200f",
    "\u200b",
    "\ufeff",
    "\x00",
    "\x1b[31m",
    "\n",
    "\r\n",
    "\t",
    '"',
    "„",
    "“",
    "--ag",
    "ag2",
    "ag 2",
    "m1",
    "{p}",
    "1",
    "ja",
    "morgen",
    "18:00",
    "jede Woche",
    "name",
    "https://example.org/<b>",
)

# Every unicode category, lone surrogates included (JSON can carry them).
any_char = st.characters(codec=None)
any_text = st.text(any_char, max_size=40)
fragment = st.one_of(st.sampled_from(HOSTILE), any_text)
words = st.lists(fragment, max_size=10).map(" ".join)


@st.composite
def long_text(draw: st.DrawFn) -> str:
    """Up to 10,000 characters, built by repeating a hostile seed: 3,000 reaches the
    handlers, longer ones the refusal of commands over `MAX_COMMAND` (4,096)."""
    seed = draw(st.lists(fragment, min_size=1, max_size=4).map(" ".join))
    size = draw(st.sampled_from((3000, 4097, 9999, 10_000)))
    seed = seed or "x"
    return (seed * (size // len(seed) + 1))[:size]


arguments = st.one_of(words, words, long_text())

# Invocations that get past parsing, so hostile text reaches the handlers and storage.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "ag new": ("ag7 {x}", "ag7 {x} -- {x}"),
    "ag edit": ("ag3 name {x}", "ag3 description {x}"),
    "meeting": ("ag2 morgen 18:00 {x}", "ag2 morgen 18:00 {x} --ort {x}"),
    "edit": ("m1 19:30 {x}",),
    "poll": ('"{x}" "{x}" "B" --ag ag2', '"F?" "{x}" "B"'),
    "card": ("name {x}", "org {x}", "about {x}", "contact {x}"),
    "find": ("{x}",),
    "lead": ("ag2 {x}",),
    "vote": ("{p} {x}",),
    "rsvp": ("m1 {x}",),
    "lang": ("{x}",),
}


def arguments_for(command: str) -> st.SearchStrategy[str]:
    templates = TEMPLATES.get(command)
    if not templates:
        return arguments
    filled = st.builds(
        lambda template, x: template.replace("{x}", x),
        st.sampled_from(templates),
        st.one_of(words, long_text()),
    )
    return st.one_of(arguments, filled, filled)


HOSTILE_NAMES = (
    "a\x00b",
    "\u202eevil\u202c",
    "<b>Admin</b>",
    '<a href="tg://user?id=1">x</a>',
    "@room",
    "\x1b[2J\r\n",
    "",
    " ",
)
# The sender's name and the group's title as the network reports them.
display_names = st.one_of(st.none(), st.sampled_from(HOSTILE_NAMES), words, long_text())

# --- checks --------------------------------------------------------------------------


async def overlong_values(bot: BotHarness) -> list[str]:
    """Every stored string longer than its column's declared length, or holding a NUL."""
    found: list[str] = []
    async with bot.app.services.db.read() as session:
        for table in Base.metadata.sorted_tables:
            limited = [c for c in table.columns if isinstance(c.type, String) and c.type.length]
            if not limited:
                continue
            rows = (await session.execute(select(*limited))).all()
            for row in rows:
                for column, value in zip(limited, row, strict=True):
                    if not isinstance(value, str):
                        continue
                    if len(value) > column.type.length:
                        found.append(
                            f"{table.name}.{column.name}: {len(value)} > {column.type.length}"
                        )
                    if "\x00" in value:
                        found.append(f"{table.name}.{column.name}: NUL (PostgreSQL refuses it)")
    return found


class ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# --- the world -----------------------------------------------------------------------


async def prepare(url: str) -> tuple[BotHarness, dict[str, str]]:
    bot = await BotHarness.create(url)
    for who, slug in (("member", "ag2"), ("lead", "ag2")):
        await bot.dm(who).say(who, f"/join {slug}")
    await bot.dm("admin").say("admin", "/lead ag2 @lead")
    await bot.group("linked").say("admin", "/link ag2")
    await bot.group("linked").say("lead", "/meeting ag2 morgen 18:00 Treffen")
    await bot.group("linked").say("lead", '/poll "Frage?" "Ja" "Nein"')
    async with bot.app.services.db.read() as session:
        poll = (await session.execute(select(Poll))).scalars().one()
    return bot, {"{p}": poll.short_id}


async def drive(
    bot: BotHarness, text: str, who: str, chat: str, name: str | None, mention: bool
) -> list[Rich]:
    transport = bot.transport
    before = len(transport.sent)
    ref = (
        ChatRef("fake", f"dm-{who}", is_direct=True)
        if chat == "dm"
        else ChatRef("fake", chat, is_direct=False, title=name or chat)
    )
    sender = UserRef("fake", who, name if name is not None else who.title(), username=who)
    mentions = (UserRef("fake", "member", "Member", username="member"),) if mention else ()
    message = IncomingMessage(ref, sender, text, str(before), mentions)
    task = await bot.app.dispatcher.message(message)
    await task
    await bot.app.dispatcher.drain()
    return [s.message for s in transport.sent[before:]]


@pytest.mark.parametrize("command", COMMANDS)
def test_hostile_arguments_never_break_the_bot(
    command: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('hostile') / 'bot.db'}"
    errors = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(errors)
    with asyncio.Runner() as runner:
        bot, ids = runner.run(prepare(url))
        try:
            # Deterministic like derandomize=True, but a different fixed seed per command
            # (derandomize would give every command the same sequence of draws).
            @seed(zlib.crc32(command.encode()))
            @settings(
                max_examples=20,
                deadline=None,
                derandomize=False,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(
                args=arguments_for(command),
                who=st.sampled_from(ROLES),
                chat=st.sampled_from(CHATS),
                name=display_names,
                mention=st.booleans(),
            )
            def one(args: str, who: str, chat: str, name: str | None, mention: bool) -> None:
                for placeholder, value in ids.items():
                    args = args.replace(placeholder, value)
                errors.records.clear()
                replies = runner.run(drive(bot, f"{command} {args}", who, chat, name, mention))
                logged = [r.getMessage() for r in errors.records]
                assert not logged, f"ERROR logged: {logged}"
                for reply in replies:
                    assert APOLOGY not in reply.plain, "the bot apologised: unhandled exception"
                    problems = reply_problems(reply)
                    assert not problems, f"{problems} in {reply!r}"
                overlong = runner.run(overlong_values(bot))
                assert not overlong, f"stored beyond the limits: {overlong}"

            one()
        finally:
            runner.run(bot.close())
            root.removeHandler(errors)


def test_the_checks_catch_unescaped_markup_and_fake_mentions() -> None:
    """The checks above are only worth something if they fail on what they look for."""
    assert html_problems("<b>x</b>", TELEGRAM_TAGS, set(), 0)
    assert html_problems("<b>x", TELEGRAM_TAGS, set(), 1)
    assert html_problems("<u>x</u>", TELEGRAM_TAGS, set(), 1)
    assert html_problems('<a href="x" onclick="y">x</a>', TELEGRAM_TAGS, set(), 1)
    assert html_problems("a & b", TELEGRAM_TAGS, set(), 0)
    assert not html_problems("&lt;b&gt; <b>x</b><br>", MATRIX_TAGS, {"br"}, 1)
    assert not reply_problems(Rich((Text("<b>@room</b> &"),)))


@pytest.mark.parametrize("chat", ["dm", "unlinked"])
@pytest.mark.parametrize(
    "text", ["card name a\x00b", "find a\x00b", "ag new ag7 a\x00b", "join ag2"]
)
async def test_control_characters_on_each_storage_back_end(
    database_url: str, text: str, chat: str
) -> None:
    """NUL and other control characters, on SQLite and on PostgreSQL (which refuses NUL
    in text columns)."""
    bot, _ = await prepare(database_url)
    errors = ErrorRecords()
    logging.getLogger().addHandler(errors)
    try:
        replies = await drive(bot, text, "admin", chat, "a\x00\x1b\u202eb", False)
    finally:
        logging.getLogger().removeHandler(errors)
        await bot.close()
    assert not [r.getMessage() for r in errors.records]
    assert replies and all(APOLOGY not in r.plain for r in replies)


@pytest.mark.parametrize(
    "text", ["card name a\ud800b", "ag new ag7 a\udc00b \ud83d\ude00", "join ag2", "ags"]
)
async def test_surrogates_on_each_storage_back_end(database_url: str, text: str) -> None:
    """Lone surrogates (JSON can carry them; neither database can store them) in the
    command and in the sender's name: replaced where messages come in, never an apology."""
    bot, _ = await prepare(database_url)
    errors = ErrorRecords()
    logging.getLogger().addHandler(errors)
    try:
        replies = await drive(bot, text, "admin", "dm", "x\ud800y", False)
    finally:
        logging.getLogger().removeHandler(errors)
        await bot.close()
    assert not [r.getMessage() for r in errors.records]
    assert replies and all(APOLOGY not in r.plain for r in replies)
