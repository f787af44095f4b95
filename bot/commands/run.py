"""One command's way from text to handler: look the command up, check the place, convert
the arguments, check the right, call the handler. Problems become UserErrors, which the
dispatcher sends as the reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot import stages
from bot.commands import rights
from bot.commands.convert import arguments
from bot.commands.declare import Command, Right, Where
from bot.commands.suggest import suggest
from bot.context import Context, UserError
from bot.core import MAX_COMMAND
from bot.rich import AccountRef, Rich, code
from storage.text import visible

MarkReachable = Callable[[AccountRef, bool], Awaitable[None]]


async def run(ctx: Context, mark_reachable: MarkReachable) -> None:
    """Run the command in `ctx.message`; `mark_reachable` notes that a person can be
    written to privately (a new person's first private message)."""
    registry = ctx.services.registry
    if ctx.message.too_long or len(ctx.message.text) > MAX_COMMAND:
        await _too_long(ctx)
        return
    words = ctx.message.text.split()
    if not words:
        return
    cmd, used = registry.lookup(words)
    rest = ctx.message.text.strip()
    for _ in range(max(used, 1)):
        rest = rest[len(rest.split(None, 1)[0]) :].lstrip()
    if cmd is None:
        await _unknown(ctx, words[0], rest)
        return
    if ctx.person_id is None and not ctx.sender.anonymous and (cmd.makes_known or cmd.needs_person):
        # First contact: any command makes the sender known (an admin can then name them
        # lead). One write per new person; a known sender's id comes from the cache.
        await ctx.ensure_person()
        if ctx.message.is_direct:
            await mark_reachable(ctx.sender.as_account(), True)
    await _check_place(ctx, cmd)
    anonymous = ctx.sender.anonymous
    if anonymous and (cmd.needs_person or cmd.right >= Right.MEMBER):
        raise UserError(_anonymous(ctx))
    args = await arguments(ctx, cmd, rest)
    try:
        await rights.check(ctx, cmd, args)  # every command, before its handler
    except UserError:
        # Whoever writes as the group may hold the right: the refusal would mislead.
        if anonymous:
            raise UserError(_anonymous(ctx)) from None
        raise
    stages.mark("handler")
    await cmd.handler(ctx, **args)


def _anonymous(ctx: Context) -> Rich:
    """A sender writing as the group (a Telegram admin who stays anonymous) cannot be
    told apart from anyone else in it, so no right of a person can be checked."""
    return ctx.t(
        "Du schreibst anonym im Namen der Gruppe, darum weiß ich nicht, wer du bist. "
        "Schalte „Anonym bleiben“ in deinen Admin-Rechten aus oder schreib mir privat."
    )


async def _too_long(ctx: Context) -> None:
    """Refuse a command longer than any command needs, before anything parses it; in
    a group only when it names one of our commands (it may be for another bot)."""
    words = ctx.message.text[:100].split(None, 2)
    if ctx.message.is_direct or ctx.services.registry.lookup(words[:2])[0] is not None:
        raise UserError(
            ctx.t("Das ist zu lang für einen Befehl: höchstens {max} Zeichen.", max=MAX_COMMAND)
        )


async def _unknown(ctx: Context, word: str, rest: str) -> None:
    """A word that names no command: a command group's sub-commands, a suggestion that
    keeps what followed (`/jion ag2` -> `/join ag2`), or (privately) a pointer to help."""
    registry = ctx.services.registry
    if word.lower() in registry.groups():
        from handlers.help.render import describe_group

        raise UserError(describe_group(ctx, word.lower()))
    names = {name.split()[0] for name in registry.commands}  # aliases count too
    meant = suggest(word, names, group=not ctx.message.is_direct)
    if meant:
        typed = f"{meant} {_shortened(rest)}".strip()
        raise UserError(ctx.t("Meintest du {cmd}?", cmd=code(ctx.cmd(typed))))
    if ctx.message.is_direct:
        raise UserError(
            ctx.t(
                "Den Befehl kenne ich nicht. {help} zeigt, was ich kann.",
                help=code(ctx.cmd("help")),
            )
        )
    # In groups, unknown commands may be meant for another bot: stay quiet.


def _shortened(text: str, limit: int = 80) -> str:
    """The arguments repeated in a suggestion, cut at a word near `limit`; invisible and
    right-to-left control characters are not repeated."""
    text = visible(text)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


async def _check_place(ctx: Context, cmd: Command) -> None:
    if rights.fits_place(cmd, direct=ctx.message.is_direct):
        return
    if cmd.where is Where.GROUP:
        raise UserError(
            ctx.t(
                "{cmd} funktioniert nur in einer Gruppe oder einem Raum, nicht im privaten Chat.",
                cmd=code(ctx.cmd(cmd.name)),
            )
        )
    raise UserError(
        ctx.t("{cmd} funktioniert nur im privaten Chat mit mir.", cmd=code(ctx.cmd(cmd.name)))
    )
