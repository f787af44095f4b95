"""Help texts generated from the command declarations (`describe_group` is also what
dispatch answers to a command group typed without its sub-command)."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context
from bot.rich import Rich, code, lines


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


def describe_group(ctx: Context, word: str) -> Rich:
    subs = [cmd for cmd in ctx.services.registry.unique() if cmd.words[0] == word]
    return lines(
        ctx.t("{cmd} braucht einen Unterbefehl:", cmd=code(ctx.cmd(word))),
        *["• " + code(ctx.signature(cmd)) + " – " + ctx.lang.gettext(cmd.help) for cmd in subs],
    )
