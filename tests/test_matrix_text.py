"""The text handling the Matrix transport does on its own, without a homeserver: reading
commands (pills, reply fallbacks), notices with mentions, transaction ids, retry delays,
allowed inviters (the end-to-end tests against Synapse: tests/test_matrix_e2e.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.rich import AccountRef, bold, mention, text
from bot.transports.matrix.send import retry_delay
from bot.transports.matrix.text import (
    inviter_allowed,
    notice_content,
    parse_command,
    pills,
    pills_to_ids,
    strip_reply_fallback,
    transaction_id,
)

BOT = "@buendnisbot:example.org"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!join ag2", "join ag2"),
        ("/join ag2", "join ag2"),
        ("  !ags  ", "ags"),
        ("join ag2", None),
        ("! join", None),
        ("!!!", None),
        ("/)", None),
        ("hallo !join", None),
        ("buendnisbot: join ag2", "join ag2"),
        ("Bündnisbot, !ags", "ags"),
        ("@buendnisbot:example.org help", "help"),
        ("buendnisbotanik ist toll", None),
        ("Bündnisbot ist super", None),
        ("@buendnisbot join ag2", "join ag2"),
        ("BÜNDNISBOT: ags", "ags"),
        ("Bündnisbot:", None),
    ],
)
def test_parse_command(body: str, expected: str | None) -> None:
    assert parse_command(body, bot_id=BOT, bot_names=["Bündnisbot"]) == expected


def test_parse_command_after_a_pill_to_the_bot() -> None:
    formatted = f'<a href="https://matrix.to/#/{BOT}">Der Bot</a>: join ag2'
    assert parse_command("Der Bot: join ag2", formatted, bot_id=BOT) == "join ag2"
    other = '<a href="https://matrix.to/#/@anna:example.org">Der Bot</a>: join ag2'
    assert parse_command("Der Bot: join ag2", other, bot_id=BOT) is None


def test_reply_fallback_is_stripped_before_parsing() -> None:
    body = "> <@anna:example.org> !help\n> zweite Zeile\n\n!join ag2"
    assert strip_reply_fallback(body) == "!join ag2"
    assert parse_command(body, is_reply=True, bot_id=BOT) == "join ag2"
    # Without the reply relation the quote is the user's own text: not a command.
    assert parse_command(body, bot_id=BOT) is None
    formatted = (
        "<mx-reply><blockquote><a href='https://matrix.to/#/!r:x/$e'>In reply to</a> "
        f'<a href="https://matrix.to/#/{BOT}">bot</a></blockquote></mx-reply>!join ag2'
    )
    assert parse_command(body, formatted, is_reply=True, bot_id=BOT) == "join ag2"
    assert strip_reply_fallback("!ags") == "!ags"


def test_pills_become_user_ids_in_the_command() -> None:
    formatted = (
        '!lead ag2 <a href="https://matrix.to/#/%40anna%3Aexample.org">Anna Beispiel</a> '
        '<a href="https://matrix.to/#/@bo:example.org?via=x">Bo</a>'
    )
    found = pills(formatted)
    assert found == [("@anna:example.org", "Anna Beispiel"), ("@bo:example.org", "Bo")]
    assert (
        pills_to_ids("lead ag2 Anna Beispiel Bo", found)
        == "lead ag2 @anna:example.org @bo:example.org"
    )
    assert pills_to_ids("lead Boris", [("@bo:example.org", "Bo")]) == "lead Boris"


def test_transaction_ids_follow_the_key() -> None:
    key = "reply:matrix:!room:example.org:$event:0"
    assert transaction_id(key) == transaction_id(key)
    assert transaction_id(key) != transaction_id(key[:-1] + "1")
    assert transaction_id(None) != transaction_id(None)


def test_notice_content_escapes_and_mentions() -> None:
    anna = AccountRef("matrix", "@anna:example.org", "Anna <3")
    tg = AccountRef("telegram", "42", "Tele")
    message = (
        bold("Hi ")
        + mention(anna)
        + " & "
        + mention(tg)
        + " "
        + mention(AccountRef("matrix", "@quiet:example.org", "Q"), notify=False)
        + text("\n<b>x</b>")
    )
    content = notice_content(message)
    assert content["msgtype"] == "m.notice"
    assert content["body"] == "Hi Anna <3 & Tele Q\n<b>x</b>"
    assert content["format"] == "org.matrix.custom.html"
    assert content["formatted_body"] == (
        '<b>Hi </b><a href="https://matrix.to/#/@anna:example.org">Anna &lt;3</a> &amp; '
        '<b>Tele</b> <a href="https://matrix.to/#/@quiet:example.org">Q</a><br>&lt;b&gt;x&lt;/b&gt;'
    )
    assert content["m.mentions"] == {"user_ids": ["@anna:example.org"]}
    assert notice_content(message, private=True)["m.mentions"] == content["m.mentions"]


def test_a_private_notice_that_mentions_nobody_goes_without_m_mentions() -> None:
    """In a room of the bot and one person there is nobody to keep from being pinged;
    in any other room an empty `m.mentions` keeps clients from pinging everyone named."""
    listing = text("Mitglieder: Anna, Ben, Carl")
    assert "m.mentions" not in notice_content(listing, private=True)
    assert notice_content(listing)["m.mentions"] == {"user_ids": []}


def test_retry_delays() -> None:
    def answer(errcode: str | None, status: int | None, retry_after_ms: int | None = None) -> Any:
        return SimpleNamespace(
            status_code=errcode,
            retry_after_ms=retry_after_ms,
            transport_response=SimpleNamespace(status=status) if status else None,
        )

    assert retry_delay(answer("M_LIMIT_EXCEEDED", 429, 1500), 1) == 1.5
    assert retry_delay(answer("M_LIMIT_EXCEEDED", 429), 3) == 2.0  # no hint: backoff
    assert retry_delay(answer("M_UNKNOWN", 502), 1) == 0.5
    assert retry_delay(answer(None, None), 10) == 8.0  # no answer at all: capped backoff
    assert retry_delay(answer("M_FORBIDDEN", 403), 1) is None
    assert retry_delay(answer("M_TOO_LARGE", 413), 1) is None


def test_allowed_inviters() -> None:
    allowed = ("@anna:example.org", ":localhost")
    assert inviter_allowed("@anna:example.org", allowed)
    assert inviter_allowed("@x:localhost", allowed)
    assert not inviter_allowed("@bob:example.org", allowed)
    assert not inviter_allowed("@x:evil-localhost", allowed)
    assert not inviter_allowed("@x:localhost.evil", allowed)
