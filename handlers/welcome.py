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

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands as c
from bot import rights
from bot.context import Context, Services, UserError
from bot.core import MemberJoined, UserRef
from bot.i18n import N_, Lang
from bot.outbox import Audience
from bot.rich import Rich, code, join, mention
from handlers.membership.render import ag_title
from handlers.poll_secret import secret_key
from storage import repo
from storage.models import Ag
from storage.welcome_models import WelcomeSeen, WelcomeSetting

feature = c.Feature("welcome")

log = logging.getLogger(__name__)

# Chats with more members than this are not greeted in unless `/welcome on` says so.
BIG_CHAT = 50

_ON = {"on", "an", "ein", "ja", "yes"}
_OFF = {"off", "aus", "nein", "no"}


async def welcome_key(services: Services, platform: str, external_id: str) -> str:
    """The keyed hash that stands for an account in `welcome_seen`."""
    key = await secret_key(services.settings)
    message = f"buendnisbot/welcome/{platform}:{external_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def welcome_by_default(member_count: int | None) -> bool:
    """Without `/welcome on|off`: on in chats known to be small, off otherwise."""
    return member_count is not None and member_count <= BIG_CHAT


async def forget_greetings(services: Services, session: AsyncSession, person_id: int) -> None:
    """Remove every record of having greeted the person's accounts (for `/forget`)."""
    keys = [
        await welcome_key(services, account.platform, account.external_id)
        for account in await repo.accounts_of(session, person_id)
    ]
    if keys:
        await session.execute(delete(WelcomeSeen).where(WelcomeSeen.who.in_(keys)))


@feature.event("member_joined")
async def member_joined(services: Services, event: MemberJoined) -> None:
    chat, user = event.chat, event.user
    if chat.is_direct or user.anonymous:
        return
    if services.transport_for(chat) is None:
        return
    async with services.db.read() as session:
        ags = await repo.linked_ags(session, chat.platform, chat.id)
        row = await repo.find_chat(session, chat.platform, chat.id)
        if not ags or row is None:
            return
        setting = await session.get(WelcomeSetting, row.id)
        language = row.language
    enabled = setting.enabled if setting else welcome_by_default(event.member_count)
    if not enabled:
        return
    who = await welcome_key(services, user.platform, user.id)
    chat_id = row.id

    async def first_time(session: AsyncSession) -> bool:
        seen = await session.scalar(
            select(WelcomeSeen.who).where(WelcomeSeen.chat_id == chat_id, WelcomeSeen.who == who)
        )
        if seen is not None:
            return False
        session.add(WelcomeSeen(chat_id=chat_id, who=who, at=services.now()))
        return True

    # Recorded before sending: a failed send means no greeting rather than two.
    if not await services.db.run(first_time):
        return
    await services.outbox.send(
        Audience.of_chat(chat, language),
        lambda reader: greeting(reader.lang, reader.prefix, user, ags),
        key=f"welcome:{chat.key}:{who[:16]}",
    )
    log.info("welcomed someone in chat %d", chat_id)


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


@feature.command(
    "welcome",
    help=N_("Neue Leute in diesem Chat begrüßen oder nicht (an/aus)"),
    params=(c.word("state", N_("an|aus"), optional=True),),
    # Checked here: a lead of any AG linked to this chat (the chat names the AG).
    right=c.Right.LEAD,
    where=c.Where.GROUP,
    examples=("welcome an", "welcome aus"),
)
async def welcome(ctx: Context, state: str | None) -> None:
    chat = ctx.chat
    async with ctx.db.read() as session:
        ags = await repo.linked_ags(session, chat.platform, chat.id)
        row = await repo.find_chat(session, chat.platform, chat.id)
        setting = await session.get(WelcomeSetting, row.id) if row is not None else None
    if not ags or row is None:
        raise UserError(
            ctx.t(
                "Dieser Chat ist mit keiner AG verbunden. Das geht mit {link}.",
                link=code(ctx.cmd("link <AG>")),
            )
        )
    if state is None:
        if setting is None:
            current = ctx.t(
                "Neue Leute begrüße ich hier, solange der Chat höchstens {max} Mitglieder hat.",
                max=BIG_CHAT,
            )
        elif setting.enabled:
            current = ctx.t("Neue Leute begrüße ich hier.")
        else:
            current = ctx.t("Neue Leute begrüße ich hier nicht.")
        await ctx.reply(
            current
            + " "
            + ctx.t(
                "Ändern mit {on} oder {off}.",
                on=code(ctx.cmd("welcome an")),
                off=code(ctx.cmd("welcome aus")),
            )
        )
        return
    word = state.lower()
    if word not in _ON | _OFF:
        raise UserError(
            ctx.t(
                "So geht's: {usage}",
                usage=code(ctx.cmd("welcome an") + " | " + ctx.cmd("welcome aus")),
            )
        )
    if not any([await rights.allowed(ctx, c.Right.LEAD, ag) for ag in ags]):
        raise UserError(
            ctx.t("Das dürfen nur die Leitung der AG „{ag}“ und Admins.", ag=ags[0].name)
        )
    enabled = word in _ON
    chat_id = row.id
    now = ctx.services.now()

    async def store(session: AsyncSession) -> None:
        found = await session.get(WelcomeSetting, chat_id)
        if found is None:
            session.add(WelcomeSetting(chat_id=chat_id, enabled=enabled, updated_at=now))
        else:
            found.enabled, found.updated_at = enabled, now

    await ctx.db.run(store)
    if enabled:
        await ctx.reply(ctx.t("Gut, ich begrüße neue Leute in diesem Chat."))
    else:
        await ctx.reply(ctx.t("Gut, ich begrüße hier niemanden mehr."))
