"""Matrix text in and out: command recognition, reply fallbacks, pills, notices,
transaction ids and the invite allow-list. Pure functions, tested without a homeserver."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

from bot.rich import Mention, Rich, mentioned_accounts, render_html, render_plain

PLATFORM = "matrix"
HTML_FORMAT = "org.matrix.custom.html"

_PREFIXED = re.compile(r"^[!/](?=[^\W_])(.*)$", re.S)
MX_REPLY = re.compile(r"^\s*<mx-reply>.*?</mx-reply>", re.S | re.I)
_PILL = re.compile(
    r"""<a\s[^>]*?href\s*=\s*["']https?://matrix\.to/#/([^"'?]+)[^"']*["'][^>]*>(.*?)</a>""",
    re.S | re.I,
)
_TAG = re.compile(r"<[^>]+>")


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


def pills(formatted_body: str | None) -> list[tuple[str, str]]:
    """(user id, label) of every user pill in an HTML body, in order."""
    found: list[tuple[str, str]] = []
    for target, label in _PILL.findall(formatted_body or ""):
        user_id = unquote(target)
        if user_id.startswith("@") and ":" in user_id:
            found.append((user_id, html.unescape(_TAG.sub("", label)).strip()))
    return found


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
        formatted_body = MX_REPLY.sub("", formatted_body or "")
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
    match = _PILL.match(formatted_body.lstrip()) if formatted_body else None
    if match and unquote(match.group(1)) == bot_id:
        label = html.unescape(_TAG.sub("", match.group(2))).strip()
        if label:
            explicit.add(label)
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
        match = re.search(rf"(?<!\S){re.escape(label)}(?!\S)", text)
        if match:
            text = text[: match.start()] + user_id + text[match.end() :]
    return text


def matrix_to(user_id: str) -> str:
    return "https://matrix.to/#/" + quote(user_id, safe="@:._=-/+")


def _pill_html(node: Mention) -> str | None:
    account = node.account
    if account.platform != PLATFORM:
        return None
    href = html.escape(matrix_to(account.external_id), quote=True)
    return f'<a href="{href}">{html.escape(account.display_name, quote=False)}</a>'


def notice_content(message: Rich) -> dict[str, Any]:
    """An `m.notice` (bots answer in notices, so other bots don't answer back).

    `m.mentions` lists only the Matrix accounts meant to be pinged: with it present, clients
    no longer ping people merely because their name appears in the text.
    """
    user_ids: list[str] = []
    for account in mentioned_accounts(message):
        if account.platform == PLATFORM and account.external_id not in user_ids:
            user_ids.append(account.external_id)
    return {
        "msgtype": "m.notice",
        "body": render_plain(message),
        "format": HTML_FORMAT,
        "formatted_body": render_html(message, _pill_html, newline="<br>"),
        "m.mentions": {"user_ids": user_ids},
    }


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
