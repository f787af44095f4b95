"""The rules and transactions of membership: what `/join`, `/leave`, the requests and
the admin commands change, each in one transaction of storage/membership.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.commands import rights
from bot.context import Context, Services
from bot.i18n import Lang
from bot.outbox import Audience
from bot.rich import Rich
from handlers.people import account_ref
from storage import ag_overview, membership, repo
from storage.ag_overview import AgOverview
from storage.models import Account, Ag, JoinPolicy, Role


async def join(ctx: Context, ag: Ag) -> bool:
    """The sender joins the AG; False when they were in it already."""
    person_id = await ctx.ensure_person()
    return await membership.join_alone(ctx.db, person_id, ag.id, ctx.services.now())


@dataclass(frozen=True)
class Left:
    left: bool  # was a member and is no longer
    last_lead: bool  # and that took the AG's last lead
    withdrawn: bool  # was no member, but a request of theirs was waiting and is gone


async def leave(ctx: Context, ag: Ag) -> Left:
    """The sender leaves the AG, or takes back their waiting request for it."""
    person_id = await ctx.ensure_person()
    if await membership.leave_as_member(ctx.db, person_id, ag.id):
        return Left(True, False, False)
    # A lead's leave (did it take the last lead?), or no member (a request taken back?).
    return await ctx.db.run(lambda session: _leave_or_withdraw(session, person_id, ag.id))


async def _leave_or_withdraw(session: repo.Session, person_id: int, ag_id: int) -> Left:
    left, last_lead = await membership.leave(session, person_id, ag_id)
    if left:
        return Left(True, last_lead, False)
    return Left(False, False, await membership.withdraw(session, person_id, ag_id))


async def summaries(ctx: Context) -> list[repo.AgSummary]:
    async with ctx.db.read() as session:
        return await repo.list_ags(session)


async def overview(ctx: Context, ag_ids: list[int]) -> dict[int, AgOverview]:
    """Leads, next meeting and linked chats of each AG, for `/ags`."""
    now = ctx.services.now()
    async with ctx.db.read() as session:
        return await ag_overview.overview(session, ag_ids, now)


async def my_memberships(ctx: Context) -> list[tuple[Ag, str]]:
    if ctx.person_id is None:
        return []
    return await ctx.services.memberships.of(ctx.person_id)


async def members(ctx: Context, ag: Ag) -> list[repo.MemberRow]:
    async with ctx.db.read() as session:
        return await repo.members_of(session, ag.id)


# --- requests ------------------------------------------------------------------------


async def ask_to_join(ctx: Context, ag: Ag) -> tuple[int, bool | None]:
    """Record the sender's request: their person id, and None (a member already),
    False (a request waits already) or True (asked now)."""
    person_id = await ctx.ensure_person()
    now = ctx.services.now()
    asked = await ctx.db.run(lambda session: membership.ask_to_join(session, person_id, ag.id, now))
    return person_id, asked


async def leads_and_accounts(
    ctx: Context, ag: Ag, person_id: int
) -> tuple[list[int], list[Account]]:
    """The AG's leads, and the accounts of the person who asks."""
    async with ctx.db.read() as session:
        return (
            await membership.leads_of(session, ag.id),
            await repo.accounts_of(session, person_id),
        )


async def tell_person(
    services: Services, person_id: int, text_for: Callable[[Lang, str], Rich]
) -> bool:
    """Write to the person privately, on the first of their networks that lets me."""
    async with services.db.read() as session:
        accounts = await repo.accounts_of(session, person_id)
        language = await repo.person_language(session, person_id)
    return await services.outbox.send_first(
        [Audience.of_account(account_ref(account), language) for account in accounts],
        lambda reader: text_for(reader.lang, reader.prefix),
    )


async def answer(ctx: Context, ag: Ag, person_id: int, accept: bool) -> tuple[bool, list[Account]]:
    """Answer a request: whether one was waiting, and the person's accounts."""
    return await ctx.db.run(lambda session: membership.answer(session, person_id, ag.id, accept))


async def pending(ctx: Context, ags: list[Ag]) -> list[membership.Pending]:
    async with ctx.db.read() as session:
        return await membership.pending(session, [ag.id for ag in ags])


async def requests_answerable(ctx: Context) -> list[Ag]:
    """The AGs whose requests the sender sees in `/requests`: the open AGs, and the
    archived ones they belong to, that they may manage."""
    candidates = await ctx.services.ags.all()
    known = {ag.id for ag in candidates}
    candidates += [ag for ag, _ in await my_memberships(ctx) if ag.id not in known]
    return await rights.led(ctx, candidates)


async def set_policy(ctx: Context, ag: Ag, policy: JoinPolicy) -> None:
    await ctx.db.run(lambda session: membership.set_policy(session, ag.id, policy))


# --- AGs, leads and chats ------------------------------------------------------------


async def create_ag(ctx: Context, slug: str, name: str, description: str) -> Ag | None:
    return await ctx.db.run(lambda session: membership.create_ag(session, slug, name, description))


async def update_ag(ctx: Context, ag: Ag, **values: object) -> Ag:
    return await ctx.db.run(lambda session: membership.update_ag(session, ag.id, **values))


async def change_role(ctx: Context, ag: Ag, account: Account, role: Role) -> bool:
    person_id = account.person_id
    return bool(
        await ctx.db.run(lambda session: membership.change_role(session, person_id, ag.id, role))
    )


async def link(ctx: Context, ag: Ag) -> bool:
    chat = ctx.chat
    return await ctx.db.run(
        lambda session: membership.link_chat(
            session, ag.id, chat.platform, chat.id, chat.title, chat.is_direct
        )
    )


async def unlink(ctx: Context, ag: Ag) -> bool:
    chat = ctx.chat
    return await ctx.db.run(
        lambda session: membership.unlink_chat(session, ag.id, chat.platform, chat.id)
    )
