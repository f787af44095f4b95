"""The bot's inbox: messages, button presses and network events arrive here and each is
handled as a task (bot/commands/run.py: text -> command -> arguments -> right -> handler).

A handler's UserError becomes its reply; any other exception is logged (with ids, never
message text) and the user gets a short apology. When the database cannot be reached
(`DatabaseUnavailable`), the apology says so and asks to try again in a moment, and the
log gets one warning line, not a stack trace. The receive loops of the transports
never wait for a handler. Commands, button presses and Matrix reactions pass one
per-person rate limit first (`RateLimit`, `Dispatcher.admit`), except on transports
without `Capabilities.rate_limited` (the console); native poll votes of one voter on one
poll are coalesced (only the latest counts), so a flood of them cannot queue up.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import stages
from bot.admission import JoinAsked
from bot.commands import rights
from bot.commands.declare import Right
from bot.commands.ratelimit import RateLimit, SharedRateLimit, Verdict
from bot.commands.run import run
from bot.context import Context, Services, UserError
from bot.core import (
    ButtonPress,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    PollCounts,
    PollVote,
    Transport,
    UserRef,
)
from bot.i18n import N_, Lang
from bot.outbox import Audience
from bot.rich import AccountRef, as_rich
from storage import repo
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)

SORRY = N_("Da ist bei mir etwas schiefgegangen. Bitte versuch es gleich noch einmal.")
SLOW_DOWN = N_("Langsam bitte – zu viele Befehle. Versuch es in einer Minute wieder.")
SORRY_NO_DATABASE = N_(
    "Meine Datenbank ist gerade kurz nicht erreichbar. Bitte versuch es in einem Moment noch einmal."
)


class Dispatcher:
    """The bot's Inbox: every transport hands its messages here."""

    LANGUAGES_KEPT = 10_000  # senders whose language is remembered for the outage apology

    def __init__(self, services: Services) -> None:
        self.services = services
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last: dict[tuple[str, ...], asyncio.Task[Any]] = {}
        self.rate_limit = RateLimit(services.now)
        # Several processes on one PostgreSQL share the buckets (bot/commands/ratelimit.py).
        self.shared_rate_limit: SharedRateLimit | None = (
            None if services.db.is_sqlite else SharedRateLimit(services.db, services.now)
        )
        # Native poll votes waiting for their handler, by (poll, voter): a newer vote of
        # the same voter replaces the waiting one instead of queueing behind it.
        self._waiting_votes: dict[tuple[str, ...], PollVote] = {}
        # Each sender's own language as last read from (or set in) the database: only so
        # that the apology during a database outage comes in it. Not state: a restart
        # forgets it, and the database's value wins on every command.
        self._languages: dict[str, str] = {}

    # --- Inbox -----------------------------------------------------------------------

    async def message(self, message: IncomingMessage) -> asyncio.Task[None]:
        """Handle as a task; one sender's messages in one chat keep their order.

        The rate limit is checked before anything else is done: here, on arrival, when
        the buckets are in memory; first thing in the task when they are shared in the
        database (the receive loop never waits for a query)."""
        key = (message.chat.key, message.sender.key)
        if self.shared_rate_limit is not None and self._limited(message.chat):
            return self._spawn(key, lambda: self._admit_and_handle(message))
        verdict = self.admit_here(message.chat, message.sender)
        if verdict == "run":
            stages.mark("dispatched", message.message_id)
            return self._spawn(key, lambda: self.handle(message), message.message_id or "")
        if verdict == "warn":
            log.info("rate limit reached on %s, further commands ignored", message.chat.platform)
            return self._spawn(key, lambda: self._slow_down(message))
        return self._spawn(("dropped",), _nothing)

    async def _admit_and_handle(self, message: IncomingMessage) -> None:
        verdict = await self.admit(message.chat, message.sender)
        if verdict == "run":
            await self.handle(message)
        elif verdict == "warn":
            log.info("rate limit reached on %s, further commands ignored", message.chat.platform)
            await self._slow_down(message)

    def _limited(self, chat: ChatRef) -> bool:
        transport = self.services.transports.get(chat.platform)
        return transport is None or transport.capabilities.rate_limited

    async def admit(self, chat: ChatRef, sender: UserRef) -> Verdict:
        """`admit_here`, or the buckets shared in the database where there are several
        processes' worth of them (PostgreSQL)."""
        if self.shared_rate_limit is None or not self._limited(chat):
            return self.admit_here(chat, sender)
        settings = self.services.settings
        return await self.shared_rate_limit.check(
            sender.platform,
            sender.id,
            settings.commands_per_minute,
            settings.command_burst,
            also=(f"as-chat-in:{chat.id}",) if sender.anonymous else (),
        )

    def admit_here(self, chat: ChatRef, sender: UserRef) -> Verdict:
        """The one rate limit for everything a person does: commands, button presses,
        reactions used as buttons. Keyed by the account, so all chats share it. Someone
        writing as a chat (a Telegram channel, an anonymous group admin) cannot be told
        apart from others doing the same: they share one more bucket per chat, so posting
        as many channels in one group gains nothing. Transports without
        `Capabilities.rate_limited` (the console: one person's terminal or script) pass."""
        transport = self.services.transports.get(chat.platform)
        if transport is not None and not transport.capabilities.rate_limited:
            return "run"
        settings = self.services.settings
        return self.rate_limit.check(
            sender.platform,
            sender.id,
            settings.commands_per_minute,
            settings.command_burst,
            also=(f"as-chat-in:{chat.id}",) if sender.anonymous else (),
        )

    async def chat_migrated(self, platform: str, old_id: str, new_id: str) -> None:
        async def move(session: AsyncSession) -> bool:
            return await repo.migrate_chat(session, platform, old_id, new_id)

        try:
            if await self.services.db.run(move):
                log.info("chat moved to its new id on %s", platform)
        except DatabaseUnavailable as exc:
            # Telegram says it again at the next send to the old id (ChatMigrated).
            log.warning(
                "chat id change on %s not stored, the database is unavailable: %s", platform, exc
            )

    async def direct_reachable(self, account: AccountRef, reachable: bool) -> None:
        """Bookkeeping for private messages; without a database it waits for next time
        (the transports call this in the middle of receiving and sending)."""

        async def mark(session: AsyncSession) -> None:
            await repo.set_direct_reachable(
                session, account.platform, account.external_id, reachable
            )

        try:
            await self.services.db.run(mark)
        except DatabaseUnavailable as exc:
            log.warning(
                "reachability on %s not stored, the database is unavailable: %s",
                account.platform,
                exc,
            )

    async def poll_vote(self, vote: PollVote) -> None:
        """A vote is never dropped (the network shows it; the count must agree), but only
        a voter's latest answer counts: while one of their votes on this poll waits for
        its turn, a newer one takes its place, so a flood costs at most one handler run
        under way and one waiting."""
        if vote.voter is None:
            self._spawn(("vote", vote.native_id, ""), lambda: self._event("poll_vote", vote))
            return
        key = ("vote", vote.native_id, vote.voter.key)
        waiting = self._waiting_votes.get(key)
        if waiting is not None:
            if not (vote.at and waiting.at and vote.at < waiting.at):
                self._waiting_votes[key] = vote  # a catch-up's older answer does not win
            return
        self._waiting_votes[key] = vote
        self._spawn(key, lambda: self._event("poll_vote", self._waiting_votes.pop(key)))

    async def poll_counts(self, counts: PollCounts) -> None:
        self._spawn(("counts", counts.native_id, ""), lambda: self._event("poll_counts", counts))

    async def member_joined(self, event: MemberJoined) -> None:
        self._spawn(
            ("joined", event.chat.key, event.user.key),
            lambda: self._event("member_joined", event),
        )

    async def join_requested(self, request: object) -> None:
        if not isinstance(request, JoinAsked):
            raise TypeError(f"not a join request: {type(request).__name__}")
        self._spawn(
            ("join-request", request.chat.key, request.user.key),
            lambda: self._event("join_requested", request),
        )

    async def _event(self, name: str, event: object) -> None:
        handler = self.services.registry.events.get(name)
        if handler is None:
            log.debug("no handler for %s events", name)
            return
        try:
            await handler(self.services, event)
        except DatabaseUnavailable as exc:
            log.warning("%s event not handled, the database is unavailable: %s", name, exc)
        except Exception:
            log.exception("%s event failed", name)

    async def button_pressed(self, press: ButtonPress) -> str | None:
        """Run the button's handler as a task and wait for its toast text. Presses (and
        Matrix reactions) take from the same rate limit as commands; over it, the first
        gets the "slow down" toast, later ones nothing."""
        message = IncomingMessage(press.chat, press.presser, press.data, press.press_id)
        verdict = await self.admit(press.chat, press.presser)
        if verdict != "run":
            if verdict == "warn":
                log.info("rate limit reached on %s, further presses ignored", press.chat.platform)
                return self._fallback_lang(message).gettext(SLOW_DOWN)
            return None
        task = self._spawn(
            (press.chat.key, press.presser.key, "button"), lambda: self._press(message)
        )
        return await asyncio.shield(task)

    async def _press(self, message: IncomingMessage) -> str | None:
        prefix = message.text.split(":", 1)[0]
        handler = self.services.registry.buttons.get(prefix)
        transport = self.services.transports[message.chat.platform]
        ctx: Context | None = None
        try:
            ctx = await self._context(transport, message)
            if handler is None or message.sender.anonymous:
                return None
            right, scope = self.services.registry.button_rights.get(prefix, (Right.ANYONE, None))
            await rights.check_press(ctx, right, scope, message.text)
            result: str | None = await handler(ctx, message.text)
            return result
        except UserError as exc:
            return exc.message.plain[:200]
        except DatabaseUnavailable as exc:
            log.warning(
                "button not handled on %s, the database is unavailable: %s",
                message.chat.platform,
                exc,
            )
            return (ctx.lang if ctx else self._fallback_lang(message)).gettext(SORRY_NO_DATABASE)
        except Exception:
            log.exception("button handler failed on %s", message.chat.platform)
            if ctx is None:
                return None
            return ctx.lang.gettext(SORRY)

    def _spawn(
        self, key: tuple[str, ...], work: Callable[[], Awaitable[Any]], stage_key: str = ""
    ) -> asyncio.Task[Any]:
        """Run `work` as a task after the previous task with the same key (keeps order);
        `stage_key` names the command in the benchmarks' stage log (bot/stages.py)."""
        previous = self._last.get(key)
        context = None
        if stages.enabled and stage_key:
            context = contextvars.copy_context()
            context.run(stages.current.set, stage_key)

        async def ordered() -> Any:
            if previous is not None:
                await asyncio.wait([previous])
            return await work()

        task = asyncio.create_task(ordered(), context=context)
        self._last[key] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(
            lambda t: self._last.pop(key, None) if self._last.get(key) is t else None
        )
        return task

    async def close(self) -> None:
        """Let go of what the dispatcher holds open (the shared rate limit's connections)."""
        if self.shared_rate_limit is not None:
            await self.shared_rate_limit.close()

    async def drain(self) -> None:
        """Wait for the handlers still running (at shutdown, end of console input)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- handling --------------------------------------------------------------------

    async def handle(self, message: IncomingMessage) -> None:
        transport = self.services.transports[message.chat.platform]
        ctx: Context | None = None
        stages.mark("task")
        try:
            ctx = await self._context(transport, message)
            stages.mark("context")
            chosen = ctx.lang.code
            await run(ctx, self.direct_reachable)
            if ctx.lang.code != chosen:  # the command changed the reader's language (/lang)
                self._remember_language(message, ctx.lang.code)
        except UserError as exc:
            if ctx is not None:
                await ctx.reply(exc.message)
        except DatabaseUnavailable as exc:
            log.warning(
                "command not run on %s, the database is unavailable: %s",
                message.chat.platform,
                exc,
            )
            if ctx is None:
                # Nothing was sent for this message yet, so a fresh context's reply keys
                # cannot collide with an earlier reply's.
                ctx = self._fallback_context(transport, message)
            await self._apologise(ctx, SORRY_NO_DATABASE)
        except Exception:
            log.exception("command failed on %s", message.chat.platform)
            if ctx is not None:
                await self._apologise(ctx, SORRY)

    async def _apologise(self, ctx: Context, message: str) -> None:
        """Send `message` (a msgid marked with N_) in the reader's language."""
        try:
            await ctx.reply(as_rich(ctx.lang.gettext(message)))
        except Exception:
            log.exception("could not send the apology")

    def _remember_language(self, message: IncomingMessage, language: str | None) -> None:
        if message.sender.anonymous:
            return
        key = message.sender.key
        self._languages.pop(key, None)
        if language:
            if len(self._languages) >= self.LANGUAGES_KEPT:
                del self._languages[next(iter(self._languages))]
            self._languages[key] = language

    def _fallback_context(self, transport: Transport, message: IncomingMessage) -> Context:
        """A context to answer with when the database cannot be asked who the sender is."""
        return Context(self.services, transport, message, self._fallback_lang(message), None)

    def _fallback_lang(self, message: IncomingMessage) -> Lang:
        """The reader's language without the database: what `_context` would choose,
        with the sender's own language as last seen."""
        outbox = self.services.outbox
        own = self._languages.get(message.sender.key) if message.is_direct else None
        audience = Audience.of_chat(message.chat, own)
        return self.services.translator.for_language(outbox.language(audience))

    async def _slow_down(self, message: IncomingMessage) -> None:
        """The one reply to a person over the rate limit."""
        transport = self.services.transports[message.chat.platform]
        try:
            try:
                ctx = await self._context(transport, message)
            except DatabaseUnavailable:
                ctx = self._fallback_context(transport, message)
            await ctx.reply(as_rich(ctx.lang.gettext(SLOW_DOWN)))
        except Exception:
            log.exception("could not send the rate limit notice on %s", message.chat.platform)

    async def _context(self, transport: Transport, message: IncomingMessage) -> Context:
        person_id: int | None = None
        language: str | None = None
        mark_reachable = False
        if not message.sender.anonymous:
            known = await self.services.senders.lookup(message.sender.platform, message.sender.id)
            if known is not None:
                person_id, language = known.person_id, known.language
                mark_reachable = message.is_direct and not known.direct_reachable
            self._remember_language(message, language)
        # Written after the read session is closed: a write while holding a pooled read
        # connection can deadlock SQLite's single writer under load.
        if mark_reachable:
            await self.direct_reachable(message.sender.as_account(), True)
        if not message.is_direct:
            # A group is answered in its own language, whoever typed (`/lang en` there).
            stored = await self.services.chat_languages.lookup(
                message.chat.platform, message.chat.id
            )
            message = replace(message, chat=replace(message.chat, language=stored))
            language = None
        audience = Audience.of_chat(message.chat, language)
        lang = self.services.translator.for_language(self.services.outbox.language(audience))
        return Context(self.services, transport, message, lang, person_id)


async def _nothing() -> None:
    """What a command dropped by the rate limit does."""
