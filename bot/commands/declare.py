"""Commands declare themselves: name, parameters, who may run them, where, and help.

`/help`, usage errors and the command menus of the networks are generated from these
declarations, so there is one place to look for what the bot understands.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.i18n import N_
from bot.web.http import RouteHandler


class Right(enum.IntEnum):
    """Who may run a command. FOLLOWER, MEMBER and LEAD refer to the AG of the command's
    scope (see `Scope`); bot/commands/rights.py says what each means."""

    ANYONE = 0
    FOLLOWER = 1  # a member of the AG, or writing in a chat linked to it
    MEMBER = 2
    LEAD = 3
    ADMIN = 4


class Scope(Protocol):
    """Where a command's AG comes from, resolved by dispatch after the arguments are
    converted and before the handler runs: `scope(ctx, args)` returns the AG, None (the
    thing belongs to no AG), or a list of AGs (the right must hold for one of them).
    Without a scope, the AG is the command's AG parameter. bot/commands/rights.py has the usual
    ones (`arg`, `chat`, `any_ag`)."""

    async def __call__(self, ctx: Any, args: Mapping[str, Any], /) -> Any: ...


Converter = Callable[[Any, str], Awaitable[Any]]


class Where(enum.Enum):
    ANY = "any"
    DIRECT = "direct"
    GROUP = "group"


class Kind(enum.Enum):
    AG = "ag"  # an AG reference: ag2, "AG 2", 2, transparenz
    WORD = "word"  # one word
    TEXT = "text"  # the rest of the line
    USER = "user"  # @someone


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    label: str  # shown in usage, translated: N_("AG")
    optional: bool = False
    # AG parameters: when omitted, use the AG this chat is linked to.
    from_chat: bool = False
    # AG parameters: archived AGs count too (to leave or restore them).
    archived: bool = False
    # Turns the typed text into the handler's argument (a poll id into the poll), as
    # `await convert(ctx, raw)`; raises UserError for what it cannot read.
    convert: Converter | None = None


@dataclass(frozen=True)
class Command:
    name: str  # "join", or "ag new" for a sub-command
    handler: Callable[..., Awaitable[None]]
    help: str
    params: tuple[Param, ...] = ()
    right: Right = Right.ANYONE
    where: Where = Where.ANY
    needs_person: bool = False
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    menu: bool = True  # offered in the network's command menu
    scope: Scope | None = None  # where the AG of `right` comes from (default: the AG param)
    # Running it makes the sender known (a person the admins can name); False only for
    # what must work without storing anything (reading the privacy notice, /forget).
    makes_known: bool = True

    @property
    def words(self) -> list[str]:
        return self.name.split()

    def signature(
        self, prefix: str, gettext: Callable[[str], str], required: Param | None = None
    ) -> str:
        """How to type it: `/join [AG]`, `/lead AG @Person` (labels translated; what
        may be left out in brackets, what must be given as it is). `required`: a
        parameter this chat cannot fill in (the AG of `/join` in a private chat)."""
        parts = [prefix + self.name]
        for p in self.params:
            label = gettext(p.label)
            left_out = (p.optional or p.from_chat) and p is not required
            parts.append(f"[{label}]" if left_out else label)
        return " ".join(parts)

    @property
    def ag_param(self) -> Param | None:
        return next((p for p in self.params if p.kind is Kind.AG), None)


ButtonHandler = Callable[..., Awaitable["str | None"]]
EventHandler = Callable[..., Awaitable[None]]
StartHook = Callable[..., Awaitable[None]]


@dataclass
class Registry:
    commands: dict[str, Command] = field(default_factory=dict)
    # Button presses by the prefix of their data ("rsvp" for "rsvp:m12:yes").
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    # Who may press them: (right, scope), checked by dispatch like a command's; the
    # scope gets {"data": the button's data}.
    button_rights: dict[str, tuple[Right, Scope | None]] = field(default_factory=dict)
    # Network events by name: "poll_vote", "poll_counts".
    events: dict[str, EventHandler] = field(default_factory=dict)
    start_hooks: list[StartHook] = field(default_factory=list)
    # Run by the leader every few seconds while it leads (see `on_rescan`).
    rescan_hooks: list[StartHook] = field(default_factory=list)
    # Web routes by (method, path pattern): handler(services, request), served by
    # bot/web/ when `[web]` is configured.
    routes: dict[tuple[str, str], RouteHandler] = field(default_factory=dict)

    def route(self, method: str, pattern: str) -> Callable[[RouteHandler], RouteHandler]:
        """Declare a web route, e.g. `route("GET", "/kalender/{token}.ics")`; a path
        parameter named `token` never shows in the access log."""

        def register(fn: RouteHandler) -> RouteHandler:
            key = (method.upper(), pattern)
            if key in self.routes:
                raise ValueError(f"route {method} {pattern} declared twice")
            self.routes[key] = fn
            return fn

        return register

    def on_start(self, fn: StartHook) -> StartHook:
        """Declare work for start-up, after the transports run: called as `fn(services)`
        (e.g. rebuild scheduler jobs from the database, catch up on missed votes)."""
        self.start_hooks.append(fn)
        return fn

    def on_rescan(self, fn: StartHook) -> StartHook:
        """Declare a cheap, idempotent look at the database that the leader repeats every
        few seconds while it leads, called as `fn(services)`: it plans what another process
        wrote (a poll closing, a reminder due, a notice) and takes up rows whose lease ran out
        (a process that died while sending). Must not send what another process holds."""
        self.rescan_hooks.append(fn)
        return fn

    def button(
        self, prefix: str, *, right: Right = Right.ANYONE, scope: Scope | None = None
    ) -> Callable[[ButtonHandler], ButtonHandler]:
        """Declare the handler of buttons whose data starts with `prefix:`.
        It is called as `handler(ctx, data)` and may return a short toast text; dispatch
        checks `right` for the AG of `scope` first (a refusal becomes the toast)."""

        def register(fn: ButtonHandler) -> ButtonHandler:
            if prefix in self.buttons:
                raise ValueError(f"button prefix {prefix!r} declared twice")
            self.buttons[prefix] = fn
            self.button_rights[prefix] = (right, scope)
            return fn

        return register

    def event(self, name: str) -> Callable[[EventHandler], EventHandler]:
        """Declare the handler of a network event, called as `handler(services, event)`."""

        def register(fn: EventHandler) -> EventHandler:
            if name in self.events:
                raise ValueError(f"event {name!r} declared twice")
            self.events[name] = fn
            return fn

        return register

    def command(
        self,
        name: str,
        *,
        help: str,
        params: tuple[Param, ...] = (),
        right: Right = Right.ANYONE,
        where: Where = Where.ANY,
        needs_person: bool = False,
        examples: tuple[str, ...] = (),
        aliases: tuple[str, ...] = (),
        menu: bool = True,
        scope: Scope | None = None,
        makes_known: bool = True,
    ) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
        def register(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
            self.add(
                Command(
                    name,
                    fn,
                    help,
                    params,
                    right,
                    where,
                    needs_person,
                    examples,
                    aliases,
                    menu,
                    scope,
                    makes_known,
                )
            )
            return fn

        return register

    def add(self, cmd: Command) -> None:
        for key in (cmd.name, *cmd.aliases):
            if key in self.commands:
                raise ValueError(f"command {key!r} declared twice")
            self.commands[key] = cmd

    @classmethod
    def build(cls, features: Iterable[Feature]) -> Registry:
        """The table of everything the features declare (a name declared twice is an error)."""
        registry = cls()
        for feature in features:
            feature.register(registry)
        return registry

    def lookup(self, words: list[str]) -> tuple[Command | None, int]:
        """The command named by the first one or two words, and how many words it took."""
        if len(words) >= 2 and (cmd := self.commands.get(f"{words[0]} {words[1]}".lower())):
            return cmd, 2
        if words and (cmd := self.commands.get(words[0].lower())):
            return cmd, 1
        return None, 0

    def groups(self) -> set[str]:
        """Command words that only lead to sub-commands (`ag` for `ag new`)."""
        return {name.split()[0] for name in self.commands if " " in name}

    def unique(self) -> list[Command]:
        seen: dict[str, Command] = {}
        for cmd in self.commands.values():
            seen.setdefault(cmd.name, cmd)
        return sorted(seen.values(), key=lambda c: c.name)


class Feature(Registry):
    """The declarations of one feature module, collected by its decorators
    (`@feature.command(...)`, `.button`, `.event`, `.on_start`) into this object, not into
    a global table: the app builds its `Registry` from the list of features."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def register(self, registry: Registry) -> None:
        for cmd in self.unique():
            registry.add(cmd)
        for prefix, button in self.buttons.items():
            right, scope = self.button_rights.get(prefix, (Right.ANYONE, None))
            registry.button(prefix, right=right, scope=scope)(button)
        for name, event in self.events.items():
            registry.event(name)(event)
        registry.start_hooks.extend(self.start_hooks)
        registry.rescan_hooks.extend(self.rescan_hooks)
        for (method, pattern), handler in self.routes.items():
            registry.route(method, pattern)(handler)


def ag(*, optional: bool = False, from_chat: bool = False, archived: bool = False) -> Param:
    return Param("ag", Kind.AG, N_("AG"), optional=optional, from_chat=from_chat, archived=archived)


def word(
    name: str, label: str, *, optional: bool = False, convert: Converter | None = None
) -> Param:
    return Param(name, Kind.WORD, label, optional=optional, convert=convert)


def text(name: str, label: str, *, optional: bool = False) -> Param:
    return Param(name, Kind.TEXT, label, optional=optional)


def user(name: str = "user") -> Param:
    return Param(name, Kind.USER, N_("@Person"))


HandlerArgs = dict[str, Any]
