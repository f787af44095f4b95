"""The way into an AG's chats for one person: after `/join`, after a lead approves a
request, and on `/chats`. Every linked chat on a network where the person has an account
is asked through the network's doors (an invite link that creates a join request on
Telegram, an invitation on Matrix); chats the person is in already are left out.

A right the bot lacks is noted for `/ag info` and told to the AG's leads privately, once
per right and chat; the person hears plainly that the leads know.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.admission import ChatRight, Doors, MissingRight, Way, WayKind, doors
from bot.context import Services
from bot.core import ChatRef, Unsupported
from bot.i18n import Lang
from bot.outbox import Audience
from bot.rich import AccountRef, Rich, bold, lines
from handlers.access.missing import missing_sentence
from handlers.membership.render import ag_title
from handlers.membership.service import tell_person
from handlers.people import account_ref
from storage import repo
from storage.access.gate import group_invite_link, set_invite_link
from storage.access.problems import clear_missing, note_missing
from storage.membership import leads_of
from storage.models import Account, Ag, Chat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Door:
    """One chat for one account: the way in, or the right the bot lacks there."""

    chat: ChatRef
    way: Way | None
    missing: MissingRight | None = None


def chat_ref(row: Chat) -> ChatRef:
    return ChatRef(row.platform, row.external_id, row.is_direct, row.title, row.language)


async def chats_and_accounts(
    services: Services, ag: Ag, person_id: int
) -> tuple[list[Chat], list[Account]]:
    """The AG's chats on networks that are running and have doors, and the person's
    accounts (not read when there is no such chat: the usual `/join` reads nothing)."""
    chats = [
        row
        for row in await services.linked_chats.of(ag.id)
        if row.platform in services.transports
        and isinstance(services.transports[row.platform], Doors)
    ]
    if not chats:
        return [], []
    async with services.db.read() as session:
        accounts = await repo.accounts_of(session, person_id)
    return chats, accounts


async def open_ways(services: Services, ag: Ag, person_id: int) -> list[Door]:
    """Ask each linked chat's network to let each of the person's accounts there in."""
    chats, accounts = await chats_and_accounts(services, ag, person_id)
    found: list[Door] = []
    for row in chats:
        transport = services.transports[row.platform]
        chat = chat_ref(row)
        kept = row.invite_link  # (the row is a cached snapshot: never changed here)
        if kept is None:
            async with services.db.read() as session:
                kept = await group_invite_link(session, row.platform, row.external_id)
        for account in (a for a in accounts if a.platform == row.platform):
            try:
                way = await doors(transport).let_in(chat, account_ref(account), link=kept)
            except Unsupported:
                continue
            except MissingRight as err:
                found.append(Door(chat, None, err))
                continue
            except Exception as exc:  # one failing chat must not cost the others
                log.warning("could not open the way into a chat: %s", type(exc).__name__)
                continue
            if way.kind is WayKind.ALREADY:
                continue
            if not (way.kind is WayKind.LINK and way.link == kept):
                # A new link or an invitation proves the right; a kept link does not.
                async with services.db.write() as session:
                    if way.kind is WayKind.LINK:
                        await set_invite_link(session, row.id, way.link)
                    await clear_missing(session, chat.platform, chat.id, ChatRight.INVITE.value)
                kept = way.link if way.kind is WayKind.LINK else kept
            found.append(Door(chat, way))
    await report_missing(services, ag, [d.missing for d in found if d.missing is not None])
    return found


async def report_missing(services: Services, ag: Ag, missing: list[MissingRight]) -> None:
    """Note each missing right for `/ag info`; the first time, tell the AG's leads (the
    alliance's admins where it has none: someone must hear of it)."""
    for err in missing:
        chat, right = err.chat, err.right.value
        async with services.db.write() as session:
            news = await note_missing(session, chat.platform, chat.id, chat.title, right)
        if not news:
            continue
        log.info("missing right %s noted in a chat of AG %s", right, ag.slug)
        async with services.db.read() as session:
            leads = await leads_of(session, ag.id)

        def notice(lang: Lang, prefix: str, err: MissingRight = err) -> Rich:
            return lang.t("AG {ag}:", ag=ag_title(ag)) + " " + missing_sentence(services, lang, err)

        for lead in leads:
            await tell_person(services, lead, notice)
        if not leads:  # an AG without a lead: the alliance's admins can give the right
            await _tell_admins(services, notice)


async def _tell_admins(services: Services, notice: Callable[[Lang, str], Rich]) -> None:
    audiences = []
    for admin in sorted(services.settings.admins):
        platform, _, external_id = admin.partition(":")
        if platform in services.transports:
            audiences.append(Audience.of_account(AccountRef(platform, external_id, external_id)))
    await services.outbox.fan_out(audiences, lambda reader: notice(reader.lang, reader.prefix))


def render_ways(lang: Lang, ag: Ag, found: list[Door]) -> Rich | None:
    """The person's message: one line per chat; None when there is nothing to offer."""
    if not found:
        return None
    rows: list[Rich] = [lang.t("So kommst du in die Chats der AG {ag}:", ag=ag_title(ag))]
    for door in found:
        where = bold(door.chat.title or door.chat.id)
        way = door.way
        if way is None:
            line = lang.t(
                "{chat}: Hier kann ich dich noch nicht hineinlassen, mir fehlt ein Recht. "
                "Die Leitung der AG weiß Bescheid.",
                chat=where,
            )
        elif way.kind is WayKind.INVITED:
            line = lang.t("{chat}: Du bist eingeladen, nimm die Einladung an.", chat=where)
        elif way.kind is WayKind.LINK:
            line = lang.t(
                "{chat}: {link} – frag dort den Beitritt an, ich nehme dich auf.",
                chat=where,
                link=way.link or "",
            )
        else:
            line = lang.t(
                "{chat}: Du kannst direkt beitreten: {link}", chat=where, link=way.link or ""
            )
        rows.append("• " + line)
    return lines(*rows)


async def offer_privately(services: Services, ag: Ag, person_id: int) -> bool:
    """Open the ways and write them to the person privately (after a lead's approval).
    True when there was nothing to say or it was said."""
    found = await open_ways(services, ag, person_id)
    if not found:
        return True
    return await tell_person(
        services, person_id, lambda lang, _prefix: render_ways(lang, ag, found) or Rich()
    )
