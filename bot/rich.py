"""A small rich-text value that handlers write once and each transport renders.

Handlers never build HTML or Markdown themselves: user-provided strings stay `Text`
nodes until a renderer escapes them, in one place, for the network at hand.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AccountRef:
    """Someone to mention: an account on one network."""

    platform: str
    external_id: str
    display_name: str
    username: str | None = None


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Bold:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Italic:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Code:
    value: str


@dataclass(frozen=True)
class Link:
    url: str
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Mention:
    """A person, shown as a mention where the network has them. Only `notify` mentions
    ping the person; lists of names should not ping everyone in them."""

    account: AccountRef
    notify: bool = True


Node = Text | Bold | Italic | Code | Link | Mention


@dataclass(frozen=True)
class Rich:
    """An immutable sequence of nodes; `+` concatenates, `str` values become text."""

    nodes: tuple[Node, ...] = field(default_factory=tuple)

    def __add__(self, other: Rich | str) -> Rich:
        return Rich(self.nodes + as_rich(other).nodes)

    def __radd__(self, other: str) -> Rich:
        return Rich(as_rich(other).nodes + self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __bool__(self) -> bool:
        return bool(self.nodes)

    @property
    def plain(self) -> str:
        return render_plain(self)


def as_rich(value: Rich | str) -> Rich:
    return value if isinstance(value, Rich) else Rich((Text(value),))


def text(value: str) -> Rich:
    return Rich((Text(value),))


def bold(value: Rich | str) -> Rich:
    return Rich((Bold(as_rich(value).nodes),))


def italic(value: Rich | str) -> Rich:
    return Rich((Italic(as_rich(value).nodes),))


def code(value: str) -> Rich:
    return Rich((Code(value),))


def link(url: str, label: Rich | str | None = None) -> Rich:
    return Rich((Link(url, as_rich(label if label is not None else url).nodes),))


def mention(account: AccountRef, *, notify: bool = True) -> Rich:
    return Rich((Mention(account, notify),))


def join(parts: Iterable[Rich | str], sep: Rich | str = "\n") -> Rich:
    out: list[Node] = []
    separator = as_rich(sep).nodes
    for i, part in enumerate(parts):
        if i:
            out.extend(separator)
        out.extend(as_rich(part).nodes)
    return Rich(tuple(out))


def lines(*parts: Rich | str) -> Rich:
    return join(parts, "\n")


def mentioned_accounts(message: Rich) -> list[AccountRef]:
    """The accounts a message should notify."""
    found: list[AccountRef] = []

    def walk(nodes: Iterable[Node]) -> None:
        for node in nodes:
            if isinstance(node, Mention) and node.notify:
                found.append(node.account)
            elif isinstance(node, Bold | Italic | Link):
                walk(node.children)

    walk(message.nodes)
    return found


def render_plain(message: Rich, mention_label: Callable[[AccountRef], str] | None = None) -> str:
    label = mention_label or (lambda a: a.display_name)
    out: list[str] = []

    def walk(nodes: Iterable[Node]) -> None:
        for node in nodes:
            if isinstance(node, Text | Code):
                out.append(node.value)
            elif isinstance(node, Mention):
                out.append(label(node.account))
            elif isinstance(node, Link):
                before = len(out)
                walk(node.children)
                shown = "".join(out[before:])
                if shown != node.url:
                    out.append(f" ({node.url})")
            else:
                walk(node.children)

    walk(message.nodes)
    return "".join(out)


def render_html(
    message: Rich,
    mention_html: Callable[[Mention], str | None],
    *,
    newline: str = "\n",
) -> str:
    """Render to HTML; every text value is escaped here and nowhere else.

    `mention_html` returns the markup for a mention on this network, or None to fall
    back to the person's name in bold (e.g. a Telegram account mentioned on Matrix).
    """
    out: list[str] = []

    def esc(value: str) -> str:
        return html.escape(value, quote=False).replace("\n", newline)

    def walk(nodes: Iterable[Node]) -> None:
        for node in nodes:
            if isinstance(node, Text):
                out.append(esc(node.value))
            elif isinstance(node, Code):
                out.append(f"<code>{esc(node.value)}</code>")
            elif isinstance(node, Bold):
                out.append("<b>")
                walk(node.children)
                out.append("</b>")
            elif isinstance(node, Italic):
                out.append("<i>")
                walk(node.children)
                out.append("</i>")
            elif isinstance(node, Link):
                out.append(f'<a href="{html.escape(node.url, quote=True)}">')
                walk(node.children)
                out.append("</a>")
            else:
                rendered = mention_html(node)
                out.append(
                    rendered if rendered is not None else f"<b>{esc(node.account.display_name)}</b>"
                )

    walk(message.nodes)
    return "".join(out)


def split_lines(message: Rich) -> list[Rich]:
    """Split at the newlines of top-level text (the way `lines`/`join` build messages)."""
    out: list[Rich] = []
    current: list[Node] = []
    for node in message.nodes:
        if isinstance(node, Text) and "\n" in node.value:
            parts = node.value.split("\n")
            for i, part in enumerate(parts):
                if part:
                    current.append(Text(part))
                if i < len(parts) - 1:
                    out.append(Rich(tuple(current)))
                    current = []
        else:
            current.append(node)
    out.append(Rich(tuple(current)))
    return out


def chunk(message: Rich, limit: int) -> list[Rich]:
    """Cut a long message into parts of at most `limit` visible characters, at line ends.

    A single line longer than the limit is cut inside its text (user input can be long).
    """
    if len(message.plain) <= limit:
        return [message]
    parts: list[Rich] = []
    current = Rich()
    for line in split_lines(message):
        for piece in _cut_line(line, limit):
            candidate = current + "\n" + piece if current else piece
            if current and len(candidate.plain) > limit:
                parts.append(current)
                current = piece
            else:
                current = candidate
    if current:
        parts.append(current)
    return parts


def _cut_line(line: Rich, limit: int) -> list[Rich]:
    if len(line.plain) <= limit:
        return [line]
    flat = line.plain
    return [text(flat[i : i + limit]) for i in range(0, len(flat), limit)]
