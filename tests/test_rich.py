"""Rich text: user input stays text on every network, long messages split cleanly, and
filling a translation never interprets what people typed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import fill
from bot.rich import (
    AccountRef,
    Bold,
    Mention,
    Rich,
    Text,
    bold,
    chunk,
    code,
    italic,
    join,
    lines,
    link,
    mention,
    mentioned_accounts,
    render_html,
    render_plain,
    text,
)

EVIL = '<b>Anna</b> & "Bob" <script>alert(1)</script>'
ANNA = AccountRef("telegram", "7000000000", "Anna <Admin> & Co", "anna")


def no_network_mentions(_: Mention) -> str | None:
    return None


def telegram_mentions(node: Mention) -> str | None:
    return f'<a href="tg://user?id={node.account.external_id}">@</a>'


# --- HTML ----------------------------------------------------------------------------------


def test_html_escapes_user_text() -> None:
    html = render_html(text(EVIL), no_network_mentions)

    assert html == ('&lt;b&gt;Anna&lt;/b&gt; &amp; "Bob" &lt;script&gt;alert(1)&lt;/script&gt;')


def test_html_escapes_inside_bold_italic_and_code() -> None:
    message = bold(EVIL) + italic("a<b") + code("x && y")

    html = render_html(message, no_network_mentions)

    assert html.startswith("<b>&lt;b&gt;Anna&lt;/b&gt; &amp;")
    assert "<i>a&lt;b</i>" in html
    assert html.endswith("<code>x &amp;&amp; y</code>")


def test_html_escapes_link_labels_and_quotes_in_urls() -> None:
    message = link('https://example.org/?q="x"&y=<z>', "AG <2> & mehr")

    assert render_html(message, no_network_mentions) == (
        '<a href="https://example.org/?q=&quot;x&quot;&amp;y=&lt;z&gt;">AG &lt;2&gt; &amp; mehr</a>'
    )


def test_html_escapes_a_mention_shown_as_a_name() -> None:
    html = render_html(mention(ANNA), no_network_mentions)

    assert html == "<b>Anna &lt;Admin&gt; &amp; Co</b>"


def test_html_uses_the_network_markup_for_a_mention() -> None:
    html = render_html(text("Hallo ") + mention(ANNA), telegram_mentions)

    assert html == 'Hallo <a href="tg://user?id=7000000000">@</a>'


def test_html_keeps_newlines_or_turns_them_into_breaks() -> None:
    message = lines("eins", "zwei <3")

    assert render_html(message, no_network_mentions) == "eins\nzwei &lt;3"
    assert render_html(message, no_network_mentions, newline="<br/>") == "eins<br/>zwei &lt;3"


@given(st.text())
def test_html_never_lets_markup_through_from_text(value: str) -> None:
    html = render_html(
        text(value) + bold(value) + mention(AccountRef("x", "1", value)), no_network_mentions
    )

    stripped = html.replace("<b>", "").replace("</b>", "")
    assert "<" not in stripped
    assert ">" not in stripped


# --- plain ---------------------------------------------------------------------------------


def test_plain_drops_formatting_and_keeps_text_as_typed() -> None:
    message = bold("Wichtig:") + " " + italic(EVIL) + " " + code("/join ag2")

    assert render_plain(message) == "Wichtig: " + EVIL + " /join ag2"


def test_plain_shows_a_link_target_unless_it_is_the_label() -> None:
    assert render_plain(link("https://t.me/bot", "Bot")) == "Bot (https://t.me/bot)"
    assert render_plain(link("https://t.me/bot")) == "https://t.me/bot"


def test_plain_mentions_by_name_or_as_the_network_labels_them() -> None:
    assert render_plain(mention(ANNA)) == "Anna <Admin> & Co"
    assert render_plain(mention(ANNA), lambda a: f"@{a.username}") == "@anna"


def test_only_notifying_mentions_ping() -> None:
    bob = AccountRef("matrix", "@bob:example.org", "Bob")
    message = join([mention(ANNA), bold(mention(bob, notify=False))], ", ")

    assert mentioned_accounts(message) == [ANNA]


def test_rich_values_concatenate_with_strings() -> None:
    message = "a" + bold("b") + "c"

    assert message.nodes == (Text("a"), Bold((Text("b"),)), Text("c"))
    assert message.plain == "abc"
    assert not Rich()


# --- chunk ---------------------------------------------------------------------------------


def test_a_short_message_stays_whole() -> None:
    message = lines("eins", "zwei")

    assert chunk(message, 100) == [message]


def test_a_long_message_is_cut_at_line_ends() -> None:
    rows = [f"• Mitglied Nummer {i:03d}" for i in range(300)]

    parts = chunk(lines(*rows), 1000)

    assert len(parts) > 1
    assert all(len(p.plain) <= 1000 for p in parts)
    assert [row for p in parts for row in p.plain.split("\n")] == rows


def test_formatting_survives_a_cut_between_lines() -> None:
    message = lines(*[bold(f"Zeile {i}") + " Text" for i in range(50)])

    parts = chunk(message, 100)

    assert all(len(p.plain) <= 100 for p in parts)
    assert all(isinstance(p.nodes[0], Bold) for p in parts)


def test_a_single_overlong_line_is_cut_inside() -> None:
    parts = chunk(text("x" * 250), 100)

    assert [len(p.plain) for p in parts] == [100, 100, 50]


@given(
    st.lists(st.text(alphabet=st.characters(exclude_characters="\n"), min_size=1), min_size=1),
    st.integers(min_value=1, max_value=80),
)
def test_chunks_never_exceed_the_limit_and_keep_every_line(rows: list[str], limit: int) -> None:
    parts = chunk(lines(*rows), limit)

    assert all(len(p.plain) <= limit for p in parts)
    if all(len(row) <= limit for row in rows):
        assert [row for p in parts for row in p.plain.split("\n")] == rows
    else:
        assert "".join(p.plain.replace("\n", "") for p in parts) == "".join(rows)


# --- fill ----------------------------------------------------------------------------------


def test_fill_puts_values_in_their_places() -> None:
    filled = fill("Willkommen in der AG {ag}, {name}!", {"ag": bold("ag2"), "name": "Anna"})

    assert filled.plain == "Willkommen in der AG ag2, Anna!"
    assert Bold((Text("ag2"),)) in filled.nodes


def test_fill_leaves_unknown_placeholders_visible() -> None:
    assert fill("Hallo {name}, {unbekannt}!", {"name": "Anna"}).plain == "Hallo Anna, {unbekannt}!"


def test_fill_never_interprets_placeholders_in_user_text() -> None:
    filled = fill("AG {ag} angelegt von {who}.", {"ag": "{who}", "who": "{0} {ag!r} {__class__}"})

    assert filled.plain == "AG {who} angelegt von {0} {ag!r} {__class__}."


def test_fill_keeps_user_text_as_text_nodes() -> None:
    filled = fill("Name: {name}", {"name": "<b>x</b>"})

    assert render_html(filled, no_network_mentions) == "Name: &lt;b&gt;x&lt;/b&gt;"


def test_fill_formats_numbers_and_ignores_format_syntax() -> None:
    assert fill("{n} Mitglieder", {"n": 3}).plain == "3 Mitglieder"
    assert fill("{n:>5} und {}", {"n": 3}).plain == "{n:>5} und {}"
