"""How a card, its visibility and the editing help read."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import N_
from bot.rich import Rich, bold, code, italic, lines
from handlers.people import person_label
from storage.cards import Card, Visibility, split_list
from storage.models import Account


def numbered(options: tuple[str, ...]) -> Rich:
    return lines(*[f"{i}. {option}" for i, option in enumerate(options, 1)])


def render_card(ctx: Context, card: Card, accounts: list[Account]) -> Rich:
    who = bold(card.name) if card.name else person_label(accounts)
    rows: list[Rich | str] = [ctx.t("Visitenkarte von {who}", who=who)]
    fields: list[tuple[Rich, str]] = [
        (ctx.t("Organisation"), card.org),
        (ctx.t("Region"), ", ".join(split_list(card.regions))),
        (ctx.t("Themen"), ", ".join(split_list(card.topics))),
        (ctx.t("Kontakt"), card.contact),
    ]
    for label, value in fields:
        if value:
            rows.append(italic(label) + ": " + value)
    if card.about:
        rows.append(italic(ctx.t("Über mich")) + ":")
        rows.append(card.about)
    return lines(*rows)


def visibility_label(ctx: Context, visibility: str) -> Rich:
    if visibility == Visibility.ALLIANCE.value:
        return ctx.t("alle Mitglieder des Bündnisses und die Admins")
    return ctx.t("Menschen, die mit dir in einer AG sind")


def edit_help(ctx: Context) -> Rich:
    return lines(
        bold(ctx.t("So bearbeitest du deine Visitenkarte:")),
        "• " + code(ctx.cmd(ctx.lang.gettext(N_("card name Anna Beispiel")))),
        "• " + code(ctx.cmd(ctx.lang.gettext(N_("card org Kulturverein Musterstadt e.V.")))),
        "• "
        + code(ctx.cmd("card region"))
        + " – "
        + ctx.t(
            "zeigt die Landkreise, dann z. B. {example}", example=code(ctx.cmd("card region 3"))
        ),
        "• "
        + code(ctx.cmd("card topics"))
        + " – "
        + ctx.t(
            "zeigt die Themen, dann z. B. {example}", example=code(ctx.cmd("card topics 1, 2"))
        ),
        "• " + code(ctx.cmd("card about ...")) + " – " + ctx.t("ein kurzer Text über dich"),
        "• " + code(ctx.cmd("card contact ...")) + " – " + ctx.t("wie man dich erreicht"),
        "• " + code(ctx.cmd("card visibility ag|alliance")) + " – " + ctx.t("wer die Karte sieht"),
        ctx.t("Ein Feld leeren: {example}", example=code(ctx.cmd("card about -"))),
    )
