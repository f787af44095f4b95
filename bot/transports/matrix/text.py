"""Matrix text in and out: command recognition, reply fallbacks, pills, notices,
transaction ids and the invite allow-list. Pure functions, tested without a homeserver."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from bot.rich import Mention, Rich, mentioned_accounts, render_html, render_plain
from bot.transports.matrix.html import leading_pill
from bot.transports.matrix.html import pills as pills

PLATFORM = "matrix"
HTML_FORMAT = "org.matrix.custom.html"

# Anchored, one greedy `.*` to the end: linear. HTML is read by bot/transports/matrix/html.py.
_PREFIXED = re.compile(r"^[!/](?=[^\W_])(.*)$", re.S)


# --- pure helpers (unit-tested without a homeserver) -------------------------------------


def transaction_id(key: str | None) -> str:
    """The same key always gives the same id, so the homeserver drops a retried duplicate."""
    if key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(key.encode()).hexdigest()


def strip_reply_fallback(body: str) -> str:
    """Drop the `> <@x:y> quoted` lines (and the blank line after them) of a reply."""
    lines = body.split("\n")
    quoted = 0
    while quoted < len(lines) and lines[quoted].startswith(">"):
        quoted += 1
    if quoted == 0:
        return body
    if quoted < len(lines) and not lines[quoted].strip():
        quoted += 1
    return "\n".join(lines[quoted:])


def parse_command(
    body: str,
    formatted_body: str | None = None,
    *,
    is_reply: bool = False,
    bot_id: str = "",
    bot_names: Iterable[str] = (),
) -> str | None:
    """The command text of a message (`join ag2`), or None if it is not meant for the bot.

    A command starts with `!` or `/`; after a mention of the bot (`Bot: join ag2`, a pill or
    the plain name) the prefix is optional.
    """
    if is_reply:
        body = strip_reply_fallback(body)
    text = body.strip()
    rest = _after_address(text, formatted_body, bot_id, bot_names)
    if rest is not None:
        text = rest
    if match := _PREFIXED.match(text):
        command = match.group(1).strip()
        return command or None
    if rest and rest[0].isalnum():
        return rest.strip()
    return None


def _after_address(
    text: str, formatted_body: str | None, bot_id: str, bot_names: Iterable[str]
) -> str | None:
    """The text after a leading mention of the bot, or None if it does not start with one.

    A pill or a typed `@bot` may be followed by a blank; a bare name needs `:` or `,`
    (`Bündnisbot: join ag2`), so that `Bündnisbot ist super` stays a remark, not a command.
    """
    explicit: set[str] = set()
    if bot_id:
        explicit |= {bot_id, bot_id.split(":", 1)[0]}
    bare = {n for n in bot_names if n} | ({localpart(bot_id)} if bot_id else set())
    pill = leading_pill(formatted_body) if formatted_body else None
    if pill is not None and pill[0] == bot_id and pill[1]:
        explicit.add(pill[1])
    candidates = [(n, True) for n in explicit] + [(n, False) for n in bare - explicit]
    for name, blank_ok in sorted(candidates, key=lambda c: len(c[0]), reverse=True):
        if text[: len(name)].casefold() != name.casefold():
            continue
        rest = text[len(name) :]
        if rest[:1] in (":", ",") or not rest or (blank_ok and rest[0].isspace()):
            return rest.lstrip(":, \t\n")
    return None


def pills_to_ids(text: str, found: Iterable[tuple[str, str]], bot_id: str = "") -> str:
    """Put the user id where a client wrote a pill's display name (`lead ag2 Anna Beispiel`
    becomes `lead ag2 @anna:example.org`): one word the argument parser can resolve."""
    for user_id, label in found:
        if not label or user_id == bot_id:
            continue
        at = _word_at(text, label)
        if at >= 0:
            text = text[:at] + user_id + text[at + len(label) :]
    return text


def _word_at(text: str, label: str) -> int:
    """Where `label` first stands between blanks (or the ends) in `text`, else -1.

    `str.find` from one candidate to the next: no regex, no backtracking."""
    at = text.find(label)
    while at >= 0:
        end = at + len(label)
        if (at == 0 or text[at - 1].isspace()) and (end == len(text) or text[end].isspace()):
            return at
        at = text.find(label, at + 1)
    return -1


def matrix_to(user_id: str) -> str:
    return "https://matrix.to/#/" + quote(user_id, safe="@:._=-/+")


def _pill_html(node: Mention) -> str | None:
    account = node.account
    if account.platform != PLATFORM:
        return None
    href = html.escape(matrix_to(account.external_id), quote=True)
    return f'<a href="{href}">{html.escape(account.display_name, quote=False)}</a>'


def notice_content(message: Rich, *, private: bool = False) -> dict[str, Any]:
    """An `m.notice` (bots answer in notices, so other bots don't answer back).

    `m.mentions` lists only the Matrix accounts meant to be pinged: with it present, clients
    no longer ping people merely because their name appears in the text. In a `private`
    room (checked as such just before the send: the bot and one person, nobody else ever)
    a message that mentions nobody goes without it: the one reader is whom every message
    there is for, so there is nobody to keep from being pinged, and Synapse checks the
    field against a JSON schema on every event it takes (benchmark 2: some 4 ms per reply).
    """
    user_ids: list[str] = []
    for account in mentioned_accounts(message):
        if account.platform == PLATFORM and account.external_id not in user_ids:
            user_ids.append(account.external_id)
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": render_plain(message),
        "format": HTML_FORMAT,
        "formatted_body": render_html(message, _pill_html, newline="<br>"),
    }
    if user_ids or not private:
        content["m.mentions"] = {"user_ids": user_ids}
    return content


def inviter_allowed(inviter: str, allowed: Iterable[str]) -> bool:
    """`@anna:example.org` allows that user; `:example.org` everyone on that server."""
    server = inviter.split(":", 1)[1] if ":" in inviter else ""
    for entry in allowed:
        entry = entry.strip()
        if entry.startswith("@"):
            if inviter == entry:
                return True
        elif entry and server == entry.removeprefix(":"):
            return True
    return False


def localpart(user_id: str) -> str:
    return user_id.split(":", 1)[0].lstrip("@")
