"""How AGs and requesting people are named in replies (ag_title is public: other
features name AGs the same way), and an AG's block in `/ags`."""

from __future__ import annotations

from itertools import groupby

from bot.context import Context
from bot.rich import Rich, bold, code, italic, join
from bot.when_text import format_short
from handlers.people import person_label
from handlers.polls.render import network_name
from storage.ag_overview import AgOverview
from storage.models import Account, Ag
from storage.repo import AgSummary


def ag_title(ag: Ag) -> Rich:
    """An AG as **Name** (`slug`)."""
    return bold(ag.name) + " (" + code(ag.slug) + ")"


def handle(accounts: list[Account]) -> str:
    """How a lead names the person in `/approve`: `@username`, else the account id."""
    if not accounts:
        return "?"
    first = accounts[0]
    return f"@{first.username}" if first.username else first.external_id


def ag_block(ctx: Context, summary: AgSummary, seen: AgOverview) -> list[Rich]:
    """One AG in `/ags`: name and size, description, then (each only when there is
    something to say) its leads, its next meeting and where its chats are."""
    ag = summary.ag
    count = ctx.tn("{n} Mitglied", "{n} Mitglieder", summary.members)
    rows: list[Rich] = ["• " + code(ag.slug) + " " + bold(ag.name) + " – " + count]
    if ag.description:
        rows.append("   " + italic(ag.description))
    if seen.leads:
        names = join([person_label([a]) for a in seen.leads], ", ")
        rows.append(
            "   " + ctx.tn("Leitung: {names}", "Leitungen: {names}", len(seen.leads), names=names)
        )
    if seen.next_start is not None and seen.next_id is not None:
        when = format_short(seen.next_start.astimezone(ctx.services.settings.tz), ctx.lang.code)
        title = seen.next_title or ctx.lang.gettext("Treffen")
        rows.append(
            "   "
            + ctx.t(
                "Nächstes Treffen: {when} {title} ({id})",
                when=when,
                title=title,
                id=code(f"m{seen.next_id}"),
            )
        )
    if seen.chats:
        places = [
            network_name(platform)
            + " "
            + join([ctx.t("„{title}“", title=c.title or "?") for c in chats], ", ")
            for platform, chats in groupby(seen.chats, key=lambda c: c.platform)
        ]
        rows.append("   " + ctx.t("Chats: {places}", places=join(places, " · ")))
    return rows
