"""How people and roles are shown in replies."""

from __future__ import annotations

from bot.context import Context
from bot.rich import AccountRef, Rich, bold, mention
from storage.models import Account, Role


def account_ref(account: Account) -> AccountRef:
    return AccountRef(account.platform, account.external_id, account.display_name, account.username)


def person_label(accounts: list[Account], *, notify: bool = False) -> Rich:
    """A person by their first account; a mention only where it can render as one."""
    if not accounts:
        return bold("?")
    return mention(account_ref(accounts[0]), notify=notify)


def role_label(ctx: Context, role: str) -> str:
    return ctx.lang.gettext("Leitung") if role == Role.LEAD.value else ctx.lang.gettext("Mitglied")
