"""Chat with the bot in a terminal, or drive it from a script, without any token.

Script lines: `:as NAME` switches the sender, `:in CHAT` the chat (`:in dm` is the
private chat), `:sleep SECONDS` waits; every other line is a message. Each bot message
prints as `[CHAT] bot: TEXT`, continuation lines indented.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import TextIO

from bot.core import BaseTransport, Capabilities, ChatRef, Inbox, IncomingMessage, SentRef, UserRef
from bot.i18n import N_, Translator
from bot.rich import AccountRef, Rich, render_plain

DIRECT = "dm"

# The console's own hints, in the bot's configured language (`language`).
GREETING = N_("Bündnisbot – Konsole. {help} zeigt die Befehle, Strg-D beendet.")
NOT_A_COMMAND = N_("(Befehle beginnen mit /, z. B. {help})")
SLEEP_NEEDS_SECONDS = N_("(:sleep braucht Sekunden, nicht „{arg}“)")
UNKNOWN_DIRECTIVE = N_(
    "(Die Anweisung „{line}“ kenne ich nicht; es gibt :as NAME, :in CHAT, :sleep SEKUNDEN)"
)


class ConsoleTransport(BaseTransport):
    platform = "console"
    command_prefix = "/"
    # No rate limit: a script may pipe any number of commands as fast as they run.
    capabilities = Capabilities(max_message_length=4096, rate_limited=False)

    def __init__(
        self,
        user: str = "du",
        *,
        language: str = "de",
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.user = user
        self._lang = Translator().for_language(language)
        self.chat = DIRECT
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self._finished = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._counter = 0

    @property
    def finished(self) -> asyncio.Event:
        """Set at the end of input: the app stops then."""
        return self._finished

    async def start(self, inbox: Inbox) -> None:
        if self.interactive:
            self._hint(GREETING, help="/help")
        self._reader = asyncio.create_task(self._read(inbox), name="console-reader")

    async def _read(self, inbox: Inbox) -> None:
        lines: asyncio.Queue[str] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def pump() -> None:
            # A daemon thread: a blocked readline must never keep the process alive.
            while True:
                line = self.stdin.readline()
                loop.call_soon_threadsafe(lines.put_nowait, line)
                if not line:
                    return

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()
        try:
            while True:
                if self.interactive:
                    self.stdout.write(f"[{self.chat}] {self.user}> ")
                    self.stdout.flush()
                line = await lines.get()
                if not line:
                    break
                await self._line(inbox, line.rstrip("\n"))
        finally:
            self._finished.set()

    async def _line(self, inbox: Inbox, line: str) -> None:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return
        if stripped.startswith(":"):
            directive, _, arg = stripped[1:].partition(" ")
            arg = arg.strip()
            if directive == "as" and arg:
                self.user = arg
            elif directive == "in" and arg:
                self.chat = arg
            elif directive == "sleep":
                try:
                    await asyncio.sleep(float(arg or "1"))
                except ValueError:
                    self._hint(SLEEP_NEEDS_SECONDS, arg=arg[:40])
            else:
                self._hint(UNKNOWN_DIRECTIVE, line=stripped[:40])
            return
        if stripped[0] not in "/!":
            if self.chat == DIRECT:
                self._hint(NOT_A_COMMAND, help="/help")
            return
        self._counter += 1
        message = IncomingMessage(
            chat=self.chat_ref(self.chat),
            sender=UserRef(self.platform, self.user, self.user, username=self.user),
            text=stripped[1:],
            message_id=str(self._counter),
        )
        done = await inbox.message(message)
        if done is not None:
            await done

    def chat_ref(self, name: str) -> ChatRef:
        return ChatRef(self.platform, name, is_direct=name == DIRECT, title=name)

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        self._print(chat.id, render_plain(message, lambda a: "@" + (a.username or a.display_name)))
        return SentRef(chat, None)

    async def send_direct(
        self, account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        """The current user's private chat is `dm`; someone else's is `dm:NAME`."""
        name = DIRECT if account.external_id == self.user else f"{DIRECT}:{account.external_id}"
        return await self.send(ChatRef(self.platform, name, is_direct=True), message, key=key)

    def _print(self, chat: str, text: str) -> None:
        first, *rest = text.split("\n")
        out = [f"[{chat}] bot: {first}", *(f"    {line}" for line in rest)]
        self._print_line("\n".join(out))

    def _hint(self, message: str, **values: str) -> None:
        """One of the console's own lines, in its language."""
        self._print_line(self._lang.t(message, **values).plain)

    def _print_line(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def stop(self) -> None:
        if self._reader and not self._reader.done():
            self._reader.cancel()
