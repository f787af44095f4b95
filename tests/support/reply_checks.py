"""Whether a reply is safe on every network: well-formed HTML with only the tags the network
allows, the user's text escaped (no element more than the message's own structure makes),
within Telegram's length, and Matrix `m.mentions` naming only the people meant."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from html.parser import HTMLParser

from bot.rich import (
    Bold,
    Code,
    Italic,
    Link,
    Mention,
    Node,
    Rich,
    mentioned_accounts,
    render_html,
)
from bot.transports.matrix import text as matrix_text
from bot.transports.telegram.send import mention_html

TELEGRAM_TAGS = {"b", "i", "code", "a", "pre"}
MATRIX_TAGS = TELEGRAM_TAGS | {"br"}
TELEGRAM_LIMIT = 4096


class TagChecker(HTMLParser):
    """Collects problems: tags outside the allowed set, unbalanced tags, anything that
    is not plain text and tags (comments, declarations)."""

    def __init__(self, allowed: set[str], void: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.void = void
        self.stack: list[str] = []
        self.starts = 0
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed:
            self.problems.append(f"tag <{tag}> not allowed")
        if tag == "a":
            if [name for name, _ in attrs] != ["href"]:
                self.problems.append(f"<a> with attributes {attrs}")
        elif attrs:
            self.problems.append(f"<{tag}> with attributes {attrs}")
        if tag in self.void:
            return
        self.starts += 1
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("declaration")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("unknown declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("processing instruction")


_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot);|#\d+;|#x[0-9a-fA-F]+;)")


def html_problems(markup: str, allowed: set[str], void: set[str], tags: int) -> list[str]:
    """`tags`: how many elements the message's structure makes; one more means some
    user-provided markup survived unescaped."""
    checker = TagChecker(allowed, void)
    checker.feed(markup)
    checker.close()
    problems = list(checker.problems)
    if checker.stack:
        problems.append(f"unclosed {checker.stack}")
    if checker.starts != tags:
        problems.append(f"{checker.starts} elements, the message has {tags}")
    if _ENTITY.search(markup):
        problems.append("a bare & that is no entity")
    return problems


def nodes(message: Rich) -> Iterator[Node]:
    def walk(children: tuple[Node, ...]) -> Iterator[Node]:
        for node in children:
            yield node
            if isinstance(node, Bold | Italic | Link):
                yield from walk(node.children)

    return walk(message.nodes)


def element_count(message: Rich) -> int:
    """Each Bold/Italic/Code/Link is one element, and so is each mention (a link, or
    the name in bold)."""
    return sum(isinstance(n, Bold | Italic | Code | Link | Mention) for n in nodes(message))


def on_network(message: Rich, platform: str, external_id: str) -> Rich:
    """The message as it would be for accounts of `platform` (mentions moved there)."""

    def move(node: Node) -> Node:
        if isinstance(node, Mention):
            account = dataclasses.replace(node.account, platform=platform, external_id=external_id)
            return dataclasses.replace(node, account=account)
        if isinstance(node, Bold | Italic | Link):
            return dataclasses.replace(node, children=tuple(move(c) for c in node.children))
        return node

    return Rich(tuple(move(n) for n in message.nodes))


def reply_problems(message: Rich) -> list[str]:
    problems: list[str] = []
    tags = element_count(message)
    if len(message.plain) > TELEGRAM_LIMIT:
        problems.append(f"{len(message.plain)} characters, over Telegram's limit")
    telegram = render_html(on_network(message, "telegram", "12345"), mention_html)
    problems += ["telegram: " + p for p in html_problems(telegram, TELEGRAM_TAGS, set(), tags)]
    matrix = on_network(message, "matrix", "@someone:example.org")
    content = matrix_text.notice_content(matrix)
    problems += [
        "matrix: " + p for p in html_problems(content["formatted_body"], MATRIX_TAGS, {"br"}, tags)
    ]
    meant = ["@someone:example.org"] if mentioned_accounts(matrix) else []
    if content["m.mentions"] != {"user_ids": meant}:
        problems.append(f"matrix: m.mentions {content['m.mentions']}, meant {meant}")
    return problems
