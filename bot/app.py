"""Wiring: settings -> database, scheduler, dispatcher, transports; start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
import time
from pathlib import Path
from typing import Any

from bot.commands.declare import Registry
from bot.commands.dispatch import Dispatcher
from bot.commands.menus import build_menus
from bot.config import Settings
from bot.context import Services
from bot.core import Transport
from bot.i18n import Translator
from bot.leader import Leadership, migration_lock
from bot.logs import use_pseudonym_key
from bot.outbox_queue import route_through_queue
from bot.web.health import health_endpoint
from bot.web.server import WebServer
from handlers.features import FEATURES
from handlers.polls.secret import SecretKeyError, agreed_key
from handlers.reminders.engine import ReminderEngine
from handlers.reminders.text import compose_reminder
from storage.db import Database
from storage.seed import seed_ags

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
# How long stopping may let running commands and reminder sends go on, in all: SIGTERM
# (`docker stop`) must end the process within 2 s. What is cut short is safe: a command's
# transaction rolls back, a reminder delivery stays `sending` and resumes at the next start.
STOP_GRACE_SECONDS = 1.2
# How often the leader looks at the database for work other processes planned, or whose
# lease ran out (`@feature.on_rescan` hooks).
RESCAN_SECONDS = 5.0


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def is_alive(path: Path, max_age: float = 4 * HEARTBEAT_SECONDS) -> bool:
    try:
        return time.time() - path.stat().st_mtime < max_age
    except OSError:
        return False


def build_registry() -> Registry:
    """The table of commands, buttons, events and start-up steps of all features."""
    return Registry.build(FEATURES)


class App:
    def __init__(
        self, settings: Settings, transports: list[Transport], *, web: WebServer | None = None
    ) -> None:
        """`web`: the HTTP server, if `[web]` is configured (build_app makes it, so that
        the Telegram transport can serve its webhook on it)."""
        self.settings = settings
        if web is None and settings.web is not None:
            web = WebServer(settings.web)
        self.web = web
        self.services = Services(
            settings=settings,
            db=Database(settings.database_url),
            translator=Translator(),
            registry=build_registry(),
            transports={t.platform: t for t in transports},
        )
        self.services.reminders = ReminderEngine(
            self.services, compose_reminder, parallel=settings.reminder_parallel_sends
        )
        # Matrix calls of a process that does not run Matrix go to the leader (PostgreSQL).
        route_through_queue(self.services)
        self.dispatcher = Dispatcher(self.services)
        self._stopping = asyncio.Event()
        self._started: list[Transport] = []  # opened (every process)
        self._receiving: list[Transport] = []  # receiving (the leader)
        self.leadership: Leadership | None = None
        self._rescan: asyncio.Task[None] | None = None
        self._reminder_grace = 0.0
        self._menus: Any = None

    @property
    def transports(self) -> list[Transport]:
        return list(self.services.transports.values())

    async def prepare_database(self) -> None:
        """Migrate and seed; on PostgreSQL under a lock, as processes may start at once."""
        db = self.services.db
        lock = contextlib.nullcontext() if db.is_sqlite else migration_lock(db.url)
        async with lock:
            await db.upgrade()
            async with db.write() as session:
                await seed_ags(session, self.settings.ags_file)

    async def start(self) -> None:
        """What every process does (database, key, web server, transports able to send),
        then the leader's duties: at once on SQLite, once elected on PostgreSQL."""
        await self.prepare_database()
        await self.services.listener.start()  # every process: other processes' writes
        try:
            use_pseudonym_key(await agreed_key(self.settings, self.services.db))
        except SecretKeyError:
            raise
        except (OSError, RuntimeError) as exc:
            log.warning("log pseudonyms keyed for this run only, no secret key: %s", exc)
        for transport in self.transports:
            transport.use_database(self.services.db)
        if self.web is not None:
            await self.start_web(self.web)
        self._menus = build_menus(self.services.registry, self.services.translator)
        for transport in self.transports:
            await transport.open(self.dispatcher)
            self._started.append(transport)
        log.info("node %s started", self.services.node_id)
        if self.services.db.is_sqlite:
            await self._lead()
        else:
            self.services.leading = False
            self.leadership = Leadership(
                self.services.db.url, self._lead, self._follow, node_id=self.services.node_id
            )
            await self.leadership.start()

    async def _lead(self) -> None:
        """Elected: receive, run the timers, the start-up steps and the rescans."""
        self.services.leading = True
        self.services.timers.start()
        for transport in self.transports:
            self._receiving.append(transport)  # first: a lead cut short is stopped too
            await transport.lead()
            try:
                await transport.publish_menus(self._menus)
            except Exception:
                log.exception("%s: could not publish the command menus", transport.platform)
            log.info("%s transport started", transport.platform)
        for hook in self.services.registry.start_hooks:
            try:
                await hook(self.services)
            except Exception:
                log.exception("start-up step %s failed", hook.__qualname__)
        if self.services.registry.rescan_hooks:
            self._rescan = asyncio.create_task(self._rescan_loop(), name="rescan")

    async def _follow(self) -> None:
        """Not (or no longer) the leader: stop every duty at once (`leading` first, so
        that nothing new is started meanwhile); sends cut short keep their leases."""
        self.services.leading = False
        rescan, self._rescan = self._rescan, None
        if rescan is not None:
            rescan.cancel()
            await asyncio.gather(rescan, return_exceptions=True)
        for transport in self._receiving:
            try:
                await transport.unlead()
            except Exception:
                log.exception("%s transport did not stop receiving", transport.platform)
        self._receiving.clear()
        await self.services.timers.stop(grace=0.0)
        if self.services.reminders is not None:
            await self.services.reminders.stop(grace=self._reminder_grace)

    async def _rescan_loop(self) -> None:
        """While leading: the rescan hooks, every RESCAN_SECONDS."""
        while True:
            await asyncio.sleep(RESCAN_SECONDS)
            for hook in self.services.registry.rescan_hooks:
                if not self.services.leading:
                    return
                try:
                    await hook(self.services)
                except Exception as exc:
                    log.warning("rescan %s failed: %s", hook.__qualname__, type(exc).__name__)

    @property
    def role(self) -> str:
        return "leader" if self.services.leading else "standby"

    async def start_web(self, web: WebServer) -> None:
        """The features' routes and `/healthz`, then listen (transports add theirs later)."""
        services = self.services
        for (method, pattern), handler in services.registry.routes.items():
            web.add(method, pattern, functools.partial(handler, services))
        who = lambda: {"role": self.role, "node": services.node_id}  # noqa: E731
        web.add("GET", "/healthz", health_endpoint(services.db, self._running, who))
        await web.start()

    def _running(self) -> list[tuple[str, bool]]:
        """Each transport and whether it runs (started, not finished)."""
        return [
            (t.platform, t in self._started and not (t.finished and t.finished.is_set()))
            for t in self.transports
        ]

    async def stop(self) -> None:
        """Stop taking messages, let running commands finish and reply, then disconnect.
        A leader among several then hands over at once: duties stopped, lock released
        (a standby leads within about a second: a rolling restart)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_GRACE_SECONDS
        for transport in self._started:
            try:
                await transport.stop_receiving()
            except Exception:
                log.exception("%s transport did not stop receiving", transport.platform)
        if self.web is not None:
            await self.web.stop()
        try:
            await asyncio.wait_for(
                self.dispatcher.drain(), timeout=max(0.0, deadline - loop.time())
            )
        except TimeoutError:
            log.warning("stopping with commands still running")
        if self.leadership is not None:
            self._reminder_grace = max(0.0, deadline - loop.time())
            await self.leadership.stop()  # -> _follow (if leading), then the lock goes
        if self._rescan is not None:
            self._rescan.cancel()
            await asyncio.gather(self._rescan, return_exceptions=True)
        # No planned job starts any more; one under way (a poll's close) gets what is left.
        await self.services.timers.stop(grace=max(0.0, deadline - loop.time()))
        if self.services.reminders is not None:
            # Sends cut short stay `sending` in the database and resume at the next start.
            await self.services.reminders.stop(grace=max(0.0, deadline - loop.time()))
        for transport in reversed(self._started):
            try:
                await transport.stop()
            except Exception:
                log.exception("%s transport did not stop cleanly", transport.platform)
        self._started.clear()
        self._receiving.clear()
        await self.services.listener.stop()
        await self.dispatcher.close()
        await self.services.db.dispose()

    async def _heartbeat(self) -> None:
        """Touch the heartbeat file while the event loop runs (`buendnisbot health`)."""
        path = self.settings.heartbeat_file
        while True:
            try:
                await asyncio.to_thread(_touch, path)
            except OSError as exc:
                log.warning("cannot write the heartbeat file %s: %s", path, exc.strerror)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Start, run until SIGTERM/SIGINT (or the console's end of input), stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        waiters: list[asyncio.Task[Any]] = [asyncio.create_task(self._stopping.wait())]
        for transport in self.transports:
            finished = transport.finished
            if finished is not None:
                waiters.append(asyncio.create_task(finished.wait()))
        try:
            await self.start()
            settle_heap()
            waiters.append(asyncio.create_task(self._heartbeat()))
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await self.stop()


def settle_heap() -> None:
    """What start-up built lives as long as the process (modules, ORM mappers, settings,
    the transports' state): frozen out of the garbage collector, so that its full
    collections no longer walk all of it in the middle of a command (issue 18: a Matrix
    command's p95 about 10 ms lower in benchmark 2, 4 runs). Only the real process does
    this (`run`), not tests that start and stop many apps in one process."""
    gc.collect()
    gc.freeze()


def build_transports(
    settings: Settings, *, console: bool = False, web: WebServer | None = None
) -> list[Transport]:
    """Every transport whose settings are present; the console when none is (or asked).
    `web`: the bot's HTTP server, which serves Telegram's webhook in webhook mode."""
    transports: list[Transport] = []
    if not console:
        if settings.telegram is not None:
            from bot.transports.telegram import TelegramTransport

            transports.append(
                TelegramTransport(settings.telegram, default_language=settings.language, web=web)
            )
        if settings.matrix is not None:
            from bot.transports.matrix import MatrixTransport

            transports.append(MatrixTransport(settings.matrix))
    if not transports:
        from bot.transports.console import ConsoleTransport

        transports.append(ConsoleTransport(settings.console_user, language=settings.language))
    return transports


def build_app(settings: Settings, *, console: bool = False) -> App:
    web = WebServer(settings.web) if settings.web is not None else None
    return App(settings, build_transports(settings, console=console, web=web), web=web)
