"""AGs that take members on request ("auf Anfrage"): `/join` asks, the AG's leads answer
(`/requests`, `/approve`, `/decline`, or the buttons under `/requests` where the network
has them), and the person is told the outcome privately. Until then the person is no
member and sees nothing that is for members only. `/ag policy` switches an AG between
open (the default) and on request."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands as c
from bot import rights
from bot.context import Context, Services, UserError
from bot.core import Button
from bot.i18n import N_, Lang
from bot.outbox import Audience
from bot.rich import Rich, bold, code, join, lines
from handlers.people import account_ref, person_label
from storage import join_repo, repo
from storage.models import Account, Ag, JoinPolicy

feature = c.Feature("join_requests")

log = logging.getLogger(__name__)

BUTTON_MESSAGES_MAX = 10

_WORDS = {
    "open": JoinPolicy.OPEN, "offen": JoinPolicy.OPEN, "frei": JoinPolicy.OPEN,
    "request": JoinPolicy.REQUEST, "anfrage": JoinPolicy.REQUEST,
    "auf-anfrage": JoinPolicy.REQUEST, "approval": JoinPolicy.REQUEST,
}  # fmt: skip


def on_request(ag: Ag) -> bool:
    return ag.join_policy == JoinPolicy.REQUEST.value


def _title(ag: Ag) -> Rich:
    return bold(ag.name) + " (" + code(ag.slug) + ")"


def handle(accounts: list[Account]) -> str:
    """How a lead names the person in `/approve`: `@username`, else the account id."""
    if not accounts:
        return "?"
    first = accounts[0]
    return f"@{first.username}" if first.username else first.external_id


async def ask_to_join(ctx: Context, ag: Ag) -> None:
    """`/join` of an AG on request: record the request and tell its leads."""
    person_id = await ctx.ensure_person()
    now = ctx.services.now()

    async def work(session: AsyncSession) -> bool | None:
        if await repo.membership(session, person_id, ag.id) is not None:
            return None
        return await join_repo.ask(session, person_id, ag.id, now)

    asked = await ctx.db.run(work)
    if asked is None:
        await ctx.reply(ctx.t("Du bist schon in der AG {ag}.", ag=_title(ag)))
        return
    if not asked:
        await ctx.reply(
            ctx.t("Deine Anfrage für die AG {ag} wartet schon auf die Leitung.", ag=_title(ag))
        )
        return
    await ctx.reply(
        ctx.t(
            "Die AG {ag} nimmt Mitglieder auf Anfrage auf. Ich habe die Leitung gefragt und "
            "sage dir privat Bescheid, sobald sie entschieden hat. Bis dahin siehst du nichts, "
            "was nur für Mitglieder ist. Zurückziehen: {leave}",
            ag=_title(ag),
            leave=code(ctx.cmd(f"leave {ag.slug}")),
        )
    )
    async with ctx.db.read() as session:
        leads = await join_repo.leads_of(session, ag.id)
        who = handle(await repo.accounts_of(session, person_id))

    def notice(lang: Lang, prefix: str) -> Rich:
        return lang.t(
            "Neue Beitrittsanfrage für die AG {ag}: {who}. Annehmen: {approve} · "
            "Ablehnen: {decline} · Alle: {requests}",
            ag=_title(ag),
            who=who,
            approve=code(f"{prefix}approve {ag.slug} {who}"),
            decline=code(f"{prefix}decline {ag.slug} {who}"),
            requests=code(f"{prefix}requests"),
        )

    for lead in leads:
        await tell_person(ctx.services, lead, notice)


async def tell_person(
    services: Services, person_id: int, text_for: Callable[[Lang, str], Rich]
) -> bool:
    """Write to the person privately, on the first of their networks that lets me."""
    async with services.db.read() as session:
        accounts = await repo.accounts_of(session, person_id)
        language = await repo.person_language(session, person_id)
    return await services.outbox.send_first(
        [Audience.of_account(account_ref(account), language) for account in accounts],
        lambda reader: text_for(reader.lang, reader.prefix),
    )


async def _decide(ctx: Context, ag: Ag, person_id: int, accept: bool) -> Rich:
    """Answer a request: the person becomes a member (or not) and is told privately."""

    async def work(session: AsyncSession) -> tuple[bool, list[Account]]:
        answered = await join_repo.withdraw(session, person_id, ag.id)
        if answered and accept:
            await repo.join(session, person_id, ag.id)
        return answered, await repo.accounts_of(session, person_id)

    answered, accounts = await ctx.db.run(work)
    who = person_label(accounts)
    if not answered:
        return ctx.t("Diese Anfrage ist schon beantwortet.")

    def outcome(lang: Lang, prefix: str) -> Rich:
        if accept:
            return lang.t(
                "Die Leitung der AG {ag} hat deine Anfrage angenommen. Willkommen! {my} zeigt deine AGs.",
                ag=_title(ag),
                my=code(f"{prefix}my"),
            )
        return lang.t("Die Leitung der AG {ag} hat deine Anfrage abgelehnt.", ag=_title(ag))

    told = await tell_person(ctx.services, person_id, outcome)
    if accept:
        message = ctx.t("{who} ist jetzt Mitglied der AG {ag}.", who=who, ag=_title(ag))
    else:
        message = ctx.t(
            "Die Anfrage von {who} für die AG {ag} ist abgelehnt.", who=who, ag=_title(ag)
        )
    if not told:
        message += " " + ctx.t("Privat konnte ich es {who} nicht sagen.", who=who)
    return message


async def _find(ctx: Context, ag: Ag, raw: str) -> int:
    """The person of a waiting request, named by @username, account id or name."""
    wanted = raw.strip().lstrip("@").lower()
    mentioned = {m.id.lower() for m in ctx.message.mentions}
    async with ctx.db.read() as session:
        waiting = await join_repo.pending(session, [ag.id])
    hits = []
    for request in waiting:
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
            ag=_title(ag),
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


@feature.button("join")
async def answer_button(ctx: Context, data: str) -> str | None:
    """`join:<AG id>:<person id>:yes|no`, under a request that `/requests` listed."""
    parts = data.split(":")
    if len(parts) != 4 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    if parts[3] not in ("yes", "no"):
        return None
    ags = {ag.id: ag for ag in await ctx.services.ags.all()}
    ag = ags.get(int(parts[1]))
    if ag is None:
        return None
    await rights.require(ctx, c.Right.LEAD, ag)
    return (await _decide(ctx, ag, int(parts[2]), parts[3] == "yes")).plain[:190]


@feature.command(
    "requests",
    help=N_("Offene Beitrittsanfragen der AGs, die du leitest"),
    right=c.Right.LEAD,
    needs_person=True,
    examples=("requests",),
    aliases=("anfragen",),
)
async def requests(ctx: Context) -> None:
    if ctx.is_admin:
        ag_ids = [ag.id for ag in await ctx.services.ags.all()]
    else:
        async with ctx.db.read() as session:
            ag_ids = await join_repo.led_by(session, await ctx.ensure_person())
        if not ag_ids:
            raise UserError(ctx.t("Das dürfen nur die Leitungen der AGs und Admins."))
    async with ctx.db.read() as session:
        waiting = await join_repo.pending(session, ag_ids)
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
                    ag=_title(request.ag),
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
            + _title(request.ag)
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


@feature.command(
    "ag policy",
    help=N_("Wie man einer AG beitritt: offen oder auf Anfrage"),
    params=(c.ag(), c.word("policy", N_("offen|anfrage"), optional=True)),
    right=c.Right.LEAD,
    examples=("ag policy ag2 anfrage", "ag policy ag2 offen"),
)
async def policy(ctx: Context, ag: Ag, policy: str | None) -> None:
    if policy is None:
        await ctx.reply(_describe(ctx, ag, on_request(ag)))
        return
    chosen = _WORDS.get(policy.lower())
    if chosen is None:
        raise UserError(
            ctx.t(
                "So geht's: {usage}",
                usage=code(ctx.cmd(f"ag policy {ag.slug} offen|anfrage")),
            )
        )
    await ctx.db.run(lambda session: join_repo.set_policy(session, ag.id, chosen))
    await ctx.reply(_describe(ctx, ag, chosen is JoinPolicy.REQUEST))


def _describe(ctx: Context, ag: Ag, request: bool) -> Rich:
    if request:
        return ctx.t(
            "Die AG {ag} nimmt Mitglieder auf Anfrage auf: {join} fragt die Leitung, die mit "
            "{requests} über jede Anfrage entscheidet.",
            ag=_title(ag),
            join=code(ctx.cmd(f"join {ag.slug}")),
            requests=code(ctx.cmd("requests")),
        )
    return ctx.t(
        "Die AG {ag} ist offen: wer {join} schreibt, ist sofort Mitglied und sieht die "
        "Mitgliederliste, ihre Visitenkarten und wer noch nicht abgestimmt hat.",
        ag=_title(ag),
        join=code(ctx.cmd(f"join {ag.slug}")),
    )
