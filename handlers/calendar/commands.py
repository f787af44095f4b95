"""`/kalender` (`/calendar`): links to calendar feeds that stay current.

`/kalender` gives the person's own feed (the meetings of their AGs), `/kalender dabei`
switches it to the dates they said "Dabei" to and `/kalender alle` back (the same link);
`/kalender neu` revokes the link and gives a new one; `/kalender ag2` gives a lead the
AG's feed (`/kalender ag2 neu` renews it). The links are personal: typed in a group,
the answer goes to the private chat. Only a hash of a link is stored, so a link is
shown once; asked again, the bot says since when it exists and how to get a new one.
"""

from __future__ import annotations

from bot import commands as c
from bot.commands.convert import convert_ag
from bot.commands.rights import require
from bot.context import Context
from bot.i18n import N_
from bot.rich import Rich, code, lines
from bot.when_text import format_day
from handlers.calendar import service
from handlers.calendar.web import serve_feed

feature = c.Feature("calendar")
feature.route("GET", "/kalender/{token}.ics")(serve_feed)

NEW = ("neu", "new")
GOING = ("dabei", "going")
ALL = ("alle", "all")


@feature.command(
    "kalender",
    help=N_("Deine Treffen als Kalender-Abo, das aktuell bleibt"),
    params=(c.text("what", N_("dabei|alle|neu|AG"), optional=True),),
    needs_person=True,
    examples=("kalender", N_("kalender dabei"), N_("kalender neu"), "kalender ag2"),
    aliases=("calendar",),
)
async def kalender(ctx: Context, what: str | None = None) -> None:
    words = (what or "").lower().split()
    personal = not words or (len(words) == 1 and words[0] in NEW + GOING + ALL)
    if not personal and (len(words) > 2 or (len(words) == 2 and words[1] not in NEW)):
        await ctx.reply(_usage(ctx))
        return
    ag = None if personal else await convert_ag(ctx, words[0])
    if ag is not None:
        await require(ctx, c.Right.LEAD, ag)
    if ctx.services.settings.web is None:
        await ctx.reply(
            ctx.t(
                "Kalender-Abos sind auf diesem Bot nicht eingerichtet. Die Treffen einer AG "
                "als Datei: {ics}",
                ics=code(ctx.cmd("ics ag2")),
            )
        )
        return
    person_id = await ctx.ensure_person()
    if ag is None:
        word = words[0] if words else ""
        current = await service.choice(ctx.services, person_id) or service.ALL
        wanted = service.GOING if word in GOING else service.ALL if word in ALL else current
        given = await service.give(ctx.services, person_id, service.MINE, wanted, renew=word in NEW)
        renew = f"kalender {_words(ctx)[2]}"
        await _deliver(ctx, given, _answer(ctx, given, _mine(ctx, given.scope), renew=renew))
        return
    scope = service.ag_scope(ag.id)
    given = await service.give(ctx.services, person_id, (scope,), scope, renew=len(words) == 2)
    what_ag = ctx.t("die Treffen der AG {ag}", ag=ag.name)
    renew = f"kalender {ag.slug} {_words(ctx)[2]}"
    await _deliver(ctx, given, _answer(ctx, given, what_ag, renew=renew))


async def _deliver(ctx: Context, given: service.Given, answer: Rich) -> None:
    """Privately; a new link that could not be delivered is revoked at once, so the
    next `/kalender` does not speak of a link the person never got."""
    if not await ctx.reply_private(answer) and given.token is not None:
        await service.revoke(ctx.services, given.token)


def _words(ctx: Context) -> tuple[str, str, str]:
    """The words for "Dabei", "alle" and "neu" in the reader's language (both work)."""
    return (GOING[0], ALL[0], NEW[0]) if ctx.lang.code == "de" else (GOING[1], ALL[1], NEW[1])


def _mine(ctx: Context, scope: str) -> Rich:
    if scope == service.GOING:
        return ctx.t("nur die Treffen, zu denen du „Dabei“ gesagt hast")
    return ctx.t("die Treffen all deiner AGs")


def _answer(ctx: Context, given: service.Given, what: Rich, *, renew: str) -> Rich:
    if given.token is None:
        return lines(
            ctx.t(
                "Dein Kalender-Link besteht seit {day} und zeigt {what}. Ich habe ihn dir "
                "damals hier geschickt; er bleibt gültig.",
                day=format_day(
                    given.since.astimezone(ctx.services.settings.tz).date(), ctx.lang.code
                ),
                what=what,
            ),
            ctx.t(
                "Einen neuen Link (der alte geht dann nicht mehr): {cmd}", cmd=code(ctx.cmd(renew))
            ),
        )
    webcal, https = service.links(ctx.services, given.token)
    return lines(
        ctx.t("Dein Kalender-Abo zeigt {what}.", what=what),
        ctx.t("Zum Abonnieren: {url}", url=code(webcal)),
        ctx.t("Oder als Adresse: {url}", url=code(https)),
        "",
        ctx.t(
            "So geht es: Google Kalender: „Weitere Kalender“ → „Per URL“, die Adresse "
            "einfügen. Apple: den webcal-Link antippen (oder Ablage → Neues "
            "Kalenderabonnement). Thunderbird/Outlook: neuer Kalender „Im Netzwerk“ bzw. "
            "„Aus dem Internet“, die Adresse einfügen."
        ),
        ctx.t(
            "Der Link ist persönlich, gib ihn nicht weiter. Einen neuen (der alte geht "
            "dann nicht mehr): {cmd}",
            cmd=code(ctx.cmd(renew)),
        ),
    )


def _usage(ctx: Context) -> Rich:
    going, every, new = _words(ctx)
    return lines(
        ctx.t("So geht es:"),
        ctx.t("{cmd} – dein Kalender-Link", cmd=code(ctx.cmd("kalender"))),
        ctx.t(
            "{a} / {b} – nur Treffen mit „Dabei“ / alle Treffen deiner AGs",
            a=code(ctx.cmd(f"kalender {going}")),
            b=code(ctx.cmd(f"kalender {every}")),
        ),
        ctx.t(
            "{cmd} – ein neuer Link, der alte geht nicht mehr", cmd=code(ctx.cmd(f"kalender {new}"))
        ),
        ctx.t("{cmd} – Leitung: der Kalender der AG", cmd=code(ctx.cmd("kalender ag2"))),
    )
