"""`/leave` and the AG's chats: by default leaving an AG removes nobody from any chat.
An AG whose leads chose `/ag leave ag2 entfernen` has the bot remove the person's
accounts from its chats (they may come back by link or invitation), except from a chat
where another AG of theirs is linked too."""

from __future__ import annotations

import logging

from bot import commands as c
from bot.admission import ChatRight, MissingRight, doors
from bot.context import Context, UserError
from bot.core import Unsupported
from bot.i18n import N_
from bot.rich import Rich, bold, code, join
from handlers.access.ways import chat_ref, chats_and_accounts, report_missing
from handlers.membership import service
from handlers.membership.render import ag_title
from handlers.people import account_ref
from storage.access.gate import still_belongs
from storage.access.problems import clear_missing
from storage.models import Ag

feature = c.Feature("leave_chats")

log = logging.getLogger(__name__)

_REMOVE = {"entfernen", "remove", "ja", "yes", "an", "on"}
_KEEP = {"behalten", "keep", "nein", "no", "aus", "off"}


async def remove_from_chats(ctx: Context, ag: Ag, person_id: int) -> Rich | None:
    """After `/leave`: take the person out of the AG's chats where the AG wants that, and
    say what became of their place in the chats (None: the AG has no chats)."""
    services = ctx.services
    if not ag.leave_removes:
        linked = await services.ag_chats(ag.id)  # (cached: the usual /leave reads nothing)
        if not linked:
            return None
        return ctx.t(
            "Aus den Chats der AG entferne ich dich nicht; verlass sie selbst, wenn du magst."
        )
    chats, accounts = await chats_and_accounts(services, ag, person_id)
    removed: list[Rich] = []
    kept: list[Rich] = []  # another AG of theirs is there
    stays: list[Rich] = []  # the network cannot remove from there (a forum topic)
    missing: list[MissingRight] = []
    for row in chats:
        async with services.db.read() as session:
            if await still_belongs(session, person_id, row, ag.id):
                kept.append(bold(row.title or row.external_id))
                continue
        chat = chat_ref(row)
        for account in (a for a in accounts if a.platform == row.platform):
            try:
                gone = await doors(services.transports[row.platform]).remove_member(
                    chat, account_ref(account)
                )
            except Unsupported:  # e.g. a Telegram forum topic: only the whole group
                stays.append(bold(chat.title or chat.id))
                break
            except MissingRight as err:
                missing.append(err)
                continue
            except Exception as exc:  # one failing chat must not cost the others
                log.warning("could not remove from a chat: %s", type(exc).__name__)
                continue
            async with services.db.write() as session:
                await clear_missing(session, chat.platform, chat.id, ChatRight.REMOVE.value)
            if gone:
                removed.append(bold(chat.title or chat.id))
    await report_missing(services, ag, missing)
    log.info("leave: removed from %d chats, %d refused", len(removed), len(missing))
    parts: list[Rich] = []
    if removed:
        parts.append(
            ctx.t("Aus ihren Chats habe ich dich entfernt: {chats}.", chats=join(removed, ", "))
        )
    if kept:
        parts.append(
            ctx.t(
                "In {chats} bleibst du, weil dort auch eine andere AG von dir ist.",
                chats=join(kept, ", "),
            )
        )
    if stays:
        parts.append(
            ctx.t(
                "Aus {chats} kann ich niemanden entfernen; verlass sie selbst, wenn du magst.",
                chats=join(stays, ", "),
            )
        )
    if missing:
        names = join((bold(err.chat.title or err.chat.id) for err in missing), ", ")
        parts.append(
            ctx.t(
                "Aus {chats} konnte ich dich nicht entfernen, mir fehlt dort ein Recht; die Leitung der AG weiß Bescheid.",
                chats=names,
            )
        )
    return join(parts, " ") if parts else None


def _describe(ctx: Context, ag: Ag) -> Rich:
    if ag.leave_removes:
        return ctx.t(
            "Wer die AG {ag} mit {leave} verlässt, den entferne ich aus ihren Chats (außer aus Chats, in denen eine andere AG der Person verbunden ist).",
            ag=ag_title(ag),
            leave=code(ctx.cmd(f"leave {ag.slug}")),
        )
    return ctx.t(
        "Wer die AG {ag} mit {leave} verlässt, bleibt in ihren Chats, bis er oder sie selbst geht.",
        ag=ag_title(ag),
        leave=code(ctx.cmd(f"leave {ag.slug}")),
    )


@feature.command(
    "ag leave",
    help=N_("Ob Austretende auch aus den Chats der AG entfernt werden"),
    params=(c.ag(), c.word("choice", N_("entfernen|behalten"), optional=True)),
    right=c.Right.LEAD,
    examples=(N_("ag leave ag2 entfernen"), N_("ag leave ag2 behalten")),
)
async def ag_leave(ctx: Context, ag: Ag, choice: str | None) -> None:
    if choice is None:
        await ctx.reply(_describe(ctx, ag))
        return
    word = choice.lower()
    if word not in _REMOVE | _KEEP:
        raise UserError(
            ctx.t(
                "So geht's: {usage}",
                usage=code(
                    ctx.cmd(f"ag leave {ag.slug} " + ctx.lang.gettext("entfernen|behalten"))
                ),
            )
        )
    updated = await service.update_ag(ctx, ag, leave_removes=word in _REMOVE)
    await ctx.reply(_describe(ctx, updated))
