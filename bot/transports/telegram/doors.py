"""Telegram's doors: the way into a group is an invite link that creates join requests
(made once per chat by the caller's wish and reused), which the bot then approves or
declines; removing someone is a ban followed by an unban, so they can come back by link.

A forum topic ("<group>/<thread>") is a chat of its own for the core, but members,
links and requests belong to the whole group: every call here addresses the group.
Telegram's "not enough rights" answers become `MissingRight`; an answer to a join
request that is already gone (answered by an admin, withdrawn) or whose person is in
the group already is no failure.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import ChatMember, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.admission import ChatRight, JoinAsked, MissingRight, NoDoors, Way, WayKind
from bot.core import ChatRef, Inbox, Unsupported
from bot.i18n import N_
from bot.logs import pseudonym
from bot.rich import AccountRef
from bot.transports.telegram.convert import PLATFORM, address, chat_id, chat_ref, user_ref
from bot.transports.telegram.retry import retried

if TYPE_CHECKING:
    from bot.transports.telegram.send import TelegramApp

log = logging.getLogger(__name__)

# At most 32 characters; shown to the group's admins in the list of invite links.
LINK_NAME = "Bündnisbot"
# Telegram's answers (lower case, without "Bad Request: ") that mean the bot lacks an
# admin right: "not enough rights to manage chat invite links", "... to restrict/unrestrict
# chat member", "CHAT_ADMIN_REQUIRED", "need administrator rights in the channel chat".
_NO_RIGHTS = ("not enough rights", "chat_admin_required", "administrator rights", "have no rights")
# A join request answered already or withdrawn, or its person is in the group by now.
_REQUEST_GONE = ("hide_requester_missing", "user_already_participant")
# Whom a ban cannot touch: they stay (an admin or the owner of the group).
_UNTOUCHABLE = ("user is an administrator", "can't remove chat owner", "chat owner")
_INSIDE = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)

_HINTS = {
    ChatRight.INVITE: N_(
        "So geht's in Telegram: Gruppe öffnen → Bearbeiten → Administratoren → mich wählen "
        "und „Nutzer einladen“ einschalten (bin ich kein Admin, mach mich zuerst dazu)."
    ),
    ChatRight.REMOVE: N_(
        "So geht's in Telegram: Gruppe öffnen → Bearbeiten → Administratoren → mich wählen "
        "und „Mitglieder sperren“ einschalten."
    ),
}


def lacks_right(exc: TelegramError) -> bool:
    return isinstance(exc, BadRequest | Forbidden) and any(
        text in exc.message.lower() for text in _NO_RIGHTS
    )


class TelegramDoors(NoDoors):
    """The doors of `TelegramTransport` (mixed into it; uses its application)."""

    if TYPE_CHECKING:
        send_retry_delays: tuple[float, ...]
        _inbox: Inbox | None

        @property
        def application(self) -> TelegramApp: ...

    async def _on_join_request(self, update: Update, _context: object) -> None:
        """Someone used an invite link that creates join requests (the one `/join` gives
        out, or another); the core decides whether the bot answers it."""
        asked = update.chat_join_request
        if asked is None or self._inbox is None or asked.from_user.is_bot:
            return
        request = JoinAsked(chat_ref(asked.chat), user_ref(asked.from_user))
        await self._inbox.join_requested(request)  # returns at once

    async def let_in(self, chat: ChatRef, account: AccountRef, *, link: str | None) -> Way:
        group = chat_id(chat.id)  # a topic's id gives its group's
        if await self._inside(group, account):
            return Way(chat, WayKind.ALREADY)
        if link and await self._still_valid(group, chat, link):
            return Way(chat, WayKind.LINK, link)
        bot = self.application.bot
        try:
            made = await retried(
                str(group),
                lambda target: bot.create_chat_invite_link(
                    target, name=LINK_NAME, creates_join_request=True
                ),
                group,
                self.send_retry_delays,
            )
        except TelegramError as exc:
            if lacks_right(exc):
                raise MissingRight(ChatRight.INVITE, chat) from None
            raise
        log.info("telegram: made an invite link for chat %s", pseudonym(PLATFORM, str(group)))
        return Way(chat, WayKind.LINK, made.invite_link)

    async def answer_join_request(self, request: JoinAsked, approve: bool) -> None:
        group = chat_id(request.chat.id)
        bot = self.application.bot
        user = int(request.user.id)
        answer = bot.approve_chat_join_request if approve else bot.decline_chat_join_request
        try:
            await retried(
                str(group), lambda target: answer(target, user), group, self.send_retry_delays
            )
        except TelegramError as exc:
            if lacks_right(exc):
                raise MissingRight(ChatRight.INVITE, request.chat) from None
            if isinstance(exc, BadRequest) and any(
                text in exc.message.lower() for text in _REQUEST_GONE
            ):
                log.info("telegram: a join request was answered already: %s", exc.message)
                return
            raise

    async def remove_member(self, chat: ChatRef, account: AccountRef) -> bool:
        if address(chat.id)[1] is not None:
            # Telegram removes from the whole group, never from one topic: leaving the
            # AG of one topic must not cost the person the alliance's other topics.
            raise Unsupported("removing from a forum topic")
        group = chat_id(chat.id)  # a topic's id gives its group's
        if not await self._inside(group, account):
            return False
        bot = self.application.bot
        user = int(account.external_id)
        try:
            await retried(
                str(group),
                lambda target: bot.ban_chat_member(target, user),
                group,
                self.send_retry_delays,
            )
        except TelegramError as exc:
            if lacks_right(exc):
                raise MissingRight(ChatRight.REMOVE, chat) from None
            if isinstance(exc, BadRequest) and any(
                text in exc.message.lower() for text in _UNTOUCHABLE
            ):
                log.info("telegram: an admin of a group was not removed")
                return False
            raise
        # Unbanned at once: the ban only took them out; they may come back by link.
        await retried(
            str(group),
            lambda target: bot.unban_chat_member(target, user, only_if_banned=True),
            group,
            self.send_retry_delays,
        )
        return True

    def right_hint(self, right: ChatRight) -> str:
        return _HINTS.get(right, "")

    async def _still_valid(self, group: int | str, chat: ChatRef, link: str) -> bool:
        """Whether the link kept for the chat still works: an admin may have revoked it,
        or it may be gone with the group. Asked by editing it to what it is already (the
        Bot API has no other way to look at one link); False makes the caller make a new
        one. A network failure keeps the link rather than costing the way in."""
        bot = self.application.bot
        try:
            edited = await retried(
                str(group),
                lambda target: bot.edit_chat_invite_link(
                    target, link, name=LINK_NAME, creates_join_request=True
                ),
                group,
                self.send_retry_delays,
            )
        except TelegramError as exc:
            if lacks_right(exc):
                raise MissingRight(ChatRight.INVITE, chat) from None
            if isinstance(exc, BadRequest):
                log.info("telegram: a kept invite link is no longer valid: %s", exc.message)
                return False
            log.debug("telegram: a kept invite link was not checked: %s", type(exc).__name__)
            return True
        return not edited.is_revoked

    async def _inside(self, group: int | str, account: AccountRef) -> bool:
        """Whether the account is in the group now; False when Telegram does not say."""
        if not account.external_id.isdecimal():
            return False
        try:
            member = await self.application.bot.get_chat_member(group, int(account.external_id))
        except TelegramError as exc:
            log.debug("telegram: no member status: %s", exc.message)
            return False
        if member.status == ChatMember.RESTRICTED:
            return bool(getattr(member, "is_member", False))
        return member.status in _INSIDE
