"""`/ag topic <AG>`: in a Telegram forum group, the bot makes a topic named after the AG,
links it to the AG (as `/link` typed in it would) and opens it with a first message.

Who may: the AG's leads and admins, the same as for `/link`, because the command does
nothing more than make a chat for the AG and link it; the group's own admins decide
whether the bot may create topics at all (the right "Manage Topics").
"""

from __future__ import annotations

import logging

from bot import commands as c
from bot.admission import ChatRight, MissingRight, doors
from bot.context import Context, UserError
from bot.core import ChatRef, Unsupported
from bot.i18n import N_
from bot.outbox import Audience
from bot.rich import bold, code
from handlers.access.missing import clear, missing_text, note
from handlers.membership.render import ag_title
from storage import membership
from storage.chat_language import set_chat_language
from storage.models import Ag
from storage.repo import Session

log = logging.getLogger(__name__)

feature = c.Feature("topics")


@feature.command(
    "ag topic",
    help=N_("Ein eigenes Thema für eine AG in dieser Forum-Gruppe anlegen und verbinden"),
    params=(c.ag(),),
    right=c.Right.LEAD,
    where=c.Where.GROUP,
    examples=("ag topic ag2",),
)
async def ag_topic(ctx: Context, ag: Ag) -> None:
    transport = ctx.services.transport_for(ctx.chat)
    try:
        if transport is None:
            raise Unsupported("forum topics")
        topic = await doors(transport).create_topic(ctx.chat, ag.name)
    except Unsupported:
        raise UserError(
            ctx.t(
                "Themen kann ich nur in einer Telegram-Gruppe mit Themen anlegen (Gruppeninfo → "
                "Bearbeiten → Themen). Diesen Chat verbindest du mit {link}.",
                link=code(ctx.cmd(f"link {ag.slug}")),
            )
        ) from None
    except MissingRight as err:
        await note(ctx, err)
        raise UserError(
            missing_text(ctx, err)
            + " "
            + ctx.t("Danach noch einmal: {command}", command=code(ctx.cmd(f"ag topic {ag.slug}")))
        ) from None
    await clear(ctx, ctx.chat.platform, ctx.chat.id, ChatRight.MANAGE_TOPICS)
    await ctx.db.run(lambda session: _link(session, ag, topic, ctx.chat.language))
    await _open(ctx, ag, topic)
    await ctx.reply(
        ctx.t(
            "Das Thema {topic} gehört jetzt zur AG {ag}: Umfragen, Termine und Erinnerungen "
            "der AG kommen dort an.",
            topic=bold(topic.title or ag.name),
            ag=ag_title(ag),
        )
    )


async def _link(session: Session, ag: Ag, topic: ChatRef, language: str | None) -> None:
    """Link the new topic to the AG; it speaks the language set where it was asked for
    (`/lang en` in the group), as the answer does."""
    await membership.link_chat(session, ag.id, topic.platform, topic.id, topic.title, False)
    if language is not None:
        await set_chat_language(session, topic.platform, topic.id, topic.title, language)


async def _open(ctx: Context, ag: Ag, topic: ChatRef) -> None:
    """The topic's first message. The topic is linked already, so a failure here is
    only logged: the command's answer still says where the AG's place is."""
    first = ctx.t(
        "Hier ist der Ort der AG {ag}. Beitreten mit {join}.",
        ag=ag_title(ag),
        join=code(ctx.cmd("join")),
    )
    try:
        await ctx.services.outbox.send(Audience.of_chat(topic), first)
    except Exception as exc:
        log.warning("the first message in a new topic was not sent: %r", type(exc))
