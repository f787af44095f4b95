"""The way in for the sender (after `/join`, and `/chats ag2` at any time) and `/ag info`,
the overview of an AG for its leads and the admins: settings, counts, and each linked
chat with its way in and the rights the bot lacks there."""

from __future__ import annotations

from bot import commands as c
from bot.admission import ChatRight
from bot.context import Context
from bot.core import DirectMessageUnavailable
from bot.i18n import N_
from bot.rich import Rich, bold, code, join, lines
from handlers.access.missing import right_name
from handlers.access.ways import chats_and_accounts, open_ways, render_ways
from handlers.membership.render import ag_title
from handlers.nudges.commands import setting_text as nudge_setting
from handlers.polls.render import network_name
from handlers.space import service as space_service
from storage import repo
from storage.access.gate import counts
from storage.access.problems import missing_rights
from storage.models import Ag, JoinPolicy, Strangers

feature = c.Feature("access")


async def offer_ways(ctx: Context, ag: Ag, *, asked: bool = False) -> None:
    """Open the ways into the AG's chats for the sender and tell them: in a private chat
    as the reply, from a group privately (never a link in the group). `asked`: the
    sender typed `/chats`, so "nothing to offer" is worth an answer."""
    person_id = await ctx.ensure_person()
    found = await open_ways(ctx.services, ag, person_id)
    text = render_ways(ctx.lang, ag, found)
    if text is None:
        if asked and not await ctx.services.ag_chats(ag.id):
            await ctx.reply(
                ctx.t(
                    "Die AG {ag} hat noch keinen Chat, den ich kenne. Ihre Leitung verbindet "
                    "einen mit {link} (in der Gruppe oder im Raum der AG).",
                    ag=ag_title(ag),
                    link=code(ctx.cmd(f"link {ag.slug}")),
                )
            )
        elif asked:
            await ctx.reply(await _nothing_to_offer(ctx, ag, person_id))
        return
    if ctx.message.is_direct:
        await ctx.reply(text)
        return
    try:
        await ctx.transport.send_direct(ctx.sender.as_account(), text)
    except DirectMessageUnavailable as exc:
        await ctx.reply(
            ctx.t(
                "Wie du in die Chats der AG {ag} kommst, sage ich dir nur privat. Öffne den privaten Chat mit mir ({start}) und schreib dort {chats}.",
                ag=ag_title(ag),
                start=exc.hint_url or ctx.cmd("start"),
                chats=code(ctx.cmd(f"chats {ag.slug}")),
            )
        )
        return
    if asked:
        await ctx.reply(ctx.t("Ich habe es dir privat geschickt."))
    else:  # after /join in a group: say where to look
        await ctx.reply(
            ctx.t(
                "Wie du in die Chats der AG {ag} kommst, habe ich dir privat geschickt.",
                ag=ag_title(ag),
            )
        )


async def _nothing_to_offer(ctx: Context, ag: Ag, person_id: int) -> Rich:
    """Either the person is in every chat, or the chats left are on networks where the bot
    knows no account of theirs (`/connect` brings one in)."""
    chats, accounts = await chats_and_accounts(ctx.services, ag, person_id)
    elsewhere = sorted({c.platform for c in chats} - {a.platform for a in accounts})
    if not elsewhere:
        return ctx.t(
            "In alle Chats der AG {ag}, die ich kenne, bist du schon drin.", ag=ag_title(ag)
        )
    return ctx.t(
        "In die Chats der AG {ag} auf {networks} bringe ich dich, sobald ich dein Konto dort "
        "kenne. Verbinde es mit diesem hier: {connect}",
        ag=ag_title(ag),
        networks=join([network_name(p) for p in elsewhere], ", "),
        connect=code(ctx.cmd("connect")),
    )


@feature.command(
    "chats",
    help=N_("Wie du in die Chats einer AG kommst (Einladungen, Links)"),
    params=(c.ag(from_chat=True),),
    right=c.Right.MEMBER,
    needs_person=True,
    examples=("chats ag2",),
    aliases=("zugang",),
)
async def chats(ctx: Context, ag: Ag) -> None:
    await offer_ways(ctx, ag, asked=True)


def _yes_no(ctx: Context, value: bool) -> Rich:
    return ctx.t("ja") if value else ctx.t("nein")


async def _space_line(ctx: Context) -> Rich | None:
    """The alliance's Matrix Space (where AG rooms go), only where Matrix runs."""
    if space_service.matrix(ctx) is None:
        return None
    ref, _ = await space_service.space_ref(ctx)
    if ref:
        return ctx.t("Matrix-Space des Bündnisses: {space}", space=code(ref))
    return ctx.t(
        "Matrix-Space des Bündnisses: noch keiner (festlegen mit {space})",
        space=code(ctx.cmd("space")),
    )


@feature.command(
    "ag info",
    help=N_("Alles über eine AG: Einstellungen, Mitglieder, Chats und fehlende Rechte"),
    params=(c.ag(from_chat=True, archived=True),),
    right=c.Right.LEAD,
    examples=("ag info ag2",),
)
async def ag_info(ctx: Context, ag: Ag) -> None:
    async with ctx.db.read() as session:
        numbers = await counts(session, ag.id)
        chat_rows = await repo.chats_of_ag(session, ag.id)
        problems = await missing_rights(session, [row.id for row in chat_rows])
    policy = ctx.t("auf Anfrage") if ag.join_policy == JoinPolicy.REQUEST.value else ctx.t("offen")
    strangers = (
        ctx.t("ablehnen")
        if ag.strangers == Strangers.DECLINE.value
        else ctx.t("den Admins überlassen")
    )
    rows: list[Rich] = [bold(ag.name) + " (" + code(ag.slug) + ")"]
    if ag.description:
        rows.append(Rich() + ag.description)
    rows += [
        ctx.t("Beitritt: {policy}", policy=policy),
        ctx.t("Beitrittsanfragen von Nicht-Mitgliedern: {choice}", choice=strangers),
        ctx.t(
            "Beim Austritt aus den Chats entfernen: {choice}", choice=_yes_no(ctx, ag.leave_removes)
        ),
        ctx.t(
            "Private Erinnerung an offene Umfragen: {setting}",
            setting=nudge_setting(ctx.lang, ag.nudge_minutes),
        ),
        ctx.t(
            "Mitglieder: {members}, davon Leitung: {leads}",
            members=numbers.members,
            leads=numbers.leads,
        ),
    ]
    space = await _space_line(ctx)
    if space is not None:
        rows.append(space)
    if not chat_rows:
        rows.append(
            ctx.t(
                "Noch kein Chat verbunden; das geht mit {link}.",
                link=code(ctx.cmd(f"link {ag.slug}")),
            )
        )
    else:
        rows.append(bold(ctx.t("Chats:")))
    for row in chat_rows:
        line = "• " + bold(row.title or row.external_id) + " (" + network_name(row.platform) + ")"
        if row.invite_link:
            line += " – " + ctx.t("Einladungslink: {link}", link=row.invite_link)
        lacking = problems.get(row.id, [])
        if lacking:
            names = join((right_name(ctx, ChatRight(r)) for r in lacking), ", ")
            line += " – " + ctx.t("mir fehlt: {rights}", rights=names)
        rows.append(line)
    await ctx.reply_private(lines(*rows))
