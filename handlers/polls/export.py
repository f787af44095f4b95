"""`/export`: a poll as CSV for the lead, privately. Named polls: one row per vote, the
same votes the result counts (a vote of someone who was forgotten after the poll closed
has no name). Anonymous polls: only the totals per option; there is nothing else to export.

Semicolons and a byte-order mark, so that a double click opens it correctly in the
spreadsheet programs German volunteers have (Excel, LibreOffice).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import commands as c
from bot.context import Context
from bot.i18n import N_
from bot.rich import code
from handlers.polls.render import network_name
from handlers.polls.service import poll_scope
from handlers.polls.views import get_view, tally_of
from storage.polls import ballots
from storage.polls.polls import utc
from storage.polls.view import PollView

feature = c.Feature("poll_export")


async def _named_rows(ctx: Context, view: PollView) -> list[list[str]]:
    async with ctx.db.read() as session:
        found = await ballots.named_ballots(session, view.poll.id)
    tz = ctx.services.settings.tz  # the alliance's clock, named in the header
    header = [
        ctx.t("Umfrage").plain,
        ctx.t("Name").plain,
        ctx.t("Netzwerk").plain,
        ctx.t("Konto").plain,
        ctx.t("Antwort-Nr.").plain,
        ctx.t("Antwort").plain,
        ctx.t("Zeit ({zone})", zone=tz.key).plain,
        ctx.t("Gezählt").plain,
    ]
    yes, no = ctx.t("ja").plain, ctx.t("nein").plain
    forgotten = ctx.t("(gelöscht)").plain
    rows = [header]
    for ballot in found:
        rows.append(
            [
                view.short_id,
                ballot.name if ballot.name is not None else forgotten,
                network_name(ballot.platform),
                ballot.account or "",
                ",".join(str(p + 1) for p in ballot.positions),
                " | ".join(view.options[p] for p in ballot.positions if p < len(view.options)),
                _local(ballot.cast_at, tz),
                yes if ballot.counted else no,
            ]
        )
    return rows


def _local(at: datetime | None, tz: ZoneInfo) -> str:
    """A vote's time as the alliance reads its clocks (stored in UTC)."""
    when = utc(at)
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if when else ""


async def _total_rows(ctx: Context, view: PollView) -> list[list[str]]:
    tally = await tally_of(ctx.services, view)
    rows = [
        [
            ctx.t("Umfrage").plain,
            ctx.t("Antwort-Nr.").plain,
            ctx.t("Antwort").plain,
            ctx.t("Stimmen").plain,
        ]
    ]
    for number, (option, count) in enumerate(zip(view.options, tally.counts, strict=True), 1):
        rows.append([view.short_id, str(number), option, str(count)])
    rows.append([view.short_id, "", ctx.t("Abstimmende").plain, str(tally.voters)])
    return rows


def to_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        # A cell starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow(["'" + v if v[:1] in ("=", "+", "-", "@") else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@feature.command(
    "export",
    help=N_("Eine Umfrage als CSV-Datei (privat an dich)"),
    params=(c.word("poll", N_("Umfrage"), convert=get_view),),
    right=c.Right.LEAD,
    scope=poll_scope(),
    needs_person=True,
    examples=("export k3f7",),
)
async def export(ctx: Context, poll: PollView) -> None:
    view = poll
    rows = await (_total_rows(ctx, view) if view.poll.anonymous else _named_rows(ctx, view))
    data = to_csv(rows)
    filename = f"umfrage-{view.short_id}.csv"
    if ctx.message.is_direct and ctx.transport.capabilities.files:
        await ctx.transport.send_file(
            ctx.chat,
            filename,
            data,
            "text/csv",
            ctx.t("Export der Umfrage {id}", id=code(view.short_id)),
        )
        return
    text = data.decode("utf-8").lstrip("\ufeff")
    await ctx.reply_private(
        ctx.t("Export der Umfrage {id}", id=code(view.short_id)) + "\n" + code(text)
    )
