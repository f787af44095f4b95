"""Writing HTML by hand, safely: every value goes through `esc`, the page shell is the
same for every page (language, phone viewport, the one stylesheet), no script anywhere.

The pages are small and few, so a template engine would be a new dependency for little;
the one rule that matters, escaping what people typed, lives here in one function.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from bot.web.http import WebResponse

HTML = "text/html; charset=utf-8"
CSS_PATH = "/seite.css"


def esc(value: object) -> str:
    """Text as HTML, quotes included (it may land in an attribute)."""
    return html.escape(str(value), quote=True)


def page(lang_code: str, title: str, body: Iterable[str], *, status: int = 200) -> WebResponse:
    """A whole page; `title` is plain text, `body` is HTML made with `esc`."""
    head = (
        "<!doctype html>\n"
        f'<html lang="{esc(lang_code)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f'<link rel="stylesheet" href="{CSS_PATH}">'
        f"<title>{esc(title)}</title></head><body><main>"
    )
    out = head + "".join(body) + "</main></body></html>\n"
    return WebResponse(status, out.encode(), HTML)


def tag(name: str, text: object, cls: str = "") -> str:
    """`<name class="cls">text</name>` with the text escaped."""
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<{name}{attr}>{esc(text)}</{name}>"


CSS = """\
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1d1d1f;background:#f6f6f4}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.2rem 0 .6rem}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
p{margin:.4rem 0}.muted{color:#5b5b60;font-size:.92rem}
.notice{padding:.6rem .8rem;border-radius:.4rem;background:#e6f4ea;border:1px solid #9ccfa9}
.notice.bad{background:#fdecea;border-color:#f1a49c}
.bars{list-style:none;padding:0;margin:0}
.bars li{margin:.5rem 0}
.bar{height:.9rem;background:#dcdcd8;border-radius:.45rem;overflow:hidden}
.bar span{display:block;height:100%;background:#2f6fb5}
.bars .lead .bar span{background:#1f8a4c}
.scroll{position:relative;overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid #dcdcd8;
border-radius:.4rem;background:#fff}
table{border-collapse:collapse;font-size:.9rem;width:100%}
th,td{padding:.35rem .4rem;border-bottom:1px solid #ececea;text-align:center;white-space:nowrap}
th:first-child,td:first-child{text-align:left;position:sticky;left:0;background:#fff}
thead th{font-weight:600;vertical-align:bottom;font-size:.8rem;line-height:1.25}
.best{background:#e6f4ea}th.best{color:#1f6b3c}
td.yes{background:#d4efdc}td.maybe{background:#fbefc8}td.no{background:#f7d9d6}
td.open{color:#8a8a8f}
tfoot td{font-weight:600}
fieldset{border:1px solid #dcdcd8;border-radius:.4rem;margin:.5rem 0;padding:.4rem .7rem;
background:#fff}
legend{font-weight:600;padding:0 .3rem}
label{display:inline-block;margin:.25rem .9rem .25rem 0}
button{font:inherit;padding:.55rem 1.2rem;border:0;border-radius:.4rem;background:#2f6fb5;
color:#fff;margin:.6rem 0}
ul.plain{padding-left:1.1rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
"""
