"""One sentence for a right the bot lacks, shared by every feature that needs a chat
right (inviting, approving join requests, removing, creating topics and rooms): which
right, where, and how to give it; and the note for `/ag info`."""

from __future__ import annotations

from bot.admission import ChatRight, MissingRight, doors
from bot.context import Context, Services
from bot.i18n import N_, Lang
from bot.rich import Rich, bold, text
from storage.access.problems import clear_missing, note_missing

RIGHT_NAMES = {
    ChatRight.INVITE: N_("Mitglieder einladen"),
    ChatRight.REMOVE: N_("Mitglieder entfernen"),
    ChatRight.MANAGE_TOPICS: N_("Themen verwalten"),
    ChatRight.SPACE_CHILD: N_("Räume zum Space hinzufügen"),
}


def right_name(ctx: Context, right: ChatRight) -> Rich:
    return text(ctx.lang.gettext(RIGHT_NAMES[right]))


def missing_text(ctx: Context, err: MissingRight) -> Rich:
    """ "Mir fehlt in <chat> das Recht „…“. <how to give it on that network>" """
    return missing_sentence(ctx.services, ctx.lang, err)


def missing_sentence(services: Services, lang: Lang, err: MissingRight) -> Rich:
    """`missing_text` for a reader who is not the sender (an AG's leads, told privately)."""
    transport = services.transport_for(err.chat)
    hint = doors(transport).right_hint(err.right) if transport is not None else ""
    where = bold(err.chat.title or err.chat.id)
    sentence = lang.t(
        "Mir fehlt in {chat} das Recht „{right}“.",
        chat=where,
        right=lang.gettext(RIGHT_NAMES[err.right]),
    )
    return sentence if not hint else sentence + " " + lang.gettext(hint)


async def note(ctx: Context, err: MissingRight) -> bool:
    """Note the missing right for `/ag info`; True if it was not noted before."""
    async with ctx.services.db.write() as session:
        return await note_missing(
            session, err.chat.platform, err.chat.id, err.chat.title, err.right.value
        )


async def clear(ctx: Context, platform: str, external_id: str, right: ChatRight) -> None:
    """An action needing `right` worked in the chat: it is no longer missing there."""
    async with ctx.services.db.write() as session:
        await clear_missing(session, platform, external_id, right.value)
