"""AGs that take members on request ("auf Anfrage"): `/join` asks, the AG's leads answer
(`/requests`, `/approve`, `/decline`, or the buttons under `/requests` where the network
has them), and the person is told the outcome privately. Until then the person is no
member and sees nothing that is for members only. `/ag policy` (admin.py) switches an AG
between open (the default) and on request."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot import commands as c
from bot.commands import rights
from bot.context import Context, UserError
from bot.core import Button
from bot.i18n import N_, Lang
from bot.rich import Rich, bold, code, join, lines
from handlers.access.ways import offer_privately
from handlers.membership import service
from handlers.membership.render import ag_title, handle
from handlers.people import person_label
from storage.models import Ag

feature = c.Feature("join_requests")

log = logging.getLogger(__name__)

BUTTON_MESSAGES_MAX = 10


async def ask_to_join(ctx: Context, ag: Ag) -> tuple[Rich, int | None]:
    """`/join` of an AG on request: record the request. Returns the answer for the
    sender (one line of `/join`'s reply) and, for a new request, the person whose request
    `tell_leads` announces after that reply."""
    person_id, asked = await service.ask_to_join(ctx, ag)
    if asked is None:
        return ctx.t("Du bist schon in der AG {ag}.", ag=ag_title(ag)), None
    if not asked:
        wait = ctx.t("Deine Anfrage für die AG {ag} wartet schon auf die Leitung.", ag=ag_title(ag))
        return wait, None
    answer = ctx.t(
        "Die AG {ag} nimmt Mitglieder auf Anfrage auf. Ich habe die Leitung gefragt und "
        "sage dir privat Bescheid, sobald sie entschieden hat. Bis dahin siehst du nichts, "
        "was nur für Mitglieder ist. Zurückziehen: {leave}",
        ag=ag_title(ag),
        leave=code(ctx.cmd(f"leave {ag.slug}")),
    )
    return answer, person_id


async def tell_leads(ctx: Context, ag: Ag, person_id: int) -> None:
    """Tell the AG's leads privately about a new request."""
    leads, accounts = await service.leads_and_accounts(ctx, ag, person_id)
    who = handle(accounts)

    def notice(lang: Lang, prefix: str) -> Rich:
        return lang.t(
            "Neue Beitrittsanfrage für die AG {ag}: {who}. Annehmen: {approve} · "
            "Ablehnen: {decline} · Alle: {requests}",
            ag=ag_title(ag),
            who=who,
            approve=code(f"{prefix}approve {ag.slug} {who}"),
            decline=code(f"{prefix}decline {ag.slug} {who}"),
            requests=code(f"{prefix}requests"),
        )

    for lead in leads:
        await service.tell_person(ctx.services, lead, notice)


async def _decide(ctx: Context, ag: Ag, person_id: int, accept: bool) -> Rich:
    """Answer a request: the person becomes a member (or not) and is told privately."""
    answered, accounts = await service.answer(ctx, ag, person_id, accept)
    who = person_label(accounts)
    if not answered:
        return ctx.t("Diese Anfrage ist schon beantwortet.")

    def outcome(lang: Lang, prefix: str) -> Rich:
        if accept:
            return lang.t(
                "Die Leitung der AG {ag} hat deine Anfrage angenommen. Willkommen! {my} zeigt deine AGs.",
                ag=ag_title(ag),
                my=code(f"{prefix}my"),
            )
        return lang.t("Die Leitung der AG {ag} hat deine Anfrage abgelehnt.", ag=ag_title(ag))

    told = await service.tell_person(ctx.services, person_id, outcome)
    if accept:
        await offer_privately(ctx.services, ag, person_id)
        message = ctx.t("{who} ist jetzt Mitglied der AG {ag}.", who=who, ag=ag_title(ag))
    else:
        message = ctx.t(
            "Die Anfrage von {who} für die AG {ag} ist abgelehnt.", who=who, ag=ag_title(ag)
        )
    if not told:
        message += " " + ctx.t("Privat konnte ich es {who} nicht sagen.", who=who)
    return message


async def _find(ctx: Context, ag: Ag, raw: str) -> int:
    """The person of a waiting request, named by @username, account id or name."""
    wanted = raw.strip().lstrip("@").lower()
    mentioned = {m.id.lower() for m in ctx.message.mentions}
    hits = []
    for request in await service.pending(ctx, [ag]):
        names = set()
        for account in request.accounts:
            names |= {account.external_id, account.display_name, account.username or ""}
        names = {n.lstrip("@").lower() for n in names if n}
        if wanted in names or names & mentioned:
            hits.append(request.person_id)
    if len(hits) == 1:
        return hits[0]
    raise UserError(
        ctx.t(
            "Eine offene Anfrage von „{who}“ für die AG {ag} finde ich nicht. {requests} zeigt sie.",
            who=raw.strip()[:40],
            ag=ag_title(ag),
            requests=code(ctx.cmd("requests")),
        )
        if not hits
        else ctx.t(
            "Das passt auf mehrere Anfragen; schreib den Namen genau wie in {requests}.",
            requests=code(ctx.cmd("requests")),
        )
    )


@feature.command(
    "approve",
    help=N_("Eine Beitrittsanfrage annehmen (AG auf Anfrage)"),
    params=(c.ag(), c.text("who", N_("@Person"))),
    right=c.Right.LEAD,
    needs_person=True,
    examples=("approve ag2 @ben",),
    aliases=("annehmen",),
)
async def approve(ctx: Context, ag: Ag, who: str) -> None:
    await ctx.reply(await _decide(ctx, ag, await _find(ctx, ag, who), True))


@feature.command(
    "decline",
    help=N_("Eine Beitrittsanfrage ablehnen (AG auf Anfrage)"),
    params=(c.ag(), c.text("who", N_("@Person"))),
    right=c.Right.LEAD,
    needs_person=True,
    examples=("decline ag2 @ben",),
    aliases=("ablehnen",),
)
async def decline(ctx: Context, ag: Ag, who: str) -> None:
    await ctx.reply(await _decide(ctx, ag, await _find(ctx, ag, who), False))


def _parse_button(data: str) -> tuple[int, int, bool] | None:
    """`join:<AG id>:<person id>:yes|no` as (AG id, person id, accept); None if malformed."""
    parts = data.split(":")
    if len(parts) != 4 or not (parts[1].isdecimal() and parts[2].isdecimal()):
        return None
    if parts[3] not in ("yes", "no"):
        return None
    return int(parts[1]), int(parts[2]), parts[3] == "yes"


async def _button_ag(ctx: Context, data: str) -> Ag | None:
    parsed = _parse_button(data)
    if parsed is None:
        return None
    ags = {ag.id: ag for ag in await ctx.services.ags.all()}
    return ags.get(parsed[0])


async def _button_scope(ctx: Context, args: Mapping[str, Any]) -> object:
    """The AG the pressed request is for; a stale or malformed button needs no right
    (the handler ignores it)."""
    ag = await _button_ag(ctx, args["data"])
    return rights.OPEN if ag is None else ag


@feature.button("join", right=c.Right.LEAD, scope=_button_scope)
async def answer_button(ctx: Context, data: str) -> str | None:
    """`join:<AG id>:<person id>:yes|no`, under a request that `/requests` listed."""
    parsed = _parse_button(data)
    ag = await _button_ag(ctx, data)
    if parsed is None or ag is None:
        return None
    _, person_id, accept = parsed
    return (await _decide(ctx, ag, person_id, accept)).plain[:190]


@feature.command(
    "requests",
    help=N_("Offene Beitrittsanfragen der AGs, die du leitest"),
    right=c.Right.LEAD,
    scope=rights.any_ag(),
    needs_person=True,
    examples=("requests",),
    aliases=("anfragen",),
)
async def requests(ctx: Context) -> None:
    waiting = await service.pending(ctx, await service.requests_answerable(ctx))
    if not waiting:
        await ctx.reply(ctx.t("Keine offenen Beitrittsanfragen."))
        return
    # One message with buttons per request, in a private chat; a long queue as one list.
    buttons = ctx.message.is_direct and ctx.transport.capabilities.buttons
    if buttons and len(waiting) <= BUTTON_MESSAGES_MAX:
        for request in waiting:
            data = f"join:{request.ag.id}:{request.person_id}"
            await ctx.reply_with_buttons(
                ctx.t(
                    "Anfrage für die AG {ag}: {who}",
                    ag=ag_title(request.ag),
                    who=person_label(request.accounts),
                ),
                (
                    Button("✅ " + ctx.t("Annehmen").plain, f"{data}:yes", emoji="✅"),
                    Button("❌ " + ctx.t("Ablehnen").plain, f"{data}:no", emoji="❌"),
                ),
            )
        return
    rows: list[Rich] = [bold(ctx.t("Offene Beitrittsanfragen:"))]
    for request in waiting:
        who = handle(request.accounts)
        rows.append(
            "• "
            + ag_title(request.ag)
            + ": "
            + person_label(request.accounts)
            + " – "
            + join(
                [
                    code(ctx.cmd(f"approve {request.ag.slug} {who}")),
                    code(ctx.cmd(f"decline {request.ag.slug} {who}")),
                ],
                " · ",
            )
        )
    await ctx.reply_private(lines(*rows))
