"""Help texts generated from the command declarations (`describe_group` is also what
dispatch answers to a command group typed without its sub-command)."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context
from bot.rich import Rich, bold, code, lines


def describe(ctx: Context, cmd: c.Command) -> Rich:
    rows: list[Rich | str] = [code(ctx.signature(cmd)) + " – " + ctx.lang.gettext(cmd.help)]
    for example in cmd.examples:
        rows.append(ctx.t("Beispiel: {example}", example=code(ctx.example(example))))
    if cmd.aliases:
        rows.append(ctx.t("Auch: {aliases}", aliases=", ".join(ctx.cmd(a) for a in cmd.aliases)))
    if cmd.right is c.Right.ADMIN:
        rows.append(ctx.t("Nur für Admins."))
    elif cmd.right is c.Right.LEAD:
        rows.append(ctx.t("Für die Leitung der AG und Admins."))
    elif cmd.right is c.Right.MEMBER:
        rows.append(ctx.t("Für Mitglieder der AG."))
    if cmd.where is c.Where.GROUP:
        rows.append(ctx.t("Nur in Gruppen und Räumen."))
    elif cmd.where is c.Where.DIRECT:
        rows.append(ctx.t("Nur im privaten Chat."))
    return lines(*rows)


# What members do in a group chat; `/help` there lists only these (and the commands
# that work in groups only, for those who may use them), the rest privately.
GROUP_HELP = ("ags", "join", "leave", "my", "meetings", "rsvp", "polls", "vote", "results", "help")


def group_help(ctx: Context, offered: list[c.Command]) -> Rich:
    """`/help` in a group: the everyday commands and a pointer to the private chat."""
    shown = [cmd for cmd in offered if cmd.name in GROUP_HELP or cmd.where is c.Where.GROUP]
    return lines(
        bold(ctx.t("Das Wichtigste hier in der Gruppe:")),
        *["• " + code(ctx.signature(cmd)) + " – " + ctx.lang.gettext(cmd.help) for cmd in shown],
        ctx.t(
            "Alle Befehle zeige ich dir im privaten Chat mit mir: {help}. Mehr zu einem "
            "Befehl: {example}",
            help=code(ctx.cmd("help")),
            example=code(ctx.cmd("help join")),
        ),
    )


def describe_group(ctx: Context, word: str) -> Rich:
    subs = [cmd for cmd in ctx.services.registry.unique() if cmd.words[0] == word]
    return lines(
        ctx.t("{cmd} braucht einen Unterbefehl:", cmd=code(ctx.cmd(word))),
        *["• " + code(ctx.signature(cmd)) + " – " + ctx.lang.gettext(cmd.help) for cmd in subs],
    )
