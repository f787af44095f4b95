"""How AGs and requesting people are named in replies (ag_title is public: other
features name AGs the same way)."""

from __future__ import annotations

from bot.rich import Rich, bold, code
from storage.models import Account, Ag


def ag_title(ag: Ag) -> Rich:
    """An AG as **Name** (`slug`)."""
    return bold(ag.name) + " (" + code(ag.slug) + ")"


def handle(accounts: list[Account]) -> str:
    """How a lead names the person in `/approve`: `@username`, else the account id."""
    if not accounts:
        return "?"
    first = accounts[0]
    return f"@{first.username}" if first.username else first.external_id
