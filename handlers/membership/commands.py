"""Joining, leaving and looking at AGs: what every member does."""

from __future__ import annotations

from bot import commands as c
from bot.commands import rights
from bot.commands.convert import convert_ags
from bot.context import Context
from bot.i18n import N_
from bot.rich import Rich, bold, code, join, lines
from handlers.access.commands import offer_ways
from handlers.access.leaving import remove_from_chats
from handlers.membership import service
from handlers.membership.render import ag_block, ag_title
from handlers.membership.requests import ask_to_join, tell_leads
from handlers.people import person_label, role_label
from storage.models import Ag

feature = c.Feature("membership")


@feature.command(
    "join",
    help=N_("Einer AG beitreten"),
    params=(c.Param("ag", c.Kind.AG, N_("AG"), from_chat=True, convert=convert_ags),),
    needs_person=True,
    examples=("join ag2", "join ag2 ag3", "join transparenz"),
    aliases=("beitreten", "anmelden"),
)
async def join_ag(ctx: Context, ag: Ag | list[Ag]) -> None:
    ags = ag if isinstance(ag, list) else [ag]
    answers: list[Rich] = []
    asked: list[tuple[Ag, int]] = []
    joined: list[Ag] = []
    for each in ags:
        if rights.may_join_directly(ctx, each):
            answer, new = await _join_one(ctx, each)
            answers.append(answer)
            if new:
                joined.append(each)
            continue
        answer, person_id = await ask_to_join(ctx, each)
        answers.append(answer)
        if person_id is not None:
            asked.append((each, person_id))
    await ctx.reply(lines(*answers))
    for each in joined:  # the way into the AG's chats, after the welcome
        await offer_ways(ctx, each)
    for each, person_id in asked:  # the leads hear of it after the asker's answer
        await tell_leads(ctx, each, person_id)


async def _join_one(ctx: Context, ag: Ag) -> tuple[Rich, bool]:
    """One open AG of `/join`: joined (True), or already in it."""
    if await service.join(ctx, ag):
        return ctx.t(
            "Willkommen in der AG {ag}! Mit {my} siehst du deine AGs, mit {leave} trittst du wieder aus.",
            ag=ag_title(ag),
            my=code(ctx.cmd("my")),
            leave=code(ctx.cmd(f"leave {ag.slug}")),
        ), True
    return ctx.t("Du bist schon in der AG {ag}.", ag=ag_title(ag)), False


@feature.command(
    "leave",
    help=N_("Eine AG verlassen"),
    params=(c.ag(from_chat=True, archived=True),),
    needs_person=True,
    examples=("leave ag2",),
    aliases=("austreten", "abmelden"),
)
async def leave_ag(ctx: Context, ag: Ag) -> None:
    result = await service.leave(ctx, ag)
    if result.withdrawn:
        await ctx.reply(ctx.t("Deine Anfrage für die AG {ag} ist zurückgezogen.", ag=ag_title(ag)))
        return
    if not result.left:
        await ctx.reply(ctx.t("Du bist nicht in der AG {ag}.", ag=ag_title(ag)))
        return
    message = ctx.t("Du hast die AG {ag} verlassen.", ag=ag_title(ag))
    if result.last_lead:
        message += " " + ctx.t(
            "Die AG hat jetzt keine Leitung mehr; ein Admin kann eine bestimmen."
        )
    removed = await remove_from_chats(ctx, ag, await ctx.ensure_person())
    if removed is not None:
        message += " " + removed
    await ctx.reply(message)


@feature.command("ags", help=N_("Alle AGs mit Beschreibung und Mitgliederzahl"), aliases=("list",))
async def list_ags(ctx: Context) -> None:
    summaries = await service.summaries(ctx)
    if not summaries:
        # Mostly a new installation: say where the first AGs come from and how to add one.
        await ctx.reply(
            ctx.t("Es gibt noch keine AGs.")
            + " "
            + ctx.t(
                "Beim ersten Start legt der Bot die AGs aus der Datei {file} an. Admins legen AGs mit {new} an, z. B. {example}.",
                file=code(str(ctx.services.settings.ags_file)),
                new=code(ctx.cmd("ag new")),
                example=code(ctx.cmd("ag new ag4 Energie -- Bürgerenergie im Revier")),
            )
        )
        return
    rows: list[Rich] = [bold(ctx.t("Die AGs des Bündnisses:"))]
    seen = await service.overview(ctx, [s.ag.id for s in summaries])
    for s in summaries:
        rows.extend(ag_block(ctx, s, seen[s.ag.id]))
    rows.append(
        ctx.t(
            "Beitreten mit {join}, z. B. {example}.",
            join=code(ctx.cmd("join <AG>")),
            example=code(ctx.cmd("join ag2")),
        )
    )
    await ctx.reply(lines(*rows))


@feature.command("my", help=N_("Meine AGs und meine Rolle darin"), aliases=("meine",))
async def my_ags(ctx: Context) -> None:
    memberships = await service.my_memberships(ctx)
    if not memberships:
        await ctx.reply(
            ctx.t(
                "Du bist noch in keiner AG. {ags} zeigt alle AGs, {join} tritt einer bei.",
                ags=code(ctx.cmd("ags")),
                join=code(ctx.cmd("join ag2")),
            )
        )
        return
    rows: list[Rich] = [bold(ctx.t("Deine AGs:"))]
    for ag, role in memberships:
        suffix = " " + ctx.t("(archiviert)") if ag.archived else Rich()
        rows.append("• " + ag_title(ag) + " – " + role_label(ctx, role) + suffix)
    await ctx.reply(lines(*rows))


@feature.command(
    "members",
    help=N_("Die Mitglieder einer AG (nur für ihre Mitglieder)"),
    params=(c.ag(from_chat=True),),
    right=c.Right.MEMBER,
    examples=("members ag2",),
    aliases=("mitglieder",),
)
async def members(ctx: Context, ag: Ag) -> None:
    rows = await service.members(ctx, ag)
    header = bold(ctx.tn("{n} Mitglied in {ag}:", "{n} Mitglieder in {ag}:", len(rows), ag=ag.name))
    entries = [
        "• " + person_label(row.accounts) + " – " + role_label(ctx, row.role) for row in rows
    ]
    # A group may hold people outside the AG: the list goes to the asker privately.
    await ctx.reply_private(lines(header, join(entries, "\n")) if entries else header)
