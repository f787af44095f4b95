"""Welcome: someone entering a chat linked to an AG is greeted once, with the way in
(`/join`, `/card`, `/survey run`).

Per chat, `/welcome on|off` (a lead of a linked AG, or an admin) decides. Without that
the chat's size does: greeted in chats of up to `BIG_CHAT` members, quiet in bigger ones
and where the network does not say how big the chat is.

Who was greeted is stored as a keyed hash of their network account per chat, so
greeting someone creates no account or person for them; `/forget` removes the hashes of
the person's accounts (`forget_greetings`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from bot.context import Context, Services
from bot.core import MemberJoined, UserRef
from bot.i18n import Lang
from bot.outbox import Audience
from bot.rich import Rich, code, join, mention
from handlers.membership.render import ag_title
from handlers.polls.secret import secret_key
from storage import repo
from storage import welcome as store
from storage.models import Ag

log = logging.getLogger(__name__)

# Chats with more members than this are not greeted in unless `/welcome on` says so.
BIG_CHAT = 50


async def welcome_key(services: Services, platform: str, external_id: str) -> str:
    """The keyed hash that stands for an account in `welcome_seen`."""
    key = await secret_key(services.settings)
    message = f"buendnisbot/welcome/{platform}:{external_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def welcome_by_default(member_count: int | None) -> bool:
    """Without `/welcome on|off`: on in chats known to be small, off otherwise."""
    return member_count is not None and member_count <= BIG_CHAT


async def forget_greetings(services: Services, session: repo.Session, person_id: int) -> None:
    """Remove every record of having greeted the person's accounts (for `/forget`), in
    the caller's transaction."""
    keys = [
        await welcome_key(services, account.platform, account.external_id)
        for account in await repo.accounts_of(session, person_id)
    ]
    await store.forget(session, keys)


async def greet(services: Services, event: MemberJoined) -> None:
    """Greet someone who entered a linked chat, once, where the chat wants greetings."""
    chat, user = event.chat, event.user
    if chat.is_direct or user.anonymous:
        return
    if services.transport_for(chat) is None:
        return
    async with services.db.read() as session:
        found = await store.chat_welcome(session, chat.platform, chat.id)
    if found is None:
        return
    enabled = found.enabled if found.enabled is not None else welcome_by_default(event.member_count)
    if not enabled:
        return
    who = await welcome_key(services, user.platform, user.id)
    now = services.now()
    # Recorded before sending: a failed send means no greeting rather than two.
    if not await services.db.run(lambda s: store.first_time(s, found.chat_id, who, now)):
        return
    ags = found.ags
    await services.outbox.send(
        Audience.of_chat(chat, found.language),
        lambda reader: greeting(reader.lang, reader.prefix, user, ags),
        key=f"welcome:{chat.key}:{who[:16]}",
    )
    log.info("welcomed someone in chat %d", found.chat_id)


def greeting(lang: Lang, prefix: str, user: UserRef, ags: list[Ag]) -> Rich:
    return lang.t(
        "Willkommen, {who}! Das hier ist der Chat der AG {ag}. Mit {join} wirst du Mitglied, "
        "mit {card} legst du deine Visitenkarte an, und {survey} startet die kurze Umfrage "
        "zur Zusammenarbeit im Bündnis.",
        who=mention(user.as_account()),
        ag=join((ag_title(ag) for ag in ags), ", "),
        join=join((code(f"{prefix}join {ag.slug}") for ag in ags), ", "),
        card=code(f"{prefix}card"),
        survey=code(f"{prefix}survey run"),
    )


async def chat_welcome(ctx: Context) -> store.ChatWelcome | None:
    """This chat's welcome state; None when it is linked to no AG."""
    async with ctx.db.read() as session:
        return await store.chat_welcome(session, ctx.chat.platform, ctx.chat.id)


async def set_enabled(ctx: Context, chat_id: int, enabled: bool) -> None:
    now = ctx.services.now()
    await ctx.db.run(lambda session: store.set_enabled(session, chat_id, enabled, now))
