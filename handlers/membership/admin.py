"""Running the alliance: creating and editing AGs, their join policy, naming leads,
binding chats to AGs."""

from __future__ import annotations

import re

from bot import commands as c
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, code, mention
from handlers.membership import service
from handlers.membership.render import ag_title
from handlers.people import account_ref
from storage.models import (
    AG_DESCRIPTION_MAX,
    AG_NAME_MAX,
    AG_SLUG_MAX,
    Account,
    Ag,
    JoinPolicy,
    Role,
)
from storage.text import visible

feature = c.Feature("admin")
_DESCRIPTION = N_("beschreibung")  # own line: the extractor skips N_ nested in a ctx.t call

_WORDS = {
    "open": JoinPolicy.OPEN, "offen": JoinPolicy.OPEN, "frei": JoinPolicy.OPEN,
    "request": JoinPolicy.REQUEST, "anfrage": JoinPolicy.REQUEST,
    "auf-anfrage": JoinPolicy.REQUEST, "approval": JoinPolicy.REQUEST,
}  # fmt: skip

_SLUG = re.compile(rf"^[a-z][a-z0-9_-]{{1,{AG_SLUG_MAX - 1}}}$")


def _checked_name(ctx: Context, name: str) -> str:
    name = visible(name)
    if not name:
        raise UserError(ctx.t("Die AG braucht einen Namen."))
    if len(name) > AG_NAME_MAX:
        raise UserError(ctx.t("Der Name ist zu lang (höchstens {max} Zeichen).", max=AG_NAME_MAX))
    return name


def _checked_description(ctx: Context, text: str) -> str:
    text = visible(text)
    if len(text) > AG_DESCRIPTION_MAX:
        raise UserError(
            ctx.t("Die Beschreibung ist zu lang (höchstens {max} Zeichen).", max=AG_DESCRIPTION_MAX)
        )
    return text


@feature.command(
    "ag new",
    help=N_("Eine neue AG anlegen"),
    params=(c.text("spec", N_("Kürzel Name -- Beschreibung")),),
    right=c.Right.ADMIN,
    examples=(N_("ag new ag4 Energie -- Bürgerenergie im Revier"),),
)
async def ag_new(ctx: Context, spec: str) -> None:
    head, _, description = spec.partition("--")
    slug, _, name = head.strip().partition(" ")
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise UserError(
            ctx.t(
                "Das Kürzel „{slug}“ geht nicht: 2 bis {max} Zeichen, Kleinbuchstaben, Ziffern, - oder _, am Anfang ein Buchstabe (z. B. {example}).",
                slug=slug[:40],
                max=AG_SLUG_MAX,
                example=code("ag4"),
            )
        )
    name = _checked_name(ctx, name)
    description = _checked_description(ctx, description)

    ag = await service.create_ag(ctx, slug, name, description)
    if ag is None:
        raise UserError(ctx.t("Eine AG mit dem Kürzel {slug} gibt es schon.", slug=code(slug)))
    await ctx.reply(
        ctx.t(
            "AG {ag} angelegt. Verbinde einen Chat mit {link} und bestimme eine Leitung mit {lead}.",
            ag=ag_title(ag),
            link=code(ctx.cmd(f"link {slug}")),
            lead=code(ctx.cmd(f"lead {slug} @name")),
        )
    )


@feature.command(
    "ag edit",
    help=N_("Name oder Beschreibung einer AG ändern"),
    params=(
        c.ag(),
        c.word("field", N_("name|beschreibung")),
        c.text("value", N_("neuer Text")),
    ),
    right=c.Right.ADMIN,
    examples=(N_("ag edit ag2 beschreibung Macht Entscheidungen im Strukturwandel transparenter"),),
)
async def ag_edit(ctx: Context, ag: Ag, field: str, value: str) -> None:
    key = field.lower()
    if key in ("name",):
        new_name = _checked_name(ctx, value)
        updates: dict[str, object] = {"name": new_name}
    elif key in ("beschreibung", "description", "desc"):
        updates = {"description": _checked_description(ctx, value)}
    else:
        raise UserError(
            ctx.t(
                "Ändern kann ich {name} oder {description}.",
                name=code("name"),
                description=code(ctx.lang.gettext(_DESCRIPTION)),
            )
        )
    updated = await service.update_ag(ctx, ag, **updates)
    await ctx.reply(ctx.t("AG {ag} geändert.", ag=ag_title(updated)))


@feature.command(
    "ag archive",
    help=N_("Eine AG archivieren (Mitglieder und Chats bleiben erhalten)"),
    params=(c.ag(),),
    right=c.Right.ADMIN,
    examples=("ag archive ag3",),
)
async def ag_archive(ctx: Context, ag: Ag) -> None:
    await service.update_ag(ctx, ag, archived=True)
    await ctx.reply(
        ctx.t(
            "AG {ag} ist archiviert. Zurückholen mit {restore}.",
            ag=ag_title(ag),
            restore=code(ctx.cmd(f"ag restore {ag.slug}")),
        )
    )


@feature.command(
    "ag restore",
    help=N_("Eine archivierte AG zurückholen"),
    params=(c.ag(archived=True),),
    right=c.Right.ADMIN,
    examples=("ag restore ag3",),
)
async def ag_restore(ctx: Context, ag: Ag) -> None:
    await service.update_ag(ctx, ag, archived=False)
    await ctx.reply(ctx.t("AG {ag} ist wieder aktiv.", ag=ag_title(ag)))


@feature.command(
    "ag policy",
    help=N_("Wie man einer AG beitritt: offen oder auf Anfrage"),
    params=(c.ag(), c.word("policy", N_("offen|anfrage"), optional=True)),
    right=c.Right.LEAD,
    examples=(N_("ag policy ag2 anfrage"), N_("ag policy ag2 offen")),
)
async def policy(ctx: Context, ag: Ag, policy: str | None) -> None:
    if policy is None:
        await ctx.reply(_describe(ctx, ag, ag.join_policy == JoinPolicy.REQUEST.value))
        return
    chosen = _WORDS.get(policy.lower())
    if chosen is None:
        raise UserError(
            ctx.t(
                "So geht's: {usage}",
                usage=code(ctx.cmd(f"ag policy {ag.slug} " + ctx.lang.gettext("offen|anfrage"))),
            )
        )
    await service.set_policy(ctx, ag, chosen)
    await ctx.reply(_describe(ctx, ag, chosen is JoinPolicy.REQUEST))


def _describe(ctx: Context, ag: Ag, request: bool) -> Rich:
    if request:
        return ctx.t(
            "Die AG {ag} nimmt Mitglieder auf Anfrage auf: {join} fragt die Leitung, die mit "
            "{requests} über jede Anfrage entscheidet.",
            ag=ag_title(ag),
            join=code(ctx.cmd(f"join {ag.slug}")),
            requests=code(ctx.cmd("requests")),
        )
    return ctx.t(
        "Die AG {ag} ist offen: wer {join} schreibt, ist sofort Mitglied und sieht die "
        "Mitgliederliste, ihre Visitenkarten und wer noch nicht abgestimmt hat.",
        ag=ag_title(ag),
        join=code(ctx.cmd(f"join {ag.slug}")),
    )


@feature.command(
    "lead",
    help=N_("Jemanden zur Leitung einer AG machen"),
    params=(c.ag(), c.user()),
    right=c.Right.ADMIN,
    examples=("lead ag2 @anna",),
)
async def lead(ctx: Context, ag: Ag, user: Account) -> None:
    who = mention(account_ref(user))
    if await service.change_role(ctx, ag, user, Role.LEAD):
        await ctx.reply(ctx.t("{who} leitet jetzt die AG {ag}.", who=who, ag=ag_title(ag)))
    else:
        await ctx.reply(ctx.t("{who} leitet die AG {ag} schon.", who=who, ag=ag_title(ag)))


@feature.command(
    "unlead",
    help=N_("Jemandem die Leitung einer AG abnehmen (bleibt Mitglied)"),
    params=(c.ag(), c.user()),
    right=c.Right.ADMIN,
    examples=("unlead ag2 @anna",),
)
async def unlead(ctx: Context, ag: Ag, user: Account) -> None:
    who = mention(account_ref(user), notify=False)
    if await service.change_role(ctx, ag, user, Role.MEMBER):
        await ctx.reply(
            ctx.t(
                "{who} leitet die AG {ag} nicht mehr und bleibt Mitglied.", who=who, ag=ag_title(ag)
            )
        )
    else:
        await ctx.reply(ctx.t("{who} leitet die AG {ag} nicht.", who=who, ag=ag_title(ag)))


@feature.command(
    "link",
    help=N_("Diesen Chat mit einer AG verbinden"),
    params=(c.ag(),),
    right=c.Right.LEAD,
    where=c.Where.GROUP,
    examples=("link ag2",),
)
async def link(ctx: Context, ag: Ag) -> None:
    if await service.link(ctx, ag):
        await ctx.reply(
            ctx.t(
                "Dieser Chat gehört jetzt zur AG {ag}. Hier kann man mit {join} beitreten.",
                ag=ag_title(ag),
                join=code(ctx.cmd("join")),
            )
        )
    else:
        await ctx.reply(ctx.t("Dieser Chat gehört schon zur AG {ag}.", ag=ag_title(ag)))


@feature.command(
    "unlink",
    help=N_("Die Verbindung dieses Chats zu einer AG lösen"),
    params=(c.ag(from_chat=True, archived=True),),
    right=c.Right.LEAD,
    where=c.Where.GROUP,
    examples=("unlink ag2",),
)
async def unlink(ctx: Context, ag: Ag) -> None:
    if await service.unlink(ctx, ag):
        await ctx.reply(ctx.t("Dieser Chat gehört nicht mehr zur AG {ag}.", ag=ag_title(ag)))
    else:
        await ctx.reply(ctx.t("Dieser Chat war nicht mit der AG {ag} verbunden.", ag=ag_title(ag)))
