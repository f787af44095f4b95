"""Pages as a person reads them: the link out of the bot's reply, the visible text of a
page (tags dropped, whitespace collapsed), the form's nonce."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.support.web import PUBLIC

PAGE_LINK = re.compile(re.escape(PUBLIC) + r"/seite/([A-Za-z0-9_-]{32})")


def page_token(reply: str) -> str:
    found = PAGE_LINK.search(reply)
    assert found, f"no page link in {reply!r}"
    return found[1]


def masked(reply: str) -> str:
    return PAGE_LINK.sub(PUBLIC + "/seite/TOKEN", reply)


class _Text(HTMLParser):
    BREAKS = frozenset(
        {"p", "li", "tr", "h1", "h2", "fieldset", "legend", "div", "label", "button"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self._skip += 1
        if tag in self.BREAKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" | ")
        elif tag == "br":
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: bytes) -> list[str]:
    """The page's text, one line per block (table cells joined by ` | `)."""
    parser = _Text()
    parser.feed(html.decode())
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return [line for line in lines if line]


def nonce(html: bytes) -> str:
    found = re.search(rb'name="nonce" value="([^"]+)"', html)
    assert found, "no form on the page"
    return found[1].decode()
