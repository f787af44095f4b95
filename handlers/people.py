"""How people and roles are shown in replies."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import N_
from bot.rich import AccountRef, Rich, bold, mention
from storage.models import Account, Role


def account_ref(account: Account) -> AccountRef:
    return AccountRef(account.platform, account.external_id, account.display_name, account.username)


def person_label(accounts: list[Account], *, notify: bool = False) -> Rich:
    """A person by their first account; a mention only where it can render as one."""
    if not accounts:
        return bold("?")
    return mention(account_ref(accounts[0]), notify=notify)


_ROLE_NAMES = {Role.LEAD.value: N_("Leitung"), Role.MEMBER.value: N_("Mitglied")}


def role_label(ctx: Context, role: str) -> str:
    """A stored role as the reader's word for it."""
    return ctx.lang.gettext(_ROLE_NAMES.get(role, N_("Mitglied")))
