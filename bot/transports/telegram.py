"""Telegram through python-telegram-bot, started on the shared event loop.

PTB runs with `initialize/start` and `updater.start_polling()` (or a webhook), never
`run_polling()`, so that the Matrix transport's sync loop runs beside it. Every send goes
through PTB's `AIORateLimiter`, which keeps to Telegram's flood limits and retries
`RetryAfter` instead of losing the message.

Only new messages count: an edited message is ignored, so a corrected command is not
run a second time. The bot needs nothing but commands, so privacy mode may stay on.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import ConfigError, TelegramSettings
from bot.core import (
    Capabilities,
    ChatRef,
    DirectMessageUnavailable,
    Inbox,
    IncomingMessage,
    SentRef,
    UserRef,
)
from bot.menus import MenuEntry
from bot.rich import AccountRef, Mention, Rich, render_html

log = logging.getLogger(__name__)

PLATFORM = "telegram"
# What the bot handles; Telegram sends nothing else (edits, reactions, ...) at all.
ALLOWED_UPDATES = (Update.MESSAGE,)
MENU_SCOPES: Mapping[str, BotCommandScope] = {
    "direct": BotCommandScopeAllPrivateChats(),
    "group": BotCommandScopeAllGroupChats(),
    "group_admin": BotCommandScopeAllChatAdministrators(),
}
# The alliance's language: its menu is also shown to everyone whose language has none.
DEFAULT_MENU_LANGUAGE = "de"
START_PAYLOAD = "hello"
RATE_LIMIT_RETRIES = 5
_MENU_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_DEEP_LINK = re.compile(r"^start\s+[A-Za-z0-9_-]{1,64}$", re.IGNORECASE)
_GONE = ("chat not found", "chat was deactivated", "peer_id_invalid", "user is deactivated")
_SENT_KEYS_KEPT = 2048

# ExtBot[int]: the AIORateLimiter takes a retry count per call.
TelegramApp = Application[ExtBot[int], Any, Any, Any, Any, Any]


class TelegramTransport:
    platform = PLATFORM
    command_prefix = "/"
    capabilities = Capabilities(
        html=True,
        mentions=True,
        native_polls=True,
        buttons=True,
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
    ) -> None:
        self.settings = settings
        self.default_language = default_language
        self._request = request
        self._get_updates_request = get_updates_request
        self._app: TelegramApp | None = None
        self._inbox: Inbox | None = None
        self._me: User | None = None
        self._sent: OrderedDict[str, SentRef] = OrderedDict()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

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

    # --- life cycle --------------------------------------------------------------------

    async def start(self, inbox: Inbox) -> None:
        self._inbox = inbox
        builder = (
            ApplicationBuilder()
            .token(self.settings.token.reveal())
            .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
            .job_queue(None)  # scheduling is the bot's own (APScheduler, rebuilt from tables)
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
        self._check_bot_settings(self._me)
        await app.start()
        updater = app.updater
        if updater is None:
            raise RuntimeError("the Telegram application was built without an updater")
        if self.settings.mode == "webhook":
            await updater.start_webhook(**self._webhook_options())
        else:
            await updater.start_polling(
                allowed_updates=list(ALLOWED_UPDATES), error_callback=self._on_polling_error
            )
        log.info(
            "telegram: receiving via %s as @%s (id %s)",
            self.settings.mode,
            self._me.username,
            self._me.id,
        )

    def _webhook_options(self) -> dict[str, Any]:
        """Listen where the settings say; the URL path comes from the public URL (never
        from the token, which would then show up in proxy logs)."""
        secret = self.settings.webhook_secret.reveal()
        if not secret:
            log.warning(
                "telegram: webhook without a secret: anyone who finds the URL can send fake "
                "updates. Set telegram.webhook_secret (1-256 characters A-Z, a-z, 0-9, _ and -)."
            )
        return {
            "listen": self.settings.webhook_listen,
            "port": self.settings.webhook_port,
            "url_path": urlsplit(self.settings.webhook_url).path.lstrip("/"),
            "webhook_url": self.settings.webhook_url,
            "secret_token": secret or None,
            "allowed_updates": list(ALLOWED_UPDATES),
        }

    def _check_bot_settings(self, me: User) -> None:
        """Say at start-up what the BotFather settings mean for this bot; warn only where
        something it needs is missing."""
        if not me.can_join_groups:
            log.warning(
                "telegram: @%s cannot be added to groups. Fix it in @BotFather: /setjoingroups "
                "(or /mybots -> @%s -> Bot Settings -> Allow Groups? -> Turn groups on).",
                me.username,
                me.username,
            )
        if me.can_read_all_group_messages:
            log.info(
                "telegram: privacy mode is off: the bot receives every group message but acts "
                "only on commands. Turning it on is recommended (@BotFather: /setprivacy -> "
                "Enable; then remove and re-add the bot in each group)."
            )
        else:
            log.info(
                "telegram: privacy mode is on: in groups the bot sees commands and service "
                "messages only, which is all it needs."
            )

    async def stop_receiving(self) -> None:
        """Take no new updates; commands already received may still send their replies."""
        app = self._app
        if app is not None and app.updater is not None and app.updater.running:
            await app.updater.stop()

    async def stop(self) -> None:
        """Stop receiving, let sends already under way finish, then close the connection."""
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

    def to_incoming(self, message: Message) -> IncomingMessage | None:
        """A command message as the core sees it, or None if it is not for this bot."""
        if message.text is None or not message.entities:
            return None
        if message.is_automatic_forward or message.forward_origin is not None:
            return None  # forwarding someone's command is not giving it
        entity = message.entities[0]
        if entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
            return None
        command_text = message.parse_entity(entity)
        word, _, target = command_text[1:].partition("@")
        own = (self._me.username or "").lower() if self._me is not None else ""
        if target and target.lower() != own:
            return None  # `/join@OtherBot` is for another bot
        sender = self._sender(message)
        if sender is None:
            return None
        chat = message.chat
        text = word + message.text[len(command_text) :]
        is_direct = chat.type == chat.PRIVATE
        if is_direct and _DEEP_LINK.match(text):
            text = "start"  # a t.me/<bot>?start=... link: greet, whatever the payload
        return IncomingMessage(
            chat=ChatRef(PLATFORM, str(chat.id), is_direct=is_direct, title=chat.effective_name),
            sender=sender,
            text=text.strip(),
            message_id=str(message.message_id),
            mentions=self._mentions(message),
        )

    @staticmethod
    def _sender(message: Message) -> UserRef | None:
        """The person behind a message; a group or channel when someone writes as one.

        Checked before `is_bot`: Telegram fills `from` of such messages with a service
        bot (GroupAnonymousBot, Channel_Bot).
        """
        sender_chat = message.sender_chat
        if sender_chat is not None:
            return UserRef(
                PLATFORM,
                f"chat{sender_chat.id}",
                display_name=sender_chat.effective_name or "?",
                username=sender_chat.username,
                anonymous=True,
            )
        user = message.from_user
        if user is None or user.is_bot:
            return None
        return _user_ref(user)

    @staticmethod
    def _mentions(message: Message) -> tuple[UserRef, ...]:
        """People mentioned without a username (`text_mention`), whose id Telegram gives.

        `@username` mentions stay in the text; the core resolves usernames it knows.
        """
        return tuple(
            _user_ref(entity.user)
            for entity in message.entities
            if entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and not entity.user.is_bot
        )

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

    # --- sending -----------------------------------------------------------------------

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        """Send to a chat. A chat the bot can no longer write to (removed, blocked, deleted)
        is logged and skipped, so one gone chat never breaks a handler or a reminder run."""
        try:
            return await self._deliver(chat, message, key)
        except (Forbidden, BadRequest) as exc:
            if isinstance(exc, BadRequest) and not _chat_gone(exc):
                raise
            log.warning(
                "telegram: cannot write to chat %s, message dropped: %s", chat.id, exc.message
            )
            if chat.is_direct and self._inbox is not None:
                account = AccountRef(PLATFORM, chat.id, chat.title or chat.id)
                await self._inbox.direct_reachable(account, False)
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
            if isinstance(exc, BadRequest) and not _chat_gone(exc):
                raise
            log.info("telegram: no private chat with %s: %s", account.external_id, exc.message)
            if self._inbox is not None:
                await self._inbox.direct_reachable(account, False)
            raise DirectMessageUnavailable(hint_url=self.hint_url()) from None

    async def _deliver(self, chat: ChatRef, message: Rich, key: str | None) -> SentRef:
        """One message, sent once per key in this process; follows a group that became a
        supergroup."""
        if key is not None and key in self._sent:
            return self._sent[key]
        self._in_flight += 1
        self._idle.clear()
        try:
            text = render_html(message, mention_html)
            try:
                sent = await self._send_html(chat, text)
            except ChatMigrated as exc:
                new_id = str(exc.new_chat_id)
                if self._inbox is not None:
                    await self._inbox.chat_migrated(PLATFORM, chat.id, new_id)
                chat = ChatRef(PLATFORM, new_id, is_direct=False, title=chat.title)
                sent = await self._send_html(chat, text)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
        ref = SentRef(chat, str(sent.message_id))
        if key is not None:
            self._sent[key] = ref
            while len(self._sent) > _SENT_KEYS_KEPT:
                self._sent.popitem(last=False)
        return ref

    async def _send_html(self, chat: ChatRef, text: str) -> Message:
        return await self.application.bot.send_message(
            chat_id=_chat_id(chat.id),
            text=text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    # --- command menus -----------------------------------------------------------------

    async def publish_menus(self, menus: Mapping[tuple[str, str], Sequence[MenuEntry]]) -> None:
        """Fill Telegram's "/" menu per scope and language; German is also the default
        for users whose app language has no menu of its own."""
        bot = self.application.bot
        for (scope, language), entries in sorted(menus.items()):
            telegram_scope = MENU_SCOPES.get(scope)
            if telegram_scope is None:
                continue
            commands = [
                BotCommand(entry.command, entry.description or entry.command)
                for entry in entries
                if _MENU_COMMAND.match(entry.command)
            ][:100]
            languages: list[str | None] = [language]
            if language == self.default_language:
                languages.insert(0, None)
            for code in languages:
                await bot.set_my_commands(commands, scope=telegram_scope, language_code=code)
        log.info("telegram: command menus published")


def _user_ref(user: User) -> UserRef:
    return UserRef(
        PLATFORM,
        str(user.id),
        display_name=user.full_name,
        username=user.username,
        language_hint=user.language_code,
    )


def mention_html(node: Mention) -> str | None:
    """A Telegram account as a link that notifies it; anything else falls back to its
    name in bold (done by the renderer)."""
    account = node.account
    if account.platform != PLATFORM or not node.notify or not account.external_id.isdigit():
        return None
    name = html.escape(account.display_name, quote=False)
    return f'<a href="tg://user?id={account.external_id}">{name}</a>'


def _chat_id(value: str) -> int | str:
    """Telegram ids are integers; a channel may also be addressed as `@name`."""
    try:
        return int(value)
    except ValueError:
        return value


def _chat_gone(exc: BadRequest) -> bool:
    return any(marker in exc.message.lower() for marker in _GONE)
