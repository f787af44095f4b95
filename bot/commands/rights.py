"""Who may do what, and where, decided in this one place.

Every command declares its right and, where the AG does not come from an AG argument,
a scope that says where it does (a poll's, a meeting's, the chat's linked AG, any AG).
The dispatcher resolves the scope after converting the arguments and checks the right
here, for every command, before the handler runs (`check`); help and the command menus
ask `offered` whether to show a command to someone, dispatch asks `fits_place` whether
it may run in this chat.

Rights come from the person's role in the AG *now* (or from being an admin), never from
what they did earlier: whoever started a poll or planned a meeting keeps no right to it
after leaving the AG or losing the lead role.

- `Right.FOLLOWER`: a member (as below), or someone writing in a chat linked to the AG:
  the AG's leads linked that chat, so whoever is in it reads the AG's polls and meetings
  there anyway. Things that belong to no AG (the survey's standing polls) everyone sees.
- `Right.MEMBER`: current members and leads of the AG, admins.
- `Right.LEAD`: current leads of the AG, admins. Things that belong to no AG are managed
  by admins only.
- `Right.ADMIN`: the admins of the alliance (settings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.commands.convert import chat_ag, convert_ag
from bot.commands.declare import Command, Right, Scope, Where
from bot.context import Context, UserError
from bot.rich import Rich, code
from bot.settings import Settings
from storage import cards, membership, repo
from storage.cards import Card
from storage.models import Ag, JoinPolicy, Role
from storage.repo import Session


async def allowed(ctx: Context, right: Right, ag: Ag | None) -> bool:
    """Whether the sender may do something that needs `right` for `ag`, now."""
    if right is Right.ANYONE or ctx.is_admin:
        return True
    if right is Right.FOLLOWER:
        return ag is None or await follows(ctx, ag)
    if right is Right.ADMIN or ag is None:
        return False
    role = await ctx.role_in(ag.id)
    if right is Right.LEAD:
        return role is Role.LEAD
    return role is not None


async def leads_now(settings: Settings, session: Session, person_id: int, ag_id: int) -> bool:
    """Whether the person leads the AG now or is an admin, without a command: for what
    a link they were given shows (a lead's AG feed), checked on every request."""
    if ag_id in await membership.led_by(session, person_id):
        return True
    return await admin_now(settings, session, person_id)


async def admin_now(settings: Settings, session: Session, person_id: int) -> bool:
    """Whether one of the person's accounts is an admin's, without a command: for what
    a link shows (a page), checked on every request."""
    accounts = await repo.accounts_of(session, person_id)
    return any(settings.is_admin(a.platform, a.external_id) for a in accounts)


async def leads_any(ctx: Context) -> bool:
    """The sender leads at least one AG now."""
    if ctx.person_id is None:
        return False
    async with ctx.db.read() as session:
        roles = await repo.memberships_of(session, ctx.person_id)
    return any(role == Role.LEAD.value for _, role in roles)


async def led(ctx: Context, ags: Sequence[Ag]) -> list[Ag]:
    """Those of `ags` the sender may manage now (all of them for admins)."""
    return [ag for ag in ags if await allowed(ctx, Right.LEAD, ag)]


def may_join_directly(ctx: Context, ag: Ag) -> bool:
    """`/join` makes the sender a member at once: the AG is open, or they are an admin;
    otherwise it asks the AG's leads (an AG on request)."""
    return ag.join_policy != JoinPolicy.REQUEST.value or ctx.is_admin


# --- scopes ---------------------------------------------------------------------------


def arg(name: str, ag_of: Callable[[Any], Ag | None] | None = None) -> Scope:
    """The AG is the argument `name` (an Ag), or `ag_of(argument)` (a poll's, a meeting's)."""

    async def scope(ctx: Context, args: Mapping[str, Any]) -> Ag | None:
        value = args.get(name)
        if value is None or ag_of is None:
            return value
        return ag_of(value)

    return scope


OPEN = object()  # a scope's answer: this use of the command needs no right (a read-only form)


@dataclass(frozen=True)
class Among:
    """A scope's answer: the right must hold for one of `ags`. A refusal names `named`
    (None: the AGs in general)."""

    ags: Sequence[Ag]
    named: Ag | None = None


@dataclass(frozen=True)
class Worded:
    """A scope's answer: the right (the command's, or `right` where this form of the
    command needs more, e.g. starting a poll from the open /survey) must hold for `ag`,
    and a refusal says what `refuse(ctx, ag)` words instead of the general refusal."""

    ag: Ag
    refuse: Callable[[Context, Ag], Rich]
    right: Right | None = None


@dataclass(frozen=True)
class Needs:
    """A scope's answer: this form of the command needs `right` for `ag` (a command open
    to anyone whose changing form is for leads, e.g. /reminders)."""

    right: Right
    ag: Ag | None


def chat() -> Scope:
    """The AGs the chat is linked to: the right must hold for one of them."""

    async def scope(ctx: Context, args: Mapping[str, Any]) -> Among:
        if ctx.message.is_direct:
            return Among(())
        async with ctx.db.read() as session:
            ags = await repo.linked_ags(session, ctx.chat.platform, ctx.chat.id)
        return Among(ags, ags[0] if ags else None)

    return scope


def any_ag() -> Scope:
    """Any AG the sender belongs to: the right must hold for one of them."""

    async def scope(ctx: Context, args: Mapping[str, Any]) -> Among:
        if ctx.person_id is None:
            return Among(())
        async with ctx.db.read() as session:
            return Among([ag for ag, _ in await repo.memberships_of(session, ctx.person_id)])

    return scope


def named_or_chat(find: Callable[[Mapping[str, Any]], str | None]) -> Scope:
    """The AG named in the arguments (`find` picks the reference out, e.g. a `--ag`
    option in a free text), else the one the chat is linked to."""

    async def scope(ctx: Context, args: Mapping[str, Any]) -> Ag | None:
        ref = find(args)
        if ref:
            return await convert_ag(ctx, ref)
        return await chat_ag(ctx)

    return scope


async def check(ctx: Context, cmd: Command, args: Mapping[str, Any]) -> None:
    """The one check before every command's handler: the sender has the command's right
    for the AG its scope names (for one of them, where the scope names several)."""
    if cmd.right is Right.ANYONE and cmd.scope is None:
        return
    if cmd.scope is not None:
        found = await cmd.scope(ctx, args)
    elif cmd.ag_param is not None:
        found = args.get(cmd.ag_param.name)
    else:
        found = None
    await _holds(ctx, cmd.right, found)


async def check_press(ctx: Context, right: Right, scope: Scope | None, data: str) -> None:
    """The same check before a button's handler; the scope reads `{"data": data}`."""
    if right is Right.ANYONE:
        return
    await _holds(ctx, right, await scope(ctx, {"data": data}) if scope is not None else None)


async def _holds(ctx: Context, right: Right, found: Any) -> None:
    if found is OPEN:
        return
    if isinstance(found, Needs):
        await require(ctx, found.right, found.ag)
        return
    if isinstance(found, Worded):
        needed = right if found.right is None else found.right
        if not await allowed(ctx, needed, found.ag):
            raise UserError(found.refuse(ctx, found.ag))
        return
    if isinstance(found, Among):
        for ag in found.ags:
            if await allowed(ctx, right, ag):
                return
        if ctx.is_admin:
            return
        if found.named is None and right is Right.LEAD:
            raise UserError(ctx.t("Das dürfen nur die Leitungen der AGs und Admins."))
        raise refusal(ctx, right, found.named)
    await require(ctx, right, found)


async def offered_here(ctx: Context) -> list[Command]:
    """The commands help shows this person in this chat."""
    lead = await leads_any(ctx)
    direct, admin = ctx.message.is_direct, ctx.is_admin
    return [
        cmd
        for cmd in ctx.services.registry.unique()
        if offered(cmd, direct=direct, admin=admin, lead=lead)
    ]


def alliance_admin(ctx: Context) -> bool:
    """The sender is an admin of the alliance (settings)."""
    return ctx.is_admin


def fits_place(cmd: Command, *, direct: bool) -> bool:
    """The command may run in this kind of chat (a private chat or a group/room)."""
    if cmd.where is Where.GROUP:
        return not direct
    if cmd.where is Where.DIRECT:
        return direct
    return True


def offered(cmd: Command, *, direct: bool, admin: bool, lead: bool) -> bool:
    """Whether help and the menus show `cmd` to someone: it fits the place, and their
    standing (an admin; a lead of some AG) can reach its right."""
    if not fits_place(cmd, direct=direct):
        return False
    if cmd.right is Right.ADMIN:
        return admin
    if cmd.right is Right.LEAD:
        return lead or admin
    return True


# --- the parts -------------------------------------------------------------------------


async def in_linked_chat(ctx: Context, ag: Ag) -> bool:
    """The message comes from a group or room linked to the AG."""
    if ctx.message.is_direct:
        return False
    async with ctx.db.read() as session:
        linked = await repo.linked_ags(
            session, ctx.chat.platform, ctx.chat.id, include_archived=True
        )
    return any(found.id == ag.id for found in linked)


async def follows(ctx: Context, ag: Ag) -> bool:
    """May see the AG's polls and meetings and answer them: a member, or in its chat."""
    return await allowed(ctx, Right.MEMBER, ag) or await in_linked_chat(ctx, ag)


async def may_see_card(ctx: Context, owner_id: int, card: Card | None) -> bool:
    """Whether the sender may see the card of person `owner_id` (`card` None: may learn
    that there is none). The owner always; an `ag` card: people who share an AG with the
    owner; an `alliance` card: members of any AG, and admins."""
    async with ctx.db.read() as session:
        return await cards.may_see(
            session, owner_id, card, ctx.person_id, viewer_is_admin=ctx.is_admin
        )


async def sees_alliance_cards(ctx: Context) -> bool:
    """Whether the sender may see the cards opened to the whole alliance: members of any
    AG, and admins (the `alliance` column of may_see_card)."""
    if ctx.is_admin:
        return True
    if ctx.person_id is None:
        return False
    async with ctx.db.read() as session:
        return await cards.in_any_ag(session, ctx.person_id)


def refusal(ctx: Context, right: Right, ag: Ag | None) -> UserError:
    """The short answer for someone who lacks `right` for `ag`."""
    if right is Right.ADMIN or ag is None:
        return UserError(ctx.t("Das dürfen nur Admins des Bündnisses."))
    if right is Right.LEAD:
        return UserError(ctx.t("Das dürfen nur die Leitung der AG „{ag}“ und Admins.", ag=ag.name))
    return UserError(
        ctx.t(
            "Das sehen nur Mitglieder der AG „{ag}“. Mit {join} kannst du beitreten.",
            ag=ag.name,
            join=code(ctx.cmd(f"join {ag.slug}")),
        )
    )


async def require(ctx: Context, right: Right, ag: Ag | None) -> None:
    """Raise the short refusal unless the sender has `right` for `ag` now."""
    if not await allowed(ctx, right, ag):
        raise refusal(ctx, right, ag)


async def require_follows(ctx: Context, ag: Ag) -> None:
    if not await follows(ctx, ag):
        raise refusal(ctx, Right.MEMBER, ag)
