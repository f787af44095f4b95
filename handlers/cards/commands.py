"""Digital business cards: who is who in the alliance, shown only as far as the owner allows.

`/card` shows and edits one's own card, `/card @someone` shows another's, `/cards ag2`
lists an AG's cards to its members, `/find klima` searches every field of the cards one
may see. Cards are sent privately: a group may hold people who
are not entitled to see them.
"""

from __future__ import annotations

from bot import commands as c
from bot.commands import rights
from bot.commands.convert import convert_user, normalize
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, bold, code, join, lines
from handlers.cards import service
from handlers.cards.fields import (
    LIST_FIELDS,
    TEXT_FIELDS,
    VISIBILITY_VALUES,
    VISIBILITY_WORDS,
    choices,
    clean,
    field_meant,
    pick,
)
from handlers.cards.render import edit_help, numbered, render_card, visibility_label
from handlers.people import person_label
from storage.cards import join_list
from storage.models import Ag

feature = c.Feature("cards")


@feature.command(
    "card",
    help=N_("Deine Visitenkarte zeigen und bearbeiten, oder die Karte einer Person ansehen"),
    params=(c.text("what", N_("Feld Wert | @Person"), optional=True),),
    needs_person=True,
    examples=("card", N_("card org Kulturverein Musterstadt e.V."), "card @anna"),
    aliases=("karte", "visitenkarte"),
)
async def card(ctx: Context, what: str | None) -> None:
    person_id = await ctx.ensure_person()
    if not what or not what.strip():
        await show_own(ctx, person_id)
        return
    word, *rest = what.strip().split(None, 1)
    word = word.rstrip(":") or word  # `Kontakt: 0341 1234`, as on a business card
    key = word.lower()
    value = rest[0].strip() if rest else ""
    if key in TEXT_FIELDS:
        await set_text(ctx, person_id, *TEXT_FIELDS[key], value)
    elif key in LIST_FIELDS:
        await set_list(ctx, person_id, LIST_FIELDS[key], value)
    elif key in VISIBILITY_WORDS:
        await set_visibility(ctx, person_id, value)
    elif word.startswith("@") or ctx.message.mentions:
        await show_other(ctx, what.strip())
    elif meant := field_meant(key, english=ctx.lang.code == "en"):
        typed = " ".join(clean(f"{meant} {value}").split())[:120]
        raise UserError(
            ctx.t("Das Feld „{field}“ kenne ich nicht.", field=clean(word)[:40])
            + " "
            + ctx.t("Meintest du {cmd}?", cmd=code(ctx.cmd(f"card {typed}")))
        )
    else:
        raise UserError(
            ctx.t("Das Feld „{field}“ kenne ich nicht.", field=clean(word)[:40])
            + "\n"
            + edit_help(ctx)
        )


async def show_own(ctx: Context, person_id: int) -> None:
    mine, accounts = await service.card_with_accounts(ctx, person_id)
    if mine is None:
        head: Rich = ctx.t("Du hast noch keine Visitenkarte.")
    else:
        head = lines(
            render_card(ctx, mine, accounts),
            ctx.t("Sichtbar für: {who}", who=visibility_label(ctx, mine.visibility)),
        )
    await ctx.reply_private(lines(head, "", edit_help(ctx)))


async def set_text(ctx: Context, person_id: int, column: str, limit: int, raw: str) -> None:
    if not raw:
        raise UserError(
            ctx.t(
                "Da fehlt der Text, z. B. {example}. Mit {clear} leerst du das Feld.",
                example=code(ctx.cmd(f"card {column} ...")),
                clear=code(ctx.cmd(f"card {column} -")),
            )
        )
    value = "" if raw == "-" else clean(raw, multiline=column == "about")
    if len(value) > limit:
        raise UserError(
            ctx.t(
                "Das ist zu lang: höchstens {limit} Zeichen, du hast {n} geschrieben.",
                limit=limit,
                n=len(value),
            )
        )
    await service.save(ctx, person_id, **{column: value})
    await ctx.reply(
        ctx.t("Gespeichert. {show} zeigt deine Visitenkarte.", show=code(ctx.cmd("card")))
    )


async def set_list(ctx: Context, person_id: int, column: str, raw: str) -> None:
    options = await choices(ctx, column)
    if not raw:
        intro = (
            ctx.t(
                "Wo bist du aktiv? Wähle eine oder mehrere Nummern, z. B. {example}:",
                example=code(ctx.cmd("card region 1, 3")),
            )
            if column == "regions"
            else ctx.t(
                "Welche Themen? Wähle eine oder mehrere Nummern, z. B. {example}:",
                example=code(ctx.cmd("card topics 2, 5")),
            )
        )
        await ctx.reply(lines(intro, numbered(options)))
        return
    picked = [] if raw == "-" else pick(ctx, raw, options)
    value = join_list(picked)
    await service.save(ctx, person_id, **{column: value})
    await ctx.reply(ctx.t("Gespeichert: {items}", items=", ".join(picked) or "–"))


async def set_visibility(ctx: Context, person_id: int, raw: str) -> None:
    chosen = VISIBILITY_VALUES.get(raw.lower())
    if chosen is None:
        raise UserError(
            ctx.t(
                "Wähle {ag} (nur Menschen, die mit dir in einer AG sind) oder {alliance} (alle Mitglieder des Bündnisses).",
                ag=code(ctx.cmd("card visibility ag")),
                alliance=code(ctx.cmd("card visibility alliance")),
            )
        )
    await service.save(ctx, person_id, visibility=chosen.value)
    await ctx.reply(
        ctx.t("Deine Visitenkarte sehen jetzt: {who}.", who=visibility_label(ctx, chosen.value))
    )


async def show_other(ctx: Context, raw: str) -> None:
    account = await convert_user(ctx, raw)
    theirs, accounts = await service.card_with_accounts(ctx, account.person_id)
    if not await rights.may_see_card(ctx, account.person_id, theirs):
        raise UserError(
            ctx.t(
                "Diese Visitenkarte kann ich dir nicht zeigen. Visitenkarten sehen nur Menschen, "
                "die ihre Besitzer*innen dafür freigegeben haben."
            )
        )
    if theirs is None:
        await ctx.reply(ctx.t("{who} hat noch keine Visitenkarte.", who=person_label(accounts)))
        return
    await ctx.reply_private(render_card(ctx, theirs, accounts))


@feature.command(
    "cards",
    help=N_("Die Visitenkarten der Mitglieder einer AG (nur für ihre Mitglieder)"),
    params=(c.ag(from_chat=True),),
    right=c.Right.MEMBER,
    needs_person=True,
    examples=("cards ag2",),
    aliases=("karten",),
)
async def cards(ctx: Context, ag: Ag) -> None:
    await ctx.ensure_person()
    rows = await service.visible_in_ag(ctx, ag)
    if not rows:
        await ctx.reply(
            ctx.t(
                "In der AG {ag} hat noch niemand eine Visitenkarte, die du sehen kannst. "
                "Deine legst du mit {card} an.",
                ag=ag.name,
                card=code(ctx.cmd("card")),
            )
        )
        return
    header = bold(
        ctx.tn("{n} Visitenkarte in {ag}:", "{n} Visitenkarten in {ag}:", len(rows), ag=ag.name)
    )
    body = join([render_card(ctx, row.card, row.accounts) for row in rows], "\n\n")
    await ctx.reply_private(lines(header, "", body))


@feature.command(
    "find",
    help=N_("Menschen finden: sucht in allen Visitenkarten, die du sehen darfst"),
    params=(c.text("query", N_("Suchwort")),),
    needs_person=True,
    examples=("find klima", "find Nordsachsen"),
    aliases=("finde", "suche"),
)
async def find(ctx: Context, query: str) -> None:
    person_id = await ctx.ensure_person()
    wanted = normalize(clean(query))[:80]
    if len(wanted) < 2:
        raise UserError(
            ctx.t(
                "Bitte gib mindestens zwei Buchstaben an, z. B. {example}.",
                example=code(ctx.cmd("find klima")),
            )
        )
    hits = await service.search(ctx, person_id, wanted)
    if not hits:
        await ctx.reply(
            ctx.t(
                "Auf den Visitenkarten, die du sehen darfst, steht nirgends „{query}“.",
                query=wanted,
            )
        )
        return
    header = bold(
        ctx.tn("{n} Treffer für „{query}“:", "{n} Treffer für „{query}“:", len(hits), query=wanted)
    )
    body = join([render_card(ctx, row.card, row.accounts) for row in hits], "\n\n")
    await ctx.reply_private(lines(header, "", body))
