"""A recording transport and a chat-like harness, so handler tests read like a chat:

await group.say("alice", "/join ag2")
assert "Willkommen" in group.last()
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.app import App
from bot.config import Secret, Settings
from bot.core import (
    BaseTransport,
    Button,
    Capabilities,
    ChatRef,
    DirectMessageUnavailable,
    Inbox,
    IncomingMessage,
    PollSpec,
    PollVote,
    SentPoll,
    SentRef,
    Unsupported,
    UserRef,
)
from bot.rich import AccountRef, Rich, render_plain
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Sent:
    chat: ChatRef
    message: Rich

    @property
    def text(self) -> str:
        return render_plain(self.message, lambda a: "@" + (a.username or a.display_name))


@dataclass
class SentFile:
    chat: ChatRef
    filename: str
    data: bytes
    mime: str
    caption: Rich | None


@dataclass
class Edit:
    """One `Transport.edit`: which message, its new text and buttons (with their rows)."""

    sent: SentRef
    message: Rich
    buttons: tuple[Button, ...]

    @property
    def text(self) -> str:
        return render_plain(self.message, lambda a: "@" + (a.username or a.display_name))

    @property
    def rows(self) -> list[list[str]]:
        return button_rows(self.buttons)


def button_rows(buttons: tuple[Button, ...]) -> list[list[str]]:
    """The button labels as rows (rising `Button.row`), as Telegram shows them."""
    rows: dict[int, list[str]] = {}
    for button in buttons:
        rows.setdefault(button.row, []).append(button.label)
    return [labels for _, labels in sorted(rows.items())]


@dataclass
class FakeTransport(BaseTransport):
    """Records what the bot sends. Its capabilities are those of a network with
    everything but edits; a test that wants edits opts in (`with_edits()`)."""

    platform: str = "fake"
    command_prefix: str = "/"
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(
            html=True,
            mentions=True,
            native_polls=True,
            anonymous_polls=True,
            buttons=True,
            files=True,
            max_message_length=4096,
        )
    )
    sent: list[Sent] = field(default_factory=list)
    # Accounts that cannot be written to privately (never started the bot).
    unreachable: set[str] = field(default_factory=set)
    polls: list[tuple[SentPoll, PollSpec]] = field(default_factory=list)
    closed_polls: list[tuple[SentPoll, Rich]] = field(default_factory=list)
    # What `fetch_poll_votes` answers, by native poll id (votes "held by the network").
    network_votes: dict[str, list[PollVote]] = field(default_factory=dict)
    files: list[SentFile] = field(default_factory=list)
    buttons: list[tuple[ChatRef, tuple[Button, ...]]] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    inbox: Inbox | None = None

    def with_edits(self) -> FakeTransport:
        """This network can edit its messages (`capabilities.edits`), recorded in `edits`."""
        self.capabilities = replace(self.capabilities, edits=True)
        return self

    async def start(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def send(self, chat: ChatRef, message: Rich, *, key: str | None = None) -> SentRef:
        self.sent.append(Sent(chat, message))
        return SentRef(chat, str(len(self.sent)))

    async def send_direct(
        self, account: AccountRef, message: Rich, *, key: str | None = None
    ) -> SentRef:
        if account.external_id in self.unreachable:
            raise DirectMessageUnavailable("https://example.org/start-bot")
        return await self.send(ChatRef(self.platform, f"dm-{account.external_id}", True), message)

    async def send_poll(self, chat: ChatRef, poll: PollSpec, *, key: str | None = None) -> SentPoll:
        native_id = f"native-{len(self.polls) + 1}"
        sent = SentPoll(chat, f"poll-msg-{len(self.polls) + 1}", native_id)
        self.polls.append((sent, poll))
        return sent

    async def close_poll(self, sent: SentPoll, result: Rich, *, key: str | None = None) -> None:
        self.closed_polls.append((sent, result))

    async def fetch_poll_votes(self, sent: SentPoll) -> list[PollVote]:
        return list(self.network_votes.get(sent.native_id or "", []))

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
        self.files.append(SentFile(chat, filename, data, mime, caption))
        return SentRef(chat, f"file-{len(self.files)}")

    async def send_with_buttons(
        self,
        chat: ChatRef,
        message: Rich,
        buttons: tuple[Button, ...],
        *,
        key: str | None = None,
    ) -> SentRef:
        self.buttons.append((chat, buttons))
        return await self.send(chat, message, key=key)

    async def edit(self, sent: SentRef, message: Rich, buttons: tuple[Button, ...] = ()) -> None:
        if not self.capabilities.edits:
            raise Unsupported("edits")
        self.edits.append(Edit(sent, message, buttons))

    async def stop(self) -> None:
        self.inbox = None


class Chat:
    def __init__(self, harness: BotHarness, ref: ChatRef) -> None:
        self.harness = harness
        self.ref = ref

    async def say(self, who: str, text: str, *, mentions: tuple[str, ...] = ()) -> list[str]:
        """Send `text` as `who`; return the plain text of every reply it caused."""
        return await self.harness.say(self.ref, who, text, mentions=mentions)

    def last(self) -> str:
        transport = self.harness.transports[self.ref.platform]
        replies = [s.text for s in transport.sent if s.chat.key == self.ref.key]
        assert replies, f"the bot never answered in {self.ref.id}"
        return replies[-1]


class BotHarness:
    """The whole bot (dispatcher, handlers, database) behind a FakeTransport."""

    def __init__(self, app: App, transport: FakeTransport, *more: FakeTransport) -> None:
        self.app = app
        self.transport = transport
        self.transports = {t.platform: t for t in (transport, *more)}

    @classmethod
    async def create(
        cls,
        database_url: str,
        *,
        admins: tuple[str, ...] = ("fake:admin",),
        more: tuple[FakeTransport, ...] = (),
        transport: FakeTransport | None = None,
        db: Database | None = None,
    ) -> BotHarness:
        """`more`: further fake networks (e.g. `FakeTransport(platform="other")`);
        `transport`: the main fake network, if not a plain `FakeTransport`; `db`: a
        Database on `database_url`, a copy of one a bot has prepared, whose connections
        and compiled statements the bot shares (tests/support/cells.py) instead of an
        engine of its own."""
        settings = Settings(
            database_url=database_url,
            admins=frozenset(admins),
            ags_file=ROOT / "config" / "ags.toml",
            survey_file=ROOT / "config" / "survey.toml",
            secret_key=Secret("harness-secret"),
        )
        transport = transport or FakeTransport()
        app = App(settings, [transport, *more])
        if db is None:
            await app.prepare_database()
        else:  # a copy of a database a bot has prepared: migrated, the AGs in
            await _share(app, db)
        for each in (transport, *more):
            await each.start(app.dispatcher)
        return cls(app, transport, *more)

    def dm(self, who: str, platform: str = "fake") -> Chat:
        return Chat(self, ChatRef(platform, f"dm-{who}", is_direct=True, title=None))

    def group(self, name: str = "gruppe", platform: str = "fake") -> Chat:
        return Chat(self, ChatRef(platform, name, is_direct=False, title=name.title()))

    def user(self, who: str, platform: str = "fake") -> UserRef:
        return UserRef(platform, who, who.title(), username=who)

    async def say(
        self, chat: ChatRef, who: str, text: str, *, mentions: tuple[str, ...] = ()
    ) -> list[str]:
        assert text[:1] in "/!", "commands start with / or !"
        transport = self.transports[chat.platform]
        before = len(transport.sent)
        message = IncomingMessage(
            chat=chat,
            sender=self.user(who, chat.platform),
            text=text[1:],
            message_id=str(before),
            mentions=tuple(self.user(m, chat.platform) for m in mentions),
        )
        task = await self.app.dispatcher.message(message)
        await task
        return [s.text for s in transport.sent[before:]]

    async def close(self) -> None:
        await self.app.dispatcher.close()
        await self.app.services.db.dispose()


async def _share(app: App, db: Database) -> None:
    """Put a Database sharing `db`'s engine in the place of the App's own (never connected),
    and build again what the services built on the App's own (the caches)."""
    own = app.services.db
    await own.dispose()
    app.services.db = db.sharing()
    app.services.__post_init__()
    stale = [
        f"{name}.{inner}" if inner else name
        for name, value in vars(app.services).items()
        for inner, held in [("", value), *getattr(value, "__dict__", {}).items()]
        if held is own
    ]
    assert not stale, f"still on the App's own database: {stale}"
