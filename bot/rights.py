"""Who may do what for an AG, decided in this one place.

Rights come from the person's role in the AG *now* (or from being an admin), never from
what they did earlier: whoever started a poll or planned a meeting keeps no right to it
after leaving the AG or losing the lead role. The dispatcher checks commands that name
their AG; handlers that learn the AG later (from a poll or meeting id) ask here too.

- `Right.MEMBER`: current members and leads of the AG, admins.
- `Right.LEAD`: current leads of the AG, admins.
- `follows`: a member (as above), or someone writing in a chat linked to the AG: the
  AG's leads linked that chat, so whoever is in it reads the AG's polls and meetings
  there anyway.
- Things that belong to no AG (the survey's standing polls) are managed by admins only.
"""

from __future__ import annotations

from bot.commands import Right
from bot.context import Context, UserError
from bot.rich import code
from storage import repo
from storage.models import Ag, Role


async def allowed(ctx: Context, right: Right, ag: Ag | None) -> bool:
    """Whether the sender may do something that needs `right` for `ag`, now."""
    if right is Right.ANYONE or ctx.is_admin:
        return True
    if right is Right.ADMIN or ag is None:
        return False
    role = await ctx.role_in(ag.id)
    if right is Right.LEAD:
        return role is Role.LEAD
    return role is not None


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
