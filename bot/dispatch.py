"""Text -> command -> arguments -> permission check -> handler, each message as a task.

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
import difflib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot import rights
from bot.commands import Command, Kind, Param, Right, Where
from bot.context import Context, Services, UserError
from bot.converters import chat_ag, convert_ag, convert_user
from bot.core import (
    MAX_COMMAND,
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
from bot.rich import AccountRef, Rich, as_rich, code
from storage import repo
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)

_TOKEN = re.compile(r'\s*(?:"([^"]*)"|„([^“”]*)[“”]|“([^”]*)”|(\S+))')

Verdict = Literal["run", "warn", "drop"]

SORRY = N_("Da ist bei mir etwas schiefgegangen. Bitte versuch es gleich noch einmal.")
SLOW_DOWN = N_("Langsam bitte – zu viele Befehle. Versuch es in einer Minute wieder.")
SORRY_NO_DATABASE = N_(
    "Meine Datenbank ist gerade kurz nicht erreichbar. Bitte versuch es in einem Moment noch einmal."
)


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    warned: bool = False


class RateLimit:
    """Spam protection: a token bucket per person (platform and account id).

    Each input (command, button press, reaction) takes a token; a person has up to
    `burst` tokens, refilled at `per_minute`. Without a token the input is not handled:
    the first such one gets a "slow down" answer ("warn"), the ones after it nothing at
    all ("drop") until the bucket is full again, so a flood never makes the bot flood the
    chat back. `also` names further buckets the input must find a token in as well (all
    or nothing), e.g. one shared by everyone who writes anonymously in a chat.
    Admins are limited like anyone (a misfiring script or a taken-over admin account
    floods just the same; a person typing commands never gets near the limit).
    Kept in memory only: it protects, it is not state; a restart starts everyone afresh.
    """

    PRUNE_ABOVE = 1000  # buckets kept before the full (idle) ones are forgotten

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def check(
        self,
        platform: str,
        sender_id: str,
        per_minute: int,
        burst: int,
        *,
        also: Sequence[str] = (),
    ) -> Verdict:
        if per_minute <= 0:
            return "run"
        now = self._clock()
        keys = [(platform, key) for key in (sender_id, *also)]
        if len(self._buckets) >= self.PRUNE_ABOVE and any(k not in self._buckets for k in keys):
            self._prune(now, per_minute, burst)  # before, so no bucket of this input goes
        buckets = [self._bucket(key, now, per_minute, burst) for key in keys]
        empty = [bucket for bucket in buckets if bucket.tokens < 1]
        if not empty:
            for bucket in buckets:
                bucket.tokens -= 1
            return "run"
        if all(bucket.warned for bucket in empty):
            return "drop"
        for bucket in empty:
            bucket.warned = True
        return "warn"

    def _bucket(self, key: tuple[str, str], now: datetime, per_minute: int, burst: int) -> _Bucket:
        """The bucket under `key`, refilled up to now (a new one is full)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(burst), now)
        else:
            self._refill(bucket, now, per_minute, burst)
        if bucket.tokens >= burst:
            bucket.warned = False
        return bucket

    @staticmethod
    def _refill(bucket: _Bucket, now: datetime, per_minute: int, burst: int) -> None:
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(float(burst), bucket.tokens + elapsed * per_minute / 60)
        bucket.at = now

    def _prune(self, now: datetime, per_minute: int, burst: int) -> None:
        for key, bucket in list(self._buckets.items()):
            self._refill(bucket, now, per_minute, burst)
            if bucket.tokens >= burst:
                del self._buckets[key]


class Dispatcher:
    """The bot's Inbox: every transport hands its messages here."""

    LANGUAGES_KEPT = 10_000  # senders whose language is remembered for the outage apology

    def __init__(self, services: Services) -> None:
        self.services = services
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last: dict[tuple[str, ...], asyncio.Task[Any]] = {}
        self.rate_limit = RateLimit(services.now)
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

        The rate limit is checked here, on arrival, before anything else is done."""
        verdict = self.admit(message.chat, message.sender)
        key = (message.chat.key, message.sender.key)
        if verdict == "run":
            return self._spawn(key, lambda: self.handle(message))
        if verdict == "warn":
            log.info("rate limit reached on %s, further commands ignored", message.chat.platform)
            return self._spawn(key, lambda: self._slow_down(message))
        return self._spawn(("dropped",), _nothing)

    def admit(self, chat: ChatRef, sender: UserRef) -> Verdict:
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
        verdict = self.admit(press.chat, press.presser)
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

    def _spawn(self, key: tuple[str, ...], work: Callable[[], Awaitable[Any]]) -> asyncio.Task[Any]:
        """Run `work` as a task after the previous task with the same key (keeps order)."""
        previous = self._last.get(key)

        async def ordered() -> Any:
            if previous is not None:
                await asyncio.wait([previous])
            return await work()

        task = asyncio.create_task(ordered())
        self._last[key] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(
            lambda t: self._last.pop(key, None) if self._last.get(key) is t else None
        )
        return task

    async def drain(self) -> None:
        """Wait for the handlers still running (at shutdown, end of console input)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- handling --------------------------------------------------------------------

    async def handle(self, message: IncomingMessage) -> None:
        transport = self.services.transports[message.chat.platform]
        ctx: Context | None = None
        try:
            ctx = await self._context(transport, message)
            chosen = ctx.lang.code
            await self._run(ctx)
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
        audience = Audience.of_chat(message.chat, self._languages.get(message.sender.key))
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
        audience = Audience.of_chat(message.chat, language)
        lang = self.services.translator.for_language(self.services.outbox.language(audience))
        return Context(self.services, transport, message, lang, person_id)

    async def _run(self, ctx: Context) -> None:
        registry = self.services.registry
        if ctx.message.too_long or len(ctx.message.text) > MAX_COMMAND:
            await self._too_long(ctx)
            return
        words = ctx.message.text.split()
        if not words:
            return
        cmd, used = registry.lookup(words)
        if cmd is None:
            await self._unknown(ctx, words[0])
            return
        rest = ctx.message.text.strip()
        for _ in range(used):
            rest = rest[len(rest.split(None, 1)[0]) :].lstrip()
        await self._check_place(ctx, cmd)
        if cmd.needs_person and ctx.sender.anonymous:
            raise UserError(
                ctx.t(
                    "Du schreibst anonym im Namen der Gruppe, darum weiß ich nicht, wer du bist. "
                    "Schalte „Anonym bleiben“ in deinen Admin-Rechten aus oder schreib mir privat."
                )
            )
        args = await self._convert(ctx, cmd, rest)
        await self._check_right(ctx, cmd, args)
        if cmd.needs_person and ctx.person_id is None:
            await ctx.ensure_person()  # first contact: the account is new
            if ctx.message.is_direct:
                await self.direct_reachable(ctx.sender.as_account(), True)
        await cmd.handler(ctx, **args)

    async def _too_long(self, ctx: Context) -> None:
        """Refuse a command longer than any command needs, before anything parses it; in
        a group only when it names one of our commands (it may be for another bot)."""
        words = ctx.message.text[:100].split(None, 2)
        if ctx.message.is_direct or self.services.registry.lookup(words[:2])[0] is not None:
            raise UserError(
                ctx.t("Das ist zu lang für einen Befehl: höchstens {max} Zeichen.", max=MAX_COMMAND)
            )

    async def _unknown(self, ctx: Context, word: str) -> None:
        registry = self.services.registry
        if word.lower() in registry.groups():
            from handlers.help.render import describe_group

            raise UserError(describe_group(ctx, word.lower()))
        names = sorted({c.name.split()[0] for c in registry.unique()})
        close = difflib.get_close_matches(word.lower(), names, n=1, cutoff=0.75)
        if close:
            raise UserError(
                ctx.t(
                    "Meintest du {cmd}? Alle Befehle: {help}",
                    cmd=code(ctx.cmd(close[0])),
                    help=code(ctx.cmd("help")),
                )
            )
        if ctx.message.is_direct:
            raise UserError(
                ctx.t(
                    "Den Befehl kenne ich nicht. {help} zeigt, was ich kann.",
                    help=code(ctx.cmd("help")),
                )
            )
        # In groups, unknown commands may be meant for another bot: stay quiet.

    async def _check_place(self, ctx: Context, cmd: Command) -> None:
        if rights.fits_place(cmd, direct=ctx.message.is_direct):
            return
        if cmd.where is Where.GROUP:
            raise UserError(
                ctx.t(
                    "{cmd} funktioniert nur in einer Gruppe oder einem Raum, nicht im privaten Chat.",
                    cmd=code(ctx.cmd(cmd.name)),
                )
            )
        raise UserError(
            ctx.t("{cmd} funktioniert nur im privaten Chat mit mir.", cmd=code(ctx.cmd(cmd.name)))
        )

    async def _convert(self, ctx: Context, cmd: Command, rest: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        remaining = rest
        for index, param in enumerate(cmd.params):
            last = index == len(cmd.params) - 1
            raw, remaining = _take(param, remaining, last)
            if not raw:
                if (
                    param.kind is Kind.AG
                    and param.from_chat
                    and (linked := await chat_ag(ctx, archived=param.archived))
                ):
                    args[param.name] = linked
                    continue
                if param.optional:
                    args[param.name] = None
                    continue
                raise UserError(usage(ctx, cmd, missing=param))
            args[param.name] = await _convert_one(ctx, param, raw)
        if remaining.strip():
            raise UserError(usage(ctx, cmd))
        return args

    async def _check_right(self, ctx: Context, cmd: Command, args: dict[str, Any]) -> None:
        if cmd.right is not Right.ADMIN and cmd.ag_param is None and cmd.scope is None:
            # Not yet declared with a scope: the handler checks once it knows the AG.
            return
        await rights.check(ctx, cmd, args)


async def _nothing() -> None:
    """What a command dropped by the rate limit does."""


def _take(param: Param, text: str, last: bool) -> tuple[str, str]:
    """Cut the text for one parameter off the front of `text`."""
    text = text.strip()
    if not text:
        return "", ""
    if param.kind is Kind.TEXT or (param.kind is Kind.AG and last):
        return _unquote(text), ""
    match = _TOKEN.match(text)
    if not match:
        return "", text
    token = next(g for g in match.groups() if g is not None)
    rest = text[match.end() :]
    if param.kind is Kind.AG and token.lower() == "ag" and (num := re.match(r"\s*(\d+)\b", rest)):
        return f"ag{num.group(1)}", rest[num.end() :]
    return token, rest


def _unquote(text: str) -> str:
    match = _TOKEN.fullmatch(text)
    if match and match.group(4) is None:
        return next(g for g in match.groups() if g is not None)
    return text


async def _convert_one(ctx: Context, param: Param, raw: str) -> Any:
    if param.convert is not None:
        return await param.convert(ctx, raw)
    if param.kind is Kind.AG:
        return await convert_ag(ctx, raw, archived=param.archived)
    if param.kind is Kind.USER:
        return await convert_user(ctx, raw)
    return raw


def usage(ctx: Context, cmd: Command, *, missing: Param | None = None) -> Rich:
    """`So geht's: /join <AG>` plus an example, in the reader's language."""
    message = ctx.t("So geht's: {usage}", usage=code(ctx.signature(cmd)))
    if missing is not None:
        message = (
            ctx.t("Da fehlt noch etwas: {what}.", what=ctx.lang.gettext(missing.label))
            + " "
            + message
        )
    if cmd.examples:
        message += " " + ctx.t("Beispiel: {example}", example=code(ctx.cmd(cmd.examples[0])))
    return message
