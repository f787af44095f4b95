"""Telegram through python-telegram-bot, started on the shared event loop.

PTB runs with `initialize/start` and `updater.start_polling()` (or a webhook), never
`run_polling()`, so that the Matrix transport's sync loop runs beside it. Every send goes
through the bot's rate limiter (flood.py), which keeps to Telegram's flood
limits and retries `RetryAfter` instead of losing the message; time-outs and 5xx are
retried by the sending half (send.py, retry.py).

Only new messages count: an edited message is ignored, so a corrected command is not
run a second time. The bot needs nothing but commands, so privacy mode may stay on.

Beyond text: native polls (`sendPoll`; votes arrive as `poll_answer` for named polls and
as `poll` totals for anonymous ones), files (`sendPhoto` for PNG images, `sendDocument`
otherwise), answer buttons (inline keyboards; presses arrive as `callback_query`) and
edits of the bot's own messages (edit.py).
PTB handles one update after the other, so nothing received here waits for a handler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from telegram import (
    CallbackQuery,
    Message,
    Update,
)
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    MessageHandler,
    PollAnswerHandler,
    PollHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import ConfigError, TelegramSettings, check_webhook_secret
from bot.core import (
    Capabilities,
    Inbox,
    IncomingMessage,
    MenuEntry,
)
from bot.transports.telegram.convert import (
    PLATFORM,
    TOAST_LIMIT,
    button_press,
    members_joined,
    poll_counts,
    poll_vote,
)
from bot.transports.telegram.doors import TelegramDoors
from bot.transports.telegram.edit import TelegramEdits
from bot.transports.telegram.flood import GROUP, SlidingWindowLimiter
from bot.transports.telegram.incoming import to_incoming
from bot.transports.telegram.menus import DEFAULT_MENU_LANGUAGE, publish_menus
from bot.transports.telegram.send import TelegramApp
from bot.transports.telegram.startup import check_bot_settings, webhook_options
from bot.transports.telegram.topics import TelegramTopics
from bot.transports.telegram.webhook import Webhook, register_webhook, route_webhook
from bot.web.server import WebServer

log = logging.getLogger(__name__)

# What the bot handles; Telegram sends nothing else (edits, reactions, ...) at all.
# Join requests: to the invite links `/join` gives out (answered by handlers/access).
ALLOWED_UPDATES: tuple[str, ...] = (Update.MESSAGE, Update.POLL_ANSWER, Update.POLL)
ALLOWED_UPDATES += (Update.CALLBACK_QUERY, Update.CHAT_JOIN_REQUEST)
RATE_LIMIT_RETRIES = 5
# Telegram's flood limits, which it counts over any window of that length: 30 messages a
# second overall, 20 a minute in one group (and one a second in one chat, which PTB's
# limiter does not track).
# The presser's app shows a spinner until the query is answered: answer by then, with the
# handler's toast if it is ready, without it otherwise (the handler still finishes).
PRESS_ANSWER_SECONDS = 5.0


class TelegramTransport(TelegramTopics, TelegramDoors, TelegramEdits):
    platform = PLATFORM
    command_prefix = "/"
    capabilities = Capabilities(
        html=True,
        mentions=True,
        native_polls=True,
        anonymous_polls=True,  # Telegram's anonymous polls hide voters from the bot too
        buttons=True,  # inline keyboards, a row per `Button.row`
        edits=True,  # editMessageText (edit.py)
        files=True,
        max_message_length=4096,
    )

    def __init__(
        self,
        settings: TelegramSettings,
        *,
        request: BaseRequest | None = None,
        get_updates_request: BaseRequest | None = None,
        default_language: str = DEFAULT_MENU_LANGUAGE,
        press_answer_seconds: float = PRESS_ANSWER_SECONDS,
        rate_limits: bool = True,
        group_minute: float = 60.0,
        rate_limiter: SlidingWindowLimiter | None = None,
        web: WebServer | None = None,
    ) -> None:
        """`rate_limits=False` only for benchmarks that measure the bot, not Telegram;
        `group_minute` shortens the group limit's minute for tests (seconds);
        `rate_limiter` replaces the limiter with Telegram's limits (tests with other
        windows); `web`: the bot's HTTP server, which then serves the webhook."""
        super().__init__()
        self._web = web
        self._webhook: Webhook | None = None
        self.rate_limits = rate_limits
        self.group_minute = group_minute
        self.rate_limiter = rate_limiter
        self.settings = settings
        self.default_language = default_language
        self.press_answer_seconds = press_answer_seconds
        self._request = request
        self._get_updates_request = get_updates_request

    # --- life cycle --------------------------------------------------------------------

    async def start(self, inbox: Inbox) -> None:
        """Connect and receive (one process; several: `open` on each, `lead` on the leader)."""
        await self.open(inbox)
        await self.lead()

    async def open(self, inbox: Inbox) -> None:
        """Connect and be able to send; in webhook mode on the bot's web server, also take
        the updates Telegram posts there (any process may: updates are stateless)."""
        if self.settings.mode == "webhook":
            # load_settings refuses this already; settings built in code are checked here.
            check_webhook_secret(self.settings.webhook_secret.reveal())
        self._inbox = inbox
        # Any: the builder's generic type changes with the rate limiter (ExtBot[int]).
        builder: Any = (
            ApplicationBuilder()
            .token(self.settings.token.reveal())
            .job_queue(None)  # scheduling is the bot's own (APScheduler, rebuilt from tables)
        )
        if self.settings.base_url:  # a self-hosted Bot API server (or a test's)
            base = self.settings.base_url.rstrip("/")
            builder = builder.base_url(base + "/bot").base_file_url(base + "/file/bot")
        if self.rate_limits:
            builder = builder.rate_limiter(
                self.rate_limiter
                or SlidingWindowLimiter(
                    group=(GROUP[0], self.group_minute), max_retries=RATE_LIMIT_RETRIES
                )
            )
        if self._request is not None:
            builder = builder.request(self._request)
        if self._get_updates_request is not None:
            builder = builder.get_updates_request(self._get_updates_request)
        app: TelegramApp = builder.build()
        new_messages = filters.UpdateType.MESSAGE
        app.add_handler(MessageHandler(new_messages & filters.COMMAND, self._on_command))
        app.add_handler(
            MessageHandler(new_messages & filters.StatusUpdate.MIGRATE, self._on_migrate)
        )
        app.add_handler(
            MessageHandler(
                new_messages & filters.StatusUpdate.NEW_CHAT_MEMBERS, self._on_new_members
            )
        )
        app.add_handler(PollAnswerHandler(self._on_poll_answer))
        app.add_handler(PollHandler(self._on_poll))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(ChatJoinRequestHandler(self._on_join_request))
        app.add_error_handler(self._on_error)

        self._app = app
        try:
            await self._begin(app)
        except BaseException:
            await self.stop()  # App.stop() skips a transport whose start failed
            raise

    async def _begin(self, app: TelegramApp) -> None:
        try:
            await app.initialize()  # getMe
        except InvalidToken:
            # PTB's message quotes the token; this one does not, and hides the chain.
            raise ConfigError(
                "telegram.token: Telegram rejected the bot token; copy it again from @BotFather"
            ) from None
        self._me = app.bot.bot
        check_bot_settings(self._me)
        await app.start()
        if self.settings.mode == "webhook" and self._web is not None:
            self._webhook = route_webhook(app, self.settings, self._web)

    async def lead(self) -> None:
        """The leader's part: long polling, or telling Telegram the webhook's address."""
        app = self.application
        updater = app.updater
        if updater is None:
            raise RuntimeError("the Telegram application was built without an updater")
        if self._webhook is not None:
            await register_webhook(app, self.settings, ALLOWED_UPDATES)
        elif self.settings.mode == "webhook":
            await updater.start_webhook(**self._webhook_options())
        else:
            await updater.start_polling(
                allowed_updates=list(ALLOWED_UPDATES), error_callback=self._on_polling_error
            )
        log.info(
            "telegram: receiving via %s as @%s (id %s)",
            self.settings.mode,
            self._me.username if self._me is not None else "?",
            self._me.id if self._me is not None else "?",
        )

    def _webhook_options(self) -> dict[str, Any]:
        return webhook_options(self.settings, ALLOWED_UPDATES)

    async def unlead(self) -> None:
        """No longer the leader: stop polling at once (a webhook on the bot's own web
        server stays: every process takes its updates)."""
        app = self._app
        if app is not None and app.updater is not None and app.updater.running:
            await app.updater.stop()

    async def stop_receiving(self) -> None:
        """Take no new updates; commands already received may still send their replies."""
        if self._webhook is not None:
            self._webhook.receiving = False
        app = self._app
        if app is not None and app.updater is not None and app.updater.running:
            await app.updater.stop()

    async def stop(self) -> None:
        """Stop receiving, let sends already under way finish (and button presses be
        answered: `app.stop()` waits for them), then close the connection."""
        app = self._app
        if app is None:
            return
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=10)
            except TimeoutError:
                log.warning("telegram: stopping while sends are still under way")
        finally:
            await app.shutdown()
            self._app = None

    # --- receiving ---------------------------------------------------------------------

    async def _on_command(self, update: Update, _context: object) -> None:
        message = update.message
        if message is None or self._inbox is None:
            return
        incoming = self.to_incoming(message)
        if incoming is not None:
            # Returns at once: the dispatcher runs the handler as a task.
            await self._inbox.message(incoming)

    async def _on_migrate(self, update: Update, _context: object) -> None:
        """A group became a supergroup: both the old group (`migrate_to_chat_id`) and the
        new supergroup (`migrate_from_chat_id`) say so; the core moves the chat once."""
        message = update.message
        if message is None or self._inbox is None:
            return
        if message.migrate_to_chat_id:
            old, new = message.chat.id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id:
            old, new = message.migrate_from_chat_id, message.chat.id
        else:
            return
        await self._inbox.chat_migrated(PLATFORM, str(old), str(new))

    async def _on_new_members(self, update: Update, _context: object) -> None:
        """People entered a group (Telegram delivers this despite privacy mode)."""
        message = update.message
        if message is None or self._inbox is None:
            return
        own = self._me.id if self._me is not None else None
        if not members_joined(message, message.new_chat_members, own, None):
            return
        count: int | None = None
        try:  # one cheap call, so the welcome can stay quiet in big groups by default
            count = await message.get_bot().get_chat_member_count(message.chat.id)
        except TelegramError as exc:
            log.debug("telegram: no member count for a group: %s", exc)
        for event in members_joined(message, message.new_chat_members, own, count):
            await self._inbox.member_joined(event)

    def to_incoming(self, message: Message) -> IncomingMessage | None:
        """A command message as the core sees it, or None if it is not for this bot."""
        own = (self._me.username or "") if self._me is not None else ""
        self.remember_group(message)
        return to_incoming(message, own)

    async def _on_poll_answer(self, update: Update, _context: object) -> None:
        """A vote, changed vote or retraction in a named poll the bot sent. The answer
        names no chat: the core knows the chat by the poll's id."""
        answer = update.poll_answer
        if answer is None or self._inbox is None:
            return
        await self._inbox.poll_vote(poll_vote(answer))  # returns at once

    async def _on_poll(self, update: Update, _context: object) -> None:
        """New totals of one of the bot's polls; only anonymous polls' totals are passed
        on, the votes of named polls arrive one by one."""
        poll = update.poll
        if poll is None or self._inbox is None:
            return
        counts = poll_counts(poll)
        if counts is not None:
            await self._inbox.poll_counts(counts)  # returns at once

    async def _on_button(self, update: Update, _context: object) -> None:
        """Answer the press in a task of its own: PTB waits for this callback before it
        takes the next update, and a button's handler may touch the database."""
        query = update.callback_query
        if query is not None:
            self.application.create_task(self._answer_press(query), update=update)

    async def _answer_press(self, query: CallbackQuery) -> None:
        """Ask the core for the toast, then answer the query: always, also when the handler
        fails, and within `press_answer_seconds` (a slow handler still finishes, but its
        toast is not shown)."""
        toast: str | None = None
        press = button_press(query)
        try:
            if press is not None and self._inbox is not None:
                work = asyncio.ensure_future(self._inbox.button_pressed(press))
                work.add_done_callback(_forget)
                toast = await asyncio.wait_for(asyncio.shield(work), self.press_answer_seconds)
        except TimeoutError:
            log.warning(
                "telegram: a button handler took longer than %s s; answered without a text",
                self.press_answer_seconds,
            )
        except Exception as exc:
            log.error("telegram: a button press failed: %s", type(exc).__name__, exc_info=exc)
        try:
            await query.answer(text=toast[:TOAST_LIMIT] if toast else None)
        except TelegramError as exc:
            # Mostly "query is too old": the press came in while the bot was down.
            log.warning("telegram: could not answer a button press: %s", exc.message)

    async def _on_error(self, update: object, context: Any) -> None:
        """Log a failed update without its content (message texts stay private)."""
        update_id = update.update_id if isinstance(update, Update) else None
        error = getattr(context, "error", None)
        log.error(
            "telegram: update %s failed: %s",
            update_id,
            type(error).__name__,
            exc_info=error if isinstance(error, BaseException) else None,
        )

    def _on_polling_error(self, error: TelegramError) -> None:
        if isinstance(error, Conflict):
            log.error(
                "telegram: another process is polling with this bot token (or a webhook is "
                "set); stop the other instance"
            )
        else:
            log.warning("telegram: polling failed (%s); retrying", type(error).__name__)

    # --- command menus -----------------------------------------------------------------

    async def publish_menus(self, menus: Mapping[tuple[str, str], Sequence[MenuEntry]]) -> None:
        await publish_menus(self.application.bot, menus, self.default_language)


def _forget(task: asyncio.Future[Any]) -> None:
    """Collect the outcome of a button handler nobody waits for any more (it outlived the
    answer), so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()
