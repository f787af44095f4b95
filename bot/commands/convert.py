"""Typed arguments: text from the user -> AG, word, person. Failures are UserErrors
with a translated message that says what would work.

`arguments` cuts a command's text into its parameters (`take`) and converts each; a
missing or surplus argument is answered with the command's `usage`."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.commands import tokens
from bot.commands.declare import Command, Kind, Param
from bot.context import Context, UserError
from bot.rich import Rich, code, join, lines
from storage import repo
from storage.models import Account, Ag
from storage.text import visible

# `ag 2`, `#2`, `ag - 2`. The blanks after the separator are inside its (optional) group:
# `\s*[-_#]?\s*` let both runs of blanks share a long run of spaces in every possible way.
_AG_NUMBER = re.compile(r"^(?:ag)?\s*(?:[-_#]\s*)?(\d{1,3})$")


def normalize(value: str) -> str:
    """For comparing: without invisible characters (a zero-width space pasted along with
    `ag2`), compatibility forms folded, lower case."""
    return unicodedata.normalize("NFKC", visible(value)).lower()


def match_ag(raw: str, ags: list[Ag]) -> list[Ag]:
    """AGs a user meant by `raw`: `ag2`, `AG 2`, `2`, `#2` or a word of the name."""
    value = normalize(raw)
    if not value:
        return []
    squashed = re.sub(r"\s+", "", value)
    by_slug = {ag.slug.lower(): ag for ag in ags}
    if squashed in by_slug:
        return [by_slug[squashed]]
    if number := _AG_NUMBER.match(value):
        hit = by_slug.get(f"ag{int(number.group(1))}")
        return [hit] if hit else []
    if len(value) < 3:
        return []
    if exact := [ag for ag in ags if normalize(ag.name) == value]:
        return exact
    words = value.split()
    return [
        ag
        for ag in ags
        if all(any(w.startswith(q) for w in re.findall(r"\w+", normalize(ag.name))) for q in words)
    ]


async def convert_ag(ctx: Context, raw: str, *, archived: bool = False) -> Ag:
    ags = await ctx.services.ags.all()
    if archived:
        ags += [ag for ag in await ctx.services.ags.all(include_archived=True) if ag.archived]
    hits = match_ag(raw, ags)
    if len(hits) == 1:
        return hits[0]
    valid = join([code(ag.slug) for ag in ags if not ag.archived], ", ")
    if len(hits) > 1:
        options = join([code(ag.slug) for ag in hits], ", ")
        raise UserError(
            ctx.t(
                "„{raw}“ passt zu mehreren AGs: {options}. Bitte gib die Nummer an.",
                raw=raw,
                options=options,
            )
        )
    if not ags:
        raise UserError(ctx.t("Es gibt noch keine AGs."))
    raise UserError(
        ctx.t("Die AG „{raw}“ kenne ich nicht. Gültig sind: {valid}.", raw=raw[:60], valid=valid)
    )


async def convert_ags(ctx: Context, raw: str, *, archived: bool = False) -> list[Ag]:
    """One AG or several (`ag2 ag3`, `ag2, ag3`, `2 und 3`), in the order named."""
    ags = await ctx.services.ags.all()
    if archived:
        ags += [ag for ag in await ctx.services.ags.all(include_archived=True) if ag.archived]
    parts = _several(raw)
    if len(match_ag(raw, ags)) == 1 or len(parts) < 2:
        return [await convert_ag(ctx, raw, archived=archived)]
    found: list[Ag] = []
    for part in parts:
        ag = await convert_ag(ctx, part, archived=archived)
        if all(ag.id != seen.id for seen in found):
            found.append(ag)
    return found


def _several(raw: str) -> list[str]:
    """The AG references in `ag2 ag3`, `ag 2, ag 3`, `2 und 3`."""
    words = [w for w in re.split(r"[\s,;]+", raw) if w and normalize(w) not in _AND]
    parts: list[str] = []
    for w in words:
        if parts and normalize(parts[-1]) == "ag" and w.isdecimal():
            parts[-1] += w
        else:
            parts.append(w)
    return parts


_AND = frozenset({"und", "and", "&", "+", "sowie"})


async def chat_ag(ctx: Context, *, archived: bool = False) -> Ag | None:
    """The AG this chat is linked to, if exactly one."""
    async with ctx.db.read() as session:
        ags = await repo.linked_ags(
            session, ctx.chat.platform, ctx.chat.id, include_archived=archived
        )
    return ags[0] if len(ags) == 1 else None


async def convert_user(ctx: Context, raw: str) -> Account:
    """A person named by mention: a network mention entity first, then @username / id."""
    value = raw.strip()
    bare = value.lstrip("@").lower()
    async with ctx.db.read() as session:
        for mentioned in ctx.message.mentions:
            names = (mentioned.id, mentioned.username or "", mentioned.display_name)
            if bare in (name.lstrip("@").lower() for name in names):
                account = await repo.find_account(session, mentioned.platform, mentioned.id)
                if account:
                    return account
        platform = ctx.chat.platform
        account = await repo.find_account(session, platform, value)
        if account is None:
            found = await repo.accounts_by_username(session, platform, value.lstrip("@"))
            account = found[0] if len(found) == 1 else None
        if account is None:
            # Someone known only on another network (a Telegram @name asked about on Matrix):
            # taken when the name points to exactly one person.
            found = await repo.accounts_by_username(session, None, value.lstrip("@"))
            account = found[0] if len({a.person_id for a in found}) == 1 else None
    if account is None:
        raise UserError(
            ctx.t(
                "Ich kenne {who} noch nicht. Die Person muss mir zuerst einmal schreiben (z. B. {help}).",
                who=value[:80],
                help=code(ctx.cmd("help")),
            )
        )
    return account


async def arguments(ctx: Context, cmd: Command, rest: str) -> dict[str, Any]:
    """The handler's keyword arguments from the text after the command's name."""
    args: dict[str, Any] = {}
    remaining = rest
    for index, param in enumerate(cmd.params):
        last = index == len(cmd.params) - 1
        raw, remaining = take(param, remaining, last)
        if not raw:
            if (
                param.kind is Kind.AG
                and param.from_chat
                and (linked := await chat_ag(ctx, archived=param.archived))
            ):
                args[param.name] = linked
                continue
            if param.optional:
                args[param.name] = None
                continue
            raise UserError(await usage_with_choices(ctx, cmd, param))
        args[param.name] = await convert_one(ctx, param, raw)
    if remaining.strip():
        raise UserError(usage(ctx, cmd))
    return args


def take(param: Param, text: str, last: bool) -> tuple[str, str]:
    """Cut the text for one parameter off the front of `text`."""
    text = text.strip()
    if not text:
        return "", ""
    if param.kind is Kind.TEXT or (param.kind is Kind.AG and last):
        return tokens.unquote(text), ""
    token, rest = tokens.take(text)
    if param.kind is Kind.AG and token.lower() == "ag" and (num := re.match(r"\s*(\d+)\b", rest)):
        return f"ag{num.group(1)}", rest[num.end() :]
    return token, rest


async def convert_one(ctx: Context, param: Param, raw: str) -> Any:
    if param.convert is not None:
        return await param.convert(ctx, raw)
    if param.kind is Kind.AG:
        return await convert_ag(ctx, raw, archived=param.archived)
    if param.kind is Kind.USER:
        return await convert_user(ctx, raw)
    return raw


def usage(ctx: Context, cmd: Command, *, missing: Param | None = None) -> Rich:
    """What is missing, `So geht's: /join AG`, an example, and for a missing AG the
    valid ones - each on its own line, in the reader's language."""
    rows: list[Rich] = []
    if missing is not None:
        rows.append(ctx.t("Da fehlt noch etwas: {what}.", what=ctx.lang.gettext(missing.label)))
    rows.append(ctx.t("So geht's: {usage}", usage=code(ctx.signature(cmd, missing))))
    if cmd.examples:
        rows.append(ctx.t("Beispiel: {example}", example=code(ctx.example(cmd.examples[0]))))
    return lines(*rows)


async def usage_with_choices(ctx: Context, cmd: Command, missing: Param) -> Rich:
    """`usage`, and for a missing AG the AGs there are to choose from."""
    message = usage(ctx, cmd, missing=missing)
    if missing.kind is not Kind.AG:
        return message
    ags = [ag for ag in await ctx.services.ags.all() if not ag.archived]
    if not ags:
        return message
    valid = join([code(ag.slug) for ag in ags], ", ")
    return lines(message, ctx.t("Gültige AGs: {valid}", valid=valid))
