"""One message must not freeze the bot: 64 KiB adversarial bodies (unclosed tags and
quotes, tags nested 10,000 deep, long attribute values, thousands of pills, huge runs of
character references) through every receive path of both networks, each under a second.

Matrix: real nio events (`Event.parse_event`) through `matrix_receive.incoming` (text,
reply, pill address), the reaction and poll-response readers. Telegram: real updates
(`Update.de_json`) through python-telegram-bot's Application into the transport (commands,
text mentions, captions, button data, poll answers). Then the dispatcher: a command longer
than `MAX_COMMAND` is answered with a short message in the user's language, never run cut.
A one-message blow-up here stalls everything: nio calls these synchronously, before any
rate limit.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import nio
import pytest

from bot.core import MAX_COMMAND, MAX_MENTIONS, ChatRef, IncomingMessage, UserRef
from bot.transports.matrix.media import ReactionButton, button_for
from bot.transports.matrix.polls import PollDef, referenced_event, response_answers
from bot.transports.matrix.receive import incoming
from bot.transports.matrix.text import HTML_FORMAT, matrix_to
from tests.support import telegram_api as tg
from tests.support.fake import BotHarness
from tests.support.telegram_transport import RecordingInbox, running
from tests.support.timing import BOUND, timed

SIZE = 64 * 1024
BOT = "@buendnisbot:example.org"
ANNA = "@anna:example.org"
PILL = f'<a href="{matrix_to(ANNA)}">Anna</a> '
BOT_PILL = f'<a href="{matrix_to(BOT)}">Bündnisbot</a>: '


def fill(unit: str, head: str = "", size: int = SIZE) -> str:
    return (head + unit * ((size - len(head)) // len(unit) + 1))[:size]


HOSTILE_HTML = {
    "unclosed href (the report)": fill("a", '<a href="https://matrix.to/#/'),
    "unclosed single quote": fill("a", "<a href='https://matrix.to/#/@"),
    "start tags never closed": fill("<a "),
    "lone angle brackets": fill("<"),
    "nested 10,000 deep": "<b>" * 10_000 + fill("</b>", "x")[: SIZE - 30_000],
    "nested pills": fill(f'<a href="{matrix_to(ANNA)}">'),
    "long attribute value": f'<a href="{matrix_to("@" + "a" * SIZE)}">x</a>'[:SIZE],
    "many attributes": fill('x="1" ', "<a "),
    "thousands of pills": fill(PILL),
    "pill labels of entities": fill("&amp;", f'<a href="{matrix_to(ANNA)}">'),
    "numeric reference 64 KiB long": fill("1", "&#"),
    "hex references": fill("&#x"),
    "named references": fill("&amp;"),
    "unclosed comment": fill("a", "<!--"),
    "comment openers": fill("<!--"),
    "end tags never closed": fill("</a "),
    "reply fallback never closed": fill("<mx-reply>"),
    "quotes in tags": fill("<a href=\"'"),
}


def text_event(body: str, formatted: str | None = None, **content: Any) -> nio.Event:
    source: dict[str, Any] = {"msgtype": "m.text", "body": body, **content}
    if formatted is not None:
        source.update(format=HTML_FORMAT, formatted_body=formatted)
    event = nio.Event.parse_event(
        {
            "type": "m.room.message",
            "event_id": "$e",
            "sender": ANNA,
            "origin_server_ts": 1,
            "content": source,
        }
    )
    assert isinstance(event, nio.RoomMessageText)
    return event


def room() -> nio.MatrixRoom:
    found = nio.MatrixRoom("!room:example.org", BOT)
    found.add_member(BOT, "Bündnisbot", None)
    found.add_member(ANNA, "Anna", None)
    return found


def matrix_cases() -> Iterator[tuple[str, nio.RoomMessageText]]:
    for name, html in HOSTILE_HTML.items():
        yield f"{name}: a remark", text_event("hallo zusammen", html)
        yield f"{name}: a short command", text_event("!lead ag2 Anna", "!lead ag2 " + html)
        yield f"{name}: the bot addressed by pill", text_event("Bündnisbot: ags", BOT_PILL + html)
        yield f"{name}: as the plain body", text_event("!poll " + html[: SIZE - 6], html)
        yield (
            f"{name}: a reply",
            text_event(
                fill("> zitat\n") + "\n!ags",
                "<mx-reply>" + html + "</mx-reply>!ags",
                **{"m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}},
            ),
        )
    yield "long unclosed quotes", text_event(fill("„a ", "!poll "))
    yield "a long blank run", text_event(fill(" ", "Bündnisbot:") + "x")
    yield "64 KiB of names", text_event(fill("Bündnisbot "))


MATRIX_CASES = dict(matrix_cases())


@pytest.mark.parametrize("name", list(MATRIX_CASES))
def test_matrix_text_events(name: str) -> None:
    event = MATRIX_CASES[name]
    message, took = timed(incoming, room(), event, BOT)
    assert took < BOUND, f"{name}: {took:.2f} s"
    if message is not None:
        assert message.too_long or len(message.text) <= MAX_COMMAND
        assert len(message.mentions) <= MAX_MENTIONS


def test_the_reported_message_is_read_quickly_and_pills_still_work() -> None:
    """The message of the report (7.4 s before), and a command with pills after the fix."""
    reported = text_event("hallo", '<a href="https://matrix.to/#/' + "a" * 20_000)
    message, took = timed(incoming, room(), reported, BOT)
    assert message is None and took < 0.1
    command = text_event("Bündnisbot: lead ag2 Anna", BOT_PILL + "lead ag2 " + PILL)
    message = incoming(room(), command, BOT)
    assert message is not None and message.text == f"lead ag2 {ANNA}"
    assert [m.id for m in message.mentions] == [BOT, ANNA]


def test_a_reply_that_addresses_the_bot_by_pill() -> None:
    fallback = (
        f"<mx-reply><blockquote><a href='{matrix_to(ANNA)}'>Anna</a> hi</blockquote></mx-reply>"
    )
    event = text_event(
        "> <@anna:example.org> hi\n\nDer Bot: lead ag2 Anna",
        fallback + f'<a href="{matrix_to(BOT)}">Der Bot</a>: lead ag2 ' + PILL,
        **{"m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}},
    )
    message = incoming(room(), event, BOT)
    assert message is not None and message.text == f"lead ag2 {ANNA}"
    assert [m.id for m in message.mentions] == [BOT, ANNA]  # the quoted pill is not one


def test_a_long_matrix_command_is_marked_not_parsed() -> None:
    message = incoming(room(), text_event(fill("x ", "!poll ")), BOT)
    assert message is not None and message.too_long and message.text.startswith("poll")
    assert message.mentions == ()


def test_mentions_are_capped() -> None:
    declared = [f"@u{n}:example.org" for n in range(5000)]
    event = text_event(
        "!ags", fill(PILL, "!ags ", 16_000), **{"m.mentions": {"user_ids": declared}}
    )
    message = incoming(room(), event, BOT)
    assert message is not None and len(message.mentions) == MAX_MENTIONS


def test_matrix_reactions_and_poll_responses() -> None:
    buttons = [ReactionButton("👍", "yes"), ReactionButton("👎", "no")]
    for key in (fill("👍"), fill("\ufe0f"), fill(" "), fill("<a ")):
        reaction = nio.Event.parse_event(
            {
                "type": "m.reaction",
                "event_id": "$r",
                "sender": ANNA,
                "origin_server_ts": 1,
                "content": {
                    "m.relates_to": {"rel_type": "m.annotation", "event_id": "$b", "key": key}
                },
            }
        )
        assert isinstance(reaction, nio.ReactionEvent)
        found, took = timed(button_for, buttons, reaction.key)
        assert found is None and took < BOUND
    poll = PollDef(tuple("abcdefghijklmnopqrst"), max_selections=20)
    for answers in (["a"] * 10_000, [fill("a")], [f"x{n}" for n in range(10_000)]):
        response = nio.Event.parse_event(
            {
                "type": "org.matrix.msc3381.poll.response",
                "event_id": "$v",
                "sender": ANNA,
                "origin_server_ts": 1,
                "content": {
                    "m.relates_to": {"rel_type": "m.reference", "event_id": "$p"},
                    "org.matrix.msc3381.poll.response": {"answers": answers},
                },
            }
        )
        started = time.perf_counter()
        assert referenced_event(response.source["content"]) == "$p"
        picked = poll.indexes(response_answers(response.source["content"]))
        assert time.perf_counter() - started < BOUND
        assert picked in ((0,), ())


# --- Telegram ------------------------------------------------------------------------------

ALICE = tg.user(501, "Alice", username="alice")


def telegram_updates() -> Iterator[tuple[str, dict[str, Any]]]:
    dm = tg.private_chat(ALICE)
    group = tg.group(-900, "Gruppe")
    for name, body in (
        ("unclosed quotes", fill("„a ", "/poll ")),
        ("angle brackets", fill("<a ", "/join ")),
        ("blanks then a letter", fill(" ", "/join ag") + "x"),
        ("numbers", fill("1", "/vote ")),
    ):
        yield f"command: {name}", tg.update(tg.message(group, ALICE, body))
    mentions = [
        {"type": "text_mention", "offset": 6 + n, "length": 1, "user": tg.user(1000 + n, "P")}
        for n in range(10_000)
    ]
    yield (
        "10,000 text mentions",
        tg.update(tg.message(dm, ALICE, "/lead " + "x" * 10_000, entities=mentions)),
    )
    yield (
        "a 64 KiB caption",
        tg.update(
            {
                **{k: v for k, v in tg.message(dm, ALICE, "x").items() if k != "text"},
                "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}],
                "caption": fill("„a ", "/poll "),
                "caption_entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            }
        ),
    )
    sent = tg.message(dm, tg.user(42, "Bot", is_bot=True), "Wähle:")
    yield (
        "64 KiB button data",
        tg.update(tg.callback_query(sent, ALICE, fill("a:")), "callback_query"),
    )
    poll = tg.poll_object("Q?", ["A", "B"], anonymous=False)
    answer = tg.poll_answer(poll, ALICE, [0])
    answer["option_ids"] = [0] * 10_000
    answer["option_persistent_ids"] = ["x"] * 10_000
    yield "10,000 poll option ids", tg.update(answer, "poll_answer")


TELEGRAM_CASES = dict(telegram_updates())


@pytest.mark.parametrize("name", list(TELEGRAM_CASES))
async def test_telegram_updates(name: str) -> None:
    payload = TELEGRAM_CASES[name]
    inbox = RecordingInbox()
    async with running(inbox) as bot:
        started = time.perf_counter()
        await bot.feed(payload)
        took = time.perf_counter() - started
    assert took < BOUND, f"{name}: {took:.2f} s"
    for message in inbox.messages:
        assert message.too_long or len(message.text) <= MAX_COMMAND
        assert len(message.mentions) <= MAX_MENTIONS
    if name == "a 64 KiB caption":
        assert inbox.messages == []  # captions are not commands
    if name == "64 KiB button data":
        assert inbox.presses == []  # no button of ours carries that much


async def test_a_long_telegram_command_is_refused_not_run(sqlite_url: str) -> None:
    inbox = RecordingInbox()
    async with running(inbox) as bot:
        dm = tg.private_chat(ALICE)
        await bot.feed(tg.update(tg.message(dm, ALICE, fill("„a ", "/poll "))))
    [message] = inbox.messages
    assert message.too_long and message.text == "poll"


# --- the dispatcher ------------------------------------------------------------------------


def fake(message: IncomingMessage, *, direct: bool) -> IncomingMessage:
    """A transport's message as if it came from the harness's fake network."""
    chat = ChatRef("fake", "dm-anna" if direct else "gruppe", is_direct=direct)
    return dataclasses.replace(message, chat=chat, sender=UserRef("fake", "anna", "Anna"))


async def say(bot: BotHarness, message: IncomingMessage) -> list[str]:
    before = len(bot.transport.sent)
    started = time.perf_counter()
    await (await bot.app.dispatcher.message(message))
    assert time.perf_counter() - started < BOUND * 5  # the database is in it, too
    return [s.text for s in bot.transport.sent[before:]]


async def test_a_too_long_command_gets_a_short_answer(bot: BotHarness) -> None:
    long_poll = incoming(room(), text_event(fill("„a ", "!poll ")), BOT)
    assert long_poll is not None
    expected = ["Das ist zu lang für einen Befehl: höchstens 4096 Zeichen."]
    assert await say(bot, fake(long_poll, direct=True)) == expected
    assert await say(bot, fake(long_poll, direct=False)) == expected
    # Not a command of ours, in a group: maybe for another bot, so no answer.
    other = IncomingMessage(ChatRef("fake", "gruppe"), UserRef("fake", "anna", "Anna"), "x" * SIZE)
    assert await say(bot, other) == []
    # Just long enough is run as usual; one more character is refused, not cut.
    poll = '/poll "Frage?" "A" "B" '
    fits = poll + " " * (MAX_COMMAND - len(poll) + 1)
    replies = await bot.dm("anna").say("anna", fits)
    assert replies and replies != expected
    assert await bot.dm("anna").say("anna", fits + "x") == expected


async def test_english_readers_get_it_in_english(bot: BotHarness) -> None:
    dm = bot.dm("anna")
    await dm.say("anna", "/lang en")
    assert await dm.say("anna", "/ags " + "x" * MAX_COMMAND) == [
        "That is too long for a command: at most 4096 characters."
    ]
