"""Greeting, help generated from the command declarations, and the language setting."""

from __future__ import annotations

from bot import commands as c
from bot.commands import rights
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, bold, code, lines
from handlers.help import service
from handlers.help.render import describe, describe_group, group_help

feature = c.Feature("help")

_LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


@feature.command(
    "help",
    help=N_("Zeigt, was du hier tun kannst, oder erklärt einen Befehl"),
    params=(c.text("topic", N_("Befehl"), optional=True),),
    examples=("help join",),
    aliases=("hilfe",),
)
async def help_command(ctx: Context, topic: str | None) -> None:
    # Writing /help (any command) makes someone known, e.g. before an admin names them
    # lead (convert_user's advice): dispatch does that for every command.
    if topic:
        words = topic.lstrip("/!").split()
        cmd, _ = ctx.services.registry.lookup(words)
        if cmd is None and words and words[0].lower() in ctx.services.registry.groups():
            await ctx.reply(describe_group(ctx, words[0].lower()))
            return
        if cmd is None:
            raise UserError(
                ctx.t(
                    "Den Befehl „{topic}“ gibt es nicht. {help} zeigt alle.",
                    topic=topic[:40],
                    help=code(ctx.cmd("help")),
                )
            )
        await ctx.reply(describe(ctx, cmd))
        return
    offered = await rights.offered_here(ctx)
    if not ctx.message.is_direct:
        await ctx.reply(group_help(ctx, offered))
        return
    rows: list[Rich | str] = [bold(ctx.t("Das kannst du hier tun:"))]
    for cmd in offered:
        rows.append("• " + code(ctx.signature(cmd)) + " – " + ctx.lang.gettext(cmd.help))
    rows.append(ctx.t("Mehr zu einem Befehl: {example}", example=code(ctx.cmd("help join"))))
    await ctx.reply(lines(*rows))


@feature.command("start", help=N_("Begrüßung und erste Schritte"), menu=False)
async def start(ctx: Context) -> None:
    greeting = ctx.t(
        "Hallo {name}! Ich bin der Bündnisbot und helfe bei der Arbeit in den AGs des Bündnisses.",
        name=ctx.sender.display_name[:60],
    )
    other = "de" if ctx.lang.code != "de" else "en"
    steps = lines(
        ctx.t("So geht's los:"),
        "• " + ctx.t("{ags} zeigt alle AGs", ags=code(ctx.cmd("ags"))),
        "• " + ctx.t("{join} – einer AG beitreten", join=code(ctx.cmd("join ag2"))),
        "• " + ctx.t("{my} – deine AGs", my=code(ctx.cmd("my"))),
        # Offered in the other language, to those who read it (`/lang de` to English readers).
        "• " + ctx.t("{lang} – switch to English", lang=code(ctx.cmd("lang " + other))),
        "• " + ctx.t("{help} – alle Befehle", help=code(ctx.cmd("help"))),
    )
    await ctx.reply(lines(greeting, steps))


@feature.command(
    "lang",
    help=N_("Sprache wählen (de oder en)"),
    params=(c.word("language", N_("de|en"), optional=True),),
    examples=("lang en",),
    aliases=("sprache", "language"),
)
async def lang(ctx: Context, language: str | None) -> None:
    """In a private chat the person's language; in a group the group's, which its AG's
    leads and the admins set (everyone there reads the same replies)."""
    translator = ctx.services.translator
    choices = ", ".join(code(lang).plain for lang in translator.languages)
    in_group = not ctx.message.is_direct
    if not language:
        current = _LANGUAGE_NAMES.get(ctx.lang.code, ctx.lang.code)
        example = code(
            ctx.cmd("lang " + next(x for x in translator.languages if x != ctx.lang.code))
        )
        if in_group:
            await ctx.reply(
                ctx.t(
                    "In diesem Chat schreibe ich auf {current}. Wählbar: {choices}, z. B. {example}.",
                    current=current,
                    choices=choices,
                    example=example,
                )
            )
            return
        await ctx.reply(
            ctx.t(
                "Deine Sprache ist {current}. Wählbar: {choices}, z. B. {example}.",
                current=current,
                choices=choices,
                example=example,
            )
        )
        return
    code_ = language.lower()[:5]
    if ctx.sender.anonymous:
        raise UserError(
            ctx.t(
                "Schreib mir dafür bitte privat; als anonymer Admin kann ich mir keine Sprache merken."
            )
        )
    if not translator.supports(code_):
        raise UserError(
            ctx.t(
                "Die Sprache „{lang}“ gibt es nicht. Wählbar: {choices}.",
                lang=language[:20],
                choices=choices,
            )
        )
    if in_group:
        if not await service.may_set_chat_language(ctx):
            raise UserError(
                ctx.t(
                    "Die Sprache dieses Chats dürfen nur die Leitungen seiner AG und Admins "
                    "ändern. Deine eigene Sprache stellst du im privaten Chat mit mir ein: "
                    "{example}",
                    example=code(ctx.cmd("lang " + code_)),
                )
            )
        await service.set_chat_language(ctx, code_)
        ctx.lang = translator.for_language(code_)
        await ctx.reply(ctx.t("In diesem Chat schreibe ich ab jetzt auf Deutsch."))
        return
    await service.set_language(ctx, code_)
    ctx.lang = translator.for_language(code_)
    await ctx.reply(ctx.t("Ich schreibe dir ab jetzt auf Deutsch."))


@feature.command(
    "whoami",
    help=N_("Zeigt deine Konto-Kennung (z. B. für die Admin-Liste)"),
    aliases=("id",),
)
async def whoami(ctx: Context) -> None:
    account = f"{ctx.sender.platform}:{ctx.sender.id}"
    # The id stands alone at the end of its line: copied with a double-click, no
    # sentence punctuation sticks to it.
    message = ctx.t("Deine Konto-Kennung: {account}", account=code(account))
    if rights.alliance_admin(ctx):
        message = lines(message, ctx.t("Du bist Admin des Bündnisses."))
    await ctx.reply(message)
