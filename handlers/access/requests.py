"""Join requests to an AG's chats (Telegram: someone used the invite link that `/join`
gave out). A member or lead of an AG linked to the chat (or to any topic of the group) is
let in and told so privately; anyone else is left to the chat's admins, or declined where
every AG linked there says so (`/ag requests ag2 ablehnen|admins`)."""

from __future__ import annotations

import logging

from bot import commands as c
from bot.admission import ChatRight, JoinAsked, MissingRight, doors
from bot.context import Context, Services, UserError
from bot.core import Unsupported
from bot.i18n import N_
from bot.outbox import Audience, Reader
from bot.rich import Rich, bold, code
from handlers.access.ways import chat_ref, report_missing
from handlers.membership import service
from handlers.membership.render import ag_title
from storage.access.gate import RequestFacts, request_facts
from storage.access.problems import clear_missing
from storage.models import Ag, Strangers

feature = c.Feature("join_gate")

log = logging.getLogger(__name__)

_WORDS = {
    "admins": Strangers.ADMINS, "admin": Strangers.ADMINS,
    "ablehnen": Strangers.DECLINE, "decline": Strangers.DECLINE,
}  # fmt: skip


@feature.event("join_requested")
async def join_requested(services: Services, request: JoinAsked) -> None:
    chat, user = request.chat, request.user
    transport = services.transport_for(chat)
    if transport is None or user.anonymous:
        return
    async with services.db.read() as session:
        facts = await request_facts(session, chat.platform, chat.id, user.id)
    if not facts.ags:
        return  # a chat of no AG: its admins decide, as without the bot
    if facts.member_of:
        approve = True
    elif all(ag.strangers == Strangers.DECLINE.value for ag in facts.ags):
        approve = False
    else:
        log.info("join request of a non-member left to the chat's admins")
        return
    try:
        await doors(transport).answer_join_request(request, approve)
    except Unsupported:
        return
    except MissingRight:
        for ag in facts.ags:
            missing = [MissingRight(ChatRight.INVITE, chat_ref(row)) for row in facts.chats(ag.id)]
            await report_missing(services, ag, missing)
        return
    for row in facts.chats():
        async with services.db.write() as session:
            await clear_missing(session, row.platform, row.external_id, ChatRight.INVITE.value)
    log.info("join request %s", "approved" if approve else "declined")
    if approve:
        await _tell_member(services, request, facts)


async def _tell_member(services: Services, request: JoinAsked, facts: RequestFacts) -> None:
    """Telegram lets the bot write to someone whose join request it answered."""
    where = bold(request.chat.title or request.chat.id)
    ags = facts.member_of

    def text(reader: Reader) -> Rich:
        return reader.t(
            "Ich habe dich in {chat} aufgenommen, den Chat der AG {ag}.",
            chat=where,
            ag=ag_title(ags[0]),
        )

    try:
        await services.outbox.send(Audience.of_account(request.user.as_account()), text)
    except Exception as exc:
        log.info("could not tell an approved member: %s", type(exc).__name__)


def _describe(ctx: Context, ag: Ag) -> Rich:
    if ag.strangers == Strangers.DECLINE.value:
        return ctx.t(
            "Beitrittsanfragen zu den Chats der AG {ag} von Leuten, die nicht in der AG "
            "sind, lehne ich ab. Mitglieder nehme ich auf.",
            ag=ag_title(ag),
        )
    return ctx.t(
        "Beitrittsanfragen zu den Chats der AG {ag} von Leuten, die nicht in der AG sind, "
        "überlasse ich den Admins des Chats. Mitglieder nehme ich auf.",
        ag=ag_title(ag),
    )


@feature.command(
    "ag requests",
    help=N_(
        "Beitrittsanfragen von Nicht-Mitgliedern zu den Chats einer AG: ablehnen oder den Admins überlassen"
    ),
    params=(c.ag(), c.word("choice", N_("ablehnen|admins"), optional=True)),
    right=c.Right.LEAD,
    examples=(N_("ag requests ag2 ablehnen"), N_("ag requests ag2 admins")),
)
async def ag_requests(ctx: Context, ag: Ag, choice: str | None) -> None:
    if choice is None:
        await ctx.reply(_describe(ctx, ag))
        return
    chosen = _WORDS.get(choice.lower())
    if chosen is None:
        raise UserError(
            ctx.t(
                "So geht's: {usage}",
                usage=code(
                    ctx.cmd(f"ag requests {ag.slug} " + ctx.lang.gettext("ablehnen|admins"))
                ),
            )
        )
    updated = await service.update_ag(ctx, ag, strangers=chosen.value)
    await ctx.reply(_describe(ctx, updated))
