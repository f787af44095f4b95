"""`/seite` (`/page`): a personal link to a page, sent privately.

`/seite k3f7` gives the page of a poll's result (members of its AG, as `/results`) or of a
Terminumfrage's grid, where the person can also answer (members); `/seite ag2` gives the
AG's overview (its leads, admins). A link works for 30 days, for its owner's rights as
they are at each visit; asking again gives a new link and the old one stops working;
`/seite aus` stops all of one's page links.
"""

from __future__ import annotations

from bot import commands as c
from bot.commands.convert import convert_ag
from bot.commands.rights import require
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, code, lines
from bot.when_text import format_day
from handlers.pages import links
from handlers.pages.web import answer, serve_css, serve_page
from storage.datepoll import polls as datepolls
from storage.polls.polls import looks_like_short_id
from storage.polls.view import view_by_short_id
from storage.repo import Session
from storage.web import tokens

feature = c.Feature("pages")
feature.route("GET", "/seite/{token}")(serve_page)
feature.route("POST", "/seite/{token}")(answer)
feature.route("GET", "/seite.css")(serve_css)

OFF = ("aus", "off")


@feature.command(
    "seite",
    help=N_("Eine Umfrage, Terminumfrage oder AG als Web-Seite (Link privat)"),
    params=(c.word("what", N_("Umfrage|Terminumfrage|AG|aus"), optional=True),),
    needs_person=True,
    examples=("seite k3f7", "seite ag2", N_("seite aus")),
    aliases=("page",),
)
async def seite(ctx: Context, what: str | None = None) -> None:
    if not what:
        await ctx.reply(_usage(ctx))
        return
    person_id = await ctx.ensure_person()
    if what.lower() in OFF:
        n = await links.revoke_all(ctx.services, person_id)
        await ctx.reply(ctx.tn("{n} Seiten-Link gesperrt.", "{n} Seiten-Links gesperrt.", n))
        return
    scope, shown = await _scope(ctx, what)  # the rights first, as for /kalender
    if ctx.services.settings.web is None:
        await ctx.reply(ctx.t("Web-Seiten sind auf diesem Bot nicht eingerichtet."))
        return
    issued = await links.issue(ctx.services, person_id, scope)
    day = format_day(issued.expires_at.astimezone(ctx.services.settings.tz).date(), ctx.lang.code)
    message = lines(
        shown,
        code(links.url(ctx.services, issued.token)),
        ctx.t(
            "Der Link ist persönlich, gib ihn nicht weiter. Er gilt bis {day}; {cmd} gibt "
            "einen neuen (der alte geht dann nicht mehr), {off} sperrt alle.",
            day=day,
            cmd=code(ctx.cmd(f"seite {what.lower()}")),
            off=code(ctx.cmd(f"seite {_off(ctx)}")),
        ),
    )
    if not await ctx.reply_private(message):

        async def undo(session: Session) -> None:
            await tokens.revoke(session, person_id, links.PAGE, (scope,), ctx.services.now())

        await ctx.db.run(undo)


async def _scope(ctx: Context, what: str) -> tuple[str, Rich]:
    """What the word names, after the same rights check as its chat command."""
    typed = what.strip().lower()
    if looks_like_short_id(typed):
        async with ctx.db.read() as session:
            view = await view_by_short_id(session, typed)
            datepoll = None if view else await datepolls.by_short_id(session, typed)
        if view is not None:
            if view.ag is not None:
                await require(ctx, c.Right.MEMBER, view.ag)
            return f"poll:{view.poll.id}", ctx.t("Das Ergebnis der Umfrage {id}:", id=code(typed))
        if datepoll is not None:
            ags = {ag.id: ag for ag in await ctx.services.ags.all(include_archived=True)}
            if datepoll.ag_id in ags:
                await require(ctx, c.Right.MEMBER, ags[datepoll.ag_id])
                return f"datepoll:{datepoll.id}", ctx.t(
                    "Die Terminumfrage {id} als Tabelle; dort kannst du auch antworten:",
                    id=code(typed),
                )
    try:
        ag = await convert_ag(ctx, what)
    except UserError:
        raise UserError(
            ctx.t(
                "Eine Umfrage, Terminumfrage oder AG {what} kenne ich nicht.",
                what=code(what[:20]),
            )
        ) from None
    await require(ctx, c.Right.LEAD, ag)
    return f"ag:{ag.id}", ctx.t("Die Übersicht der AG {ag} (für die Leitung):", ag=ag.name)


def _usage(ctx: Context) -> Rich:
    return lines(
        ctx.t("So geht es:"),
        ctx.t(
            "{cmd} – das Ergebnis einer Umfrage oder die Tabelle einer Terminumfrage",
            cmd=code(ctx.cmd("seite k3f7")),
        ),
        ctx.t("{cmd} – Leitung: die Übersicht der AG", cmd=code(ctx.cmd("seite ag2"))),
        ctx.t("{cmd} – alle deine Seiten-Links sperren", cmd=code(ctx.cmd(f"seite {_off(ctx)}"))),
    )


def _off(ctx: Context) -> str:
    """The word for "off" in the reader's language (both work)."""
    return OFF[0] if ctx.lang.code == "de" else OFF[1]
