"""Wiring: settings -> database, scheduler, dispatcher, transports; start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
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
from bot.logs import use_pseudonym_key
from bot.outbox_queue import route_through_queue
from bot.web.health import health_endpoint
from bot.web.server import WebServer
from handlers.features import FEATURES
from handlers.polls.secret import secret_key
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
        self._started: list[Transport] = []

    @property
    def transports(self) -> list[Transport]:
        return list(self.services.transports.values())

    async def prepare_database(self) -> None:
        db = self.services.db
        await db.upgrade()
        async with db.write() as session:
            await seed_ags(session, self.settings.ags_file)

    async def start(self) -> None:
        await self.prepare_database()
        await self.services.listener.start()  # every process: other processes' writes
        try:
            use_pseudonym_key(await secret_key(self.settings))
        except (OSError, RuntimeError) as exc:
            log.warning("log pseudonyms keyed for this run only, no secret key: %s", exc)
        self.services.timers.start()
        if self.web is not None:
            await self.start_web(self.web)
        menus = build_menus(self.services.registry, self.services.translator)
        for transport in self.transports:
            await transport.start(self.dispatcher)
            self._started.append(transport)
            try:
                await transport.publish_menus(menus)
            except Exception:
                log.exception("%s: could not publish the command menus", transport.platform)
            log.info("%s transport started", transport.platform)
        for hook in self.services.registry.start_hooks:
            try:
                await hook(self.services)
            except Exception:
                log.exception("start-up step %s failed", hook.__qualname__)

    async def start_web(self, web: WebServer) -> None:
        """The features' routes and `/healthz`, then listen (transports add theirs later)."""
        services = self.services
        for (method, pattern), handler in services.registry.routes.items():
            web.add(method, pattern, functools.partial(handler, services))
        web.add("GET", "/healthz", health_endpoint(services.db, self._running))
        await web.start()

    def _running(self) -> list[tuple[str, bool]]:
        """Each transport and whether it runs (started, not finished)."""
        return [
            (t.platform, t in self._started and not (t.finished and t.finished.is_set()))
            for t in self.transports
        ]

    async def stop(self) -> None:
        """Stop taking messages, let running commands finish and reply, then disconnect."""
        for transport in self._started:
            try:
                await transport.stop_receiving()
            except Exception:
                log.exception("%s transport did not stop receiving", transport.platform)
        if self.web is not None:
            await self.web.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_GRACE_SECONDS
        try:
            await asyncio.wait_for(self.dispatcher.drain(), timeout=STOP_GRACE_SECONDS)
        except TimeoutError:
            log.warning("stopping with commands still running")
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
            waiters.append(asyncio.create_task(self._heartbeat()))
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await self.stop()


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
