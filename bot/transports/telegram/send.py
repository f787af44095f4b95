"""Sending to Telegram: text, private messages, answer buttons, native polls and files.

The send side of the Telegram transport. Every send follows a group that became a
supergroup, counts as under way until it is done (so stopping lets it finish), is made
once per key in this process, and treats a chat the bot can no longer write to as the
core expects: logged without content and skipped (groups), or DirectMessageUnavailable
with the link that opens the bot's chat (private messages and files).

A transient failure (a time-out, HTTP 5xx, a `RetryAfter` the rate limiter gave up on)
is retried here a few times with backoff, so that a command's reply is not lost to a
hiccup (a reminder's delivery is retried beyond that by the reminder sender). Sends are
at least once: Telegram takes no idempotency key, and a time-out (or a 5xx from a proxy
in front of it) may come after Telegram stored the message; the retry then shows it
twice. A key that succeeded once in this process is not sent again.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import (
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    User,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    TelegramError,
)
from telegram.ext import Application, ExtBot

from bot import stages
from bot.core import (
    BaseTransport,
    Button,
    ChatRef,
    DirectMessageUnavailable,
    Inbox,
    PollSpec,
    PollVote,
    SentPoll,
    SentRef,
)
from bot.logs import pseudonym
from bot.rich import AccountRef, Mention, Rich, render_html
from bot.transports.telegram.convert import (
    PLATFORM,
    address,
    caption_fits,
    chat_gone,
    inline_keyboard,
    poll_options,
    poll_over,
    topic_id,
)
from bot.transports.telegram.files import upload
from bot.transports.telegram.retry import SEND_RETRY_DELAYS, retried

log = logging.getLogger(__name__)

START_PAYLOAD = "hello"
_SENT_KEYS_KEPT = 2048

T = TypeVar("T")

# ExtBot[int]: the AIORateLimiter takes a retry count per call.
TelegramApp = Application[ExtBot[int], Any, Any, Any, Any, Any]


class TelegramSender(BaseTransport):
    """The sending half of `TelegramTransport`, which adds starting and receiving."""

    def __init__(self) -> None:
        self._app: TelegramApp | None = None
        self._inbox: Inbox | None = None
        self._me: User | None = None
        # What each key sent in this process, so a retried send is not sent twice.
        self._sent: OrderedDict[str, SentRef | SentPoll] = OrderedDict()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.send_retry_delays: tuple[float, ...] = SEND_RETRY_DELAYS

    # --- identity ----------------------------------------------------------------------

    @property
    def bot_username(self) -> str:
        """The bot's @username (without @), known once `start` has called getMe."""
        if self._me is None or not self._me.username:
            raise RuntimeError("the Telegram transport has not started yet")
        return self._me.username

    def hint_url(self, payload: str = START_PAYLOAD) -> str:
        """A link that opens the private chat with the bot (and offers its Start button)."""
        return f"https://t.me/{self.bot_username}?start={payload}"

    @property
    def application(self) -> TelegramApp:
        if self._app is None:
            raise RuntimeError("the Telegram transport has not started yet")
        return self._app

    # --- sending -----------------------------------------------------------------------

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        """Send to a chat. A chat the bot can no longer write to (removed, blocked, deleted)
        is logged and skipped, so one gone chat never breaks a handler or a reminder run."""
        try:
            return await self._deliver(chat, message, key)
        except (Forbidden, BadRequest) as exc:
            if not await self._unwritable(chat, exc, "message"):
                raise
            return SentRef(chat, None)

    async def send_direct(
        self, account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        """Write privately. Telegram lets a bot do so only after the person has started it
        (and not blocked it); otherwise the caller gets a link that opens the bot's chat."""
        if account.platform != PLATFORM:
            raise ValueError(f"not a Telegram account: {account.platform}")
        chat = ChatRef(PLATFORM, account.external_id, is_direct=True, title=account.display_name)
        try:
            return await self._deliver(chat, message, key)
        except (Forbidden, BadRequest) as exc:
            if isinstance(exc, BadRequest) and not chat_gone(exc):
                raise
            raise await self._no_direct_chat(chat, exc) from None

    async def send_with_buttons(
        self,
        chat: ChatRef,
        message: Rich,
        buttons: tuple[Button, ...],
        *,
        key: str | None = None,
    ) -> SentRef:
        """A message with answer buttons (an inline keyboard; more than 8 wrap to further
        rows). Button data over 64 bytes raises ValueError before anything is sent. A gone
        chat is handled as by `send`."""
        markup = inline_keyboard(buttons)
        try:
            return await self._deliver(chat, message, key, markup=markup)
        except (Forbidden, BadRequest) as exc:
            if not await self._unwritable(chat, exc, "message"):
                raise
            return SentRef(chat, None)

    async def send_poll(self, chat: ChatRef, poll: PollSpec, *, key: str | None = None) -> SentPoll:
        """Post a native poll, once per key. Named polls report each vote (`poll_answer`),
        anonymous ones only totals (`poll`); members may change their vote.

        A chat the bot can no longer write to is logged (without the question) and gives a
        SentPoll whose ids are None, as `send` does, so one gone chat never keeps a poll from
        the AG's other chats. Anything else Telegram refuses (a limit the caller should have
        checked) raises `telegram.error.TelegramError`.
        """
        known = self._sent.get(key) if key is not None else None
        if isinstance(known, SentPoll):
            return known
        options = poll_options(poll)
        bot = self.application.bot
        thread = address(chat.id)[1]

        async def post(target: int | str) -> Message:
            return await bot.send_poll(
                chat_id=target,
                message_thread_id=thread,
                question=poll.question,
                options=options,
                is_anonymous=poll.anonymous,
                allows_multiple_answers=poll.multi,
                allows_revoting=True,  # changing a vote replaces it
            )

        try:
            chat, sent = await self._reach(chat, post)
        except (Forbidden, BadRequest) as exc:
            if not await self._unwritable(chat, exc, "poll"):
                raise
            return SentPoll(chat, None, None)
        result = SentPoll(chat, str(sent.message_id), sent.poll.id if sent.poll else None)
        self._remember(key, result)
        return result

    async def close_poll(self, sent: SentPoll, result: Rich, *, key: str | None = None) -> None:
        """Stop the poll; Telegram then shows its own final numbers under it. `result` is
        not posted here: the poll handlers post the merged result once in every chat, on
        every network (as the Matrix transport leaves it to them too), so a reply here
        would be a second copy. A poll that is already over (closed by hand, by an earlier
        attempt, or deleted) is fine; a gone chat is logged."""
        if sent.message_id is None or (key is not None and key in self._sent):
            return  # the poll never arrived there, or it has been stopped
        poll_message = int(sent.message_id)
        bot = self.application.bot

        async def stop(target: int | str) -> object:
            return await bot.stop_poll(chat_id=target, message_id=poll_message)

        try:
            await self._reach(sent.chat, stop)
        except (Forbidden, BadRequest) as exc:
            if isinstance(exc, BadRequest) and poll_over(exc):
                log.info("telegram: poll %s was already over: %s", sent.native_id, exc.message)
            elif not await self._unwritable(sent.chat, exc, "poll close"):
                raise
        self._remember(key, sent)

    async def fetch_poll_votes(self, sent: SentPoll) -> list[PollVote]:
        """Telegram keeps no list of votes a bot could read: votes cast while the bot was
        down are lost to it (anonymous polls catch up with their next `poll` totals)."""
        return []

    async def send_file(
        self,
        chat: ChatRef,
        filename: str,
        data: bytes,
        mime: str,
        caption: Rich | None = None,
        *,
        key: str | None = None,
    ) -> SentRef:
        """Upload a file, once per key: a PNG as a picture, anything else as a document
        under `filename`. A caption too long for Telegram (1024 characters) follows as a
        message of its own, replying to the file.

        To a private chat (the user's id): if the person never started the bot or blocked
        it, raises DirectMessageUnavailable with the link that opens the bot's chat. A gone
        group is handled as by `send`.
        """
        known = self._sent.get(key) if key is not None else None
        if isinstance(known, SentRef):
            return known
        fits = caption is None or caption_fits(caption)
        shown = render_html(caption, mention_html) if caption and fits else None
        thread = address(chat.id)[1]

        async def post(target: int | str) -> Message:
            return await upload(self.application.bot, target, thread, filename, data, mime, shown)

        try:
            chat, sent = await self._reach(chat, post)
        except (Forbidden, BadRequest) as exc:
            if chat.is_direct and (isinstance(exc, Forbidden) or chat_gone(exc)):
                raise await self._no_direct_chat(chat, exc) from None
            if not await self._unwritable(chat, exc, "file"):
                raise
            return SentRef(chat, None)
        ref = SentRef(chat, str(sent.message_id))
        self._remember(key, ref)
        if caption and not fits:
            try:
                await self._deliver(chat, caption, None, reply_to=sent.message_id)
            except TelegramError as exc:
                log.warning("telegram: the caption of a file was not sent: %s", exc.message)
        return ref

    async def _unwritable(self, chat: ChatRef, exc: TelegramError, what: str) -> bool:
        """Whether `exc` says the bot can no longer write to the chat. If so, log it (never
        the content) and, for a private chat, tell the core that the person is unreachable."""
        if not isinstance(exc, Forbidden | BadRequest) or (
            isinstance(exc, BadRequest) and not chat_gone(exc)
        ):
            return False
        log.warning(
            "telegram: cannot write to chat %s, %s dropped: %s",
            pseudonym(PLATFORM, chat.id),
            what,
            exc.message,
        )
        if chat.is_direct and self._inbox is not None:
            account = AccountRef(PLATFORM, chat.id, chat.title or chat.id)
            await self._inbox.direct_reachable(account, False)
        return True

    async def _no_direct_chat(self, chat: ChatRef, exc: TelegramError) -> DirectMessageUnavailable:
        """Note that the person cannot be written to privately; the error to raise carries
        the link that opens the bot's chat (and offers its Start button)."""
        log.info("telegram: no private chat with %s: %s", pseudonym(PLATFORM, chat.id), exc.message)
        if self._inbox is not None:
            account = AccountRef(PLATFORM, chat.id, chat.title or chat.id)
            await self._inbox.direct_reachable(account, False)
        return DirectMessageUnavailable(hint_url=self.hint_url())

    async def _deliver(
        self,
        chat: ChatRef,
        message: Rich,
        key: str | None,
        *,
        reply_to: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> SentRef:
        """One message, sent once per key in this process."""
        known = self._sent.get(key) if key is not None else None
        if isinstance(known, SentRef):
            return known
        text = render_html(message, mention_html)
        reply = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        bot = self.application.bot
        thread = address(chat.id)[1]

        async def post(target: int | str) -> Message:
            return await bot.send_message(
                chat_id=target,
                message_thread_id=thread,
                text=text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_parameters=reply,
                reply_markup=markup,
            )

        stages.mark("send")
        chat, sent = await self._reach(chat, post)
        stages.mark("sent")
        ref = SentRef(chat, str(sent.message_id))
        self._remember(key, ref)
        return ref

    async def _reach(
        self, chat: ChatRef, call: Callable[[int | str], Awaitable[T]]
    ) -> tuple[ChatRef, T]:
        """Make one Bot API call for a chat (`call` gets the chat's Bot API id; a topic's
        thread is the caller's), following a group that became a supergroup (Telegram
        refuses the old id and names the new one; a topic moves along with its group).
        Counts as a send under way, which `stop` lets finish."""
        self._in_flight += 1
        self._idle.clear()
        target, thread = address(chat.id)
        try:
            try:
                return chat, await retried(chat.id, call, target, self.send_retry_delays)
            except ChatMigrated as exc:
                new_id = str(exc.new_chat_id)
                if self._inbox is not None:
                    await self._inbox.chat_migrated(PLATFORM, str(target), new_id)
                if thread is not None:
                    new_id = topic_id(new_id, thread)
                moved = ChatRef(PLATFORM, new_id, is_direct=False, title=chat.title)
                return moved, await retried(new_id, call, exc.new_chat_id, self.send_retry_delays)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    def _remember(self, key: str | None, sent: SentRef | SentPoll) -> None:
        if key is None:
            return
        self._sent[key] = sent
        while len(self._sent) > _SENT_KEYS_KEPT:
            self._sent.popitem(last=False)


def mention_html(node: Mention) -> str | None:
    """A Telegram account as a link that notifies it; anything else falls back to its
    name in bold (done by the renderer)."""
    account = node.account
    if account.platform != PLATFORM or not node.notify or not account.external_id.isdigit():
        return None
    name = html.escape(account.display_name, quote=False)
    return f'<a href="tg://user?id={account.external_id}">{name}</a>'
