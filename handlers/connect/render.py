"""What `/connect` and `/disconnect` say: the summary of a link before it is confirmed,
the news for the other account, and the refusals."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import Lang
from bot.rich import AccountRef, Rich, bold, code, lines
from handlers.people import role_label
from handlers.polls.render import network_name
from storage.connect.link import Outcome, Side


def name(account: AccountRef) -> str:
    """Display name, the handle nobody else can have (a display name can be copied),
    and the network: `Anna Berg (@anna_b, Telegram)`."""
    shown = account.display_name or account.username or account.external_id
    network = network_name(account.platform)
    handle = account.username
    if not handle or handle == shown:
        return f"{shown} ({network})"
    return f"{shown} ({'' if handle.startswith('@') else '@'}{handle}, {network})"


def side_name(side: Side) -> str:
    account = side.account
    return name(
        AccountRef(account.platform, account.external_id, account.display_name, account.username)
    )


def confirm_cmd(ctx: Context, text: str) -> Rich:
    return code(ctx.cmd(f"connect {text} " + ctx.lang.gettext("JA")))


def _brings(ctx: Context, side: Side) -> Rich:
    ags = ", ".join(f"{slug} ({role_label(ctx, role)})" for slug, role in side.ags)
    return ctx.t(
        "AGs: {ags}; Visitenkarte: {card}",
        ags=ags or ctx.t("keine"),
        card=ctx.t("ja") if side.card else ctx.t("nein"),
    )


def summary(ctx: Context, text: str, other: Side, mine: Side) -> Rich:
    return lines(
        bold(ctx.t("Willst du dieses Konto mit {other} verbinden?", other=side_name(other))),
        ctx.t("• {other} bringt mit: {brings}", other=side_name(other), brings=_brings(ctx, other)),
        ctx.t("• Dieses Konto bringt mit: {brings}", brings=_brings(ctx, mine)),
        ctx.t(
            "Danach seid ihr eine Person: {other} bekommt alle deine AGs und Rollen (auch "
            "Leitungen), deine Visitenkarte, Stimmen und Zusagen, kann sie ändern und mit "
            "{forget} alles löschen. Bestätige nur, wenn beide Konten dir gehören.",
            other=side_name(other),
            forget=code(ctx.cmd("forget")),
        ),
        ctx.t(
            "Bestätige innerhalb von 10 Minuten mit {confirm}.",
            confirm=confirm_cmd(ctx, text),
        ),
    )


def code_given(ctx: Context, text: str, prefix: str) -> Rich:
    return ctx.t(
        "Dein Code: {code}\nSchreib mir im privaten Chat auf dem anderen Netzwerk {cmd}. "
        "Der Code gilt 10 Minuten und nur einmal. Gib ihn niemandem weiter.",
        code=code(text),
        cmd=code(f"{prefix}connect {text}"),
    )


def linked_here(ctx: Context, other: Side) -> Rich:
    return ctx.t(
        "Verbunden mit {other}! Deine Konten gehören jetzt zu einer Person: AGs, Rollen, "
        "Stimmen, Zusagen und Erinnerungen gelten auf beiden Netzwerken. {my} zeigt "
        "deine AGs, {disconnect} trennt die Verbindung wieder.",
        other=side_name(other),
        my=code(ctx.cmd("my")),
        disconnect=code(ctx.cmd("disconnect")),
    )


def unlinked_here(ctx: Context) -> Rich:
    return ctx.t(
        "Getrennt. Dieses Konto steht jetzt für sich allein, mit den AGs, Rollen und der "
        "Visitenkarte, die es mitgebracht hat. Stimmen, Zusagen und Erinnerungen bleiben "
        "beim anderen Konto; hier kannst du mit {join} beitreten oder dich mit {connect} "
        "wieder verbinden.",
        join=code(ctx.cmd("join <AG>")),
        connect=code(ctx.cmd("connect")),
    )


def linked(lang: Lang, other: str, prefix: str) -> Rich:
    return lang.t(
        "{other} ist jetzt mit dir verbunden: AGs, Rollen, Stimmen und Visitenkarte "
        "gehören jetzt zu einer Person. Warst du das nicht, trenne die Verbindung mit "
        "{disconnect}.",
        other=other,
        disconnect=code(f"{prefix}disconnect"),
    )


def unlinked(lang: Lang, other: str, prefix: str) -> Rich:
    return lang.t(
        "{other} ist nicht mehr mit dir verbunden und hat die AGs, Rollen und die "
        "Visitenkarte mitgenommen, die es mitgebracht hatte.",
        other=other,
    )


def refusal(ctx: Context, outcome: Outcome) -> Rich:
    again = code(ctx.cmd("connect"))
    messages = {
        Outcome.UNKNOWN: ctx.t(
            "Diesen Code kenne ich nicht. Hol dir auf dem anderen Netzwerk mit {connect} "
            "einen neuen.",
            connect=again,
        ),
        Outcome.USED: ctx.t(
            "Dieser Code wurde schon benutzt. Hol dir auf dem anderen Netzwerk mit {connect} "
            "einen neuen.",
            connect=again,
        ),
        Outcome.EXPIRED: ctx.t(
            "Dieser Code ist abgelaufen (er gilt 10 Minuten). Hol dir auf dem anderen Netzwerk "
            "mit {connect} einen neuen.",
            connect=again,
        ),
        Outcome.SAME_NETWORK: ctx.t(
            "Diesen Code musst du auf dem anderen Netzwerk eingeben, nicht hier."
        ),
        Outcome.ALREADY: ctx.t("Diese beiden Konten sind schon miteinander verbunden."),
        Outcome.TOO_MANY: ctx.t(
            "Zu viele falsche Codes. Versuch es in einer Stunde wieder, mit einem neuen Code."
        ),
        Outcome.NETWORK_TAKEN: ctx.t(
            "Eines der Konten ist schon mit einem Konto auf demselben Netzwerk verbunden. "
            "Trenne es zuerst mit {disconnect}.",
            disconnect=code(ctx.cmd("disconnect")),
        ),
    }
    return messages[outcome]
