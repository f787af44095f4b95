"""A poll's tally as one message (a line with a bar per option, voters per network,
status) and as a PNG chart, the same everywhere a result is shown."""

from __future__ import annotations

import asyncio

from bot.context import Services
from bot.core import ChatRef, Transport
from bot.i18n import Lang
from bot.rich import Rich, bold, lines
from handlers.polls.chart import bar_chart
from handlers.polls.render import deadline_short, network_name, poll_title
from storage.polls.ballots import Tally
from storage.polls.view import PollView

BAR_WIDTH = 10


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def tied(counts: list[int]) -> list[int]:
    """The positions sharing the highest count, when more than one has it (and it is not 0)."""
    top = max(counts, default=0)
    leaders = [i for i, count in enumerate(counts) if count == top]
    return leaders if top and len(leaders) > 1 else []


def listed(lang: Lang, options: list[str]) -> str:
    """`„A“, „B“ und „C“`, with the reader's quotes."""
    items = [lang.t("„{option}“", option=option).plain for option in options]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " " + lang.t("und").plain + " " + items[-1]


def voters_line(lang: Lang, tally: Tally) -> Rich:
    """`6 Stimmen: Telegram 4 · Matrix 2` (anonymous: what each network reported, and the
    private votes)."""
    parts: list[str] = []
    for platform, n in sorted(tally.voters_by_network.items(), key=lambda kv: kv[0] or ""):
        if platform is None:
            parts.append(lang.t("privat").plain + f" {n}")
        else:
            parts.append(f"{network_name(platform)} {n}")
    for platform, n in sorted(tally.native_voters.items()):
        parts.append(f"{network_name(platform)} {n}")
    head = lang.tn("{n} Stimme", "{n} Stimmen", tally.voters)
    return head + (": " + " · ".join(parts) if len(parts) > 1 else Rich())


def result_text(
    services: Services,
    lang: Lang,
    view: PollView,
    tally: Tally,
    *,
    final: bool = False,
    not_voted: Rich | None = None,
) -> Rich:
    """The whole result as one message: header, a line per option, voters, status."""
    header = (
        lang.t("Endergebnis: {poll}", poll=poll_title(view))
        if final
        else lang.t("Zwischenstand: {poll}", poll=poll_title(view))
        if view.is_open
        else lang.t("Ergebnis: {poll}", poll=poll_title(view))
    )
    rows: list[Rich | str] = [header]
    total = tally.voters
    for number, (option, count) in enumerate(zip(view.options, tally.counts, strict=True), 1):
        share = _share(count, total)
        bar = " " + "█" * max(1, round(share * BAR_WIDTH)) if count else ""
        rows.append(f"{number}. " + bold(option) + f" – {count} ({round(share * 100)} %){bar}")
    rows.append(voters_line(lang, tally))
    leaders = tied(tally.counts)
    if len(leaders) > 1:
        rows.append(
            lang.tn(
                "Gleichstand: {options} mit je {n} Stimme.",
                "Gleichstand: {options} mit je {n} Stimmen.",
                tally.counts[leaders[0]],
                options=listed(lang, [view.options[i] for i in leaders]),
            )
        )
    if view.poll.multi and total:
        rows.append(lang.t("Mehrere Antworten möglich: Prozent der Abstimmenden."))
    if tally.not_counted:
        rows.append(
            lang.tn(
                "{n} Stimme kam von außerhalb der AG und zählt nicht.",
                "{n} Stimmen kamen von außerhalb der AG und zählen nicht.",
                tally.not_counted,
            )
        )
    if view.poll.anonymous:
        rows.append(lang.t("Anonym: niemand sieht, wer wie abgestimmt hat."))
    if view.is_open and view.closes_at is not None:
        rows.append(
            lang.t("Läuft bis {when}.", when=deadline_short(services, view.closes_at, lang))
        )
    elif not view.is_open and not final:
        rows.append(lang.t("Die Umfrage ist beendet."))
    if not_voted is not None:
        rows.append(not_voted)
    return lines(*rows)


async def chart_png(lang: Lang, view: PollView, tally: Tally) -> bytes:
    footer = voters_line(lang, tally).plain
    return await asyncio.to_thread(
        bar_chart, view.poll.question, view.options, tally.counts, footer, total=tally.voters
    )


async def send_chart(
    transport: Transport,
    chat: ChatRef,
    lang: Lang,
    view: PollView,
    tally: Tally,
    *,
    key: str | None = None,
) -> None:
    """The chart as a picture, where the network shows files; nothing otherwise."""
    if not transport.capabilities.files or tally.voters == 0:
        return
    png = await chart_png(lang, view, tally)
    sender = transport
    await sender.send_file(chat, f"umfrage-{view.short_id}.png", png, "image/png", key=key)
