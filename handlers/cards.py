"""Digital business cards: who is who in the alliance, shown only as far as the owner allows.

`/card` shows and edits one's own card, `/card @someone` shows another's, `/cards ag2`
lists an AG's cards to its members, `/find klima` searches topics and regions among the
people one shares an AG with. Cards are sent privately: a group may hold people who
are not entitled to see them.
"""

from __future__ import annotations

from bot import commands as c
from bot.context import Context, UserError
from bot.converters import convert_user, normalize
from bot.i18n import N_
from bot.rich import Rich, bold, code, italic, join, lines
from handlers.people import person_label
from handlers.survey_templates import SurveyError, load_survey
from storage import cards_repo, repo
from storage.card_models import (
    CARD_ABOUT_MAX,
    CARD_CONTACT_MAX,
    CARD_NAME_MAX,
    CARD_ORG_MAX,
    Card,
    Visibility,
)
from storage.models import Account, Ag
from storage.text import visible

feature = c.Feature("cards")

# The survey questions whose options cards choose from (../shared/DOMAIN.md).
REGION_QUESTION = 3
TOPIC_QUESTION = 5
# Used only when the survey file cannot be read.
FALLBACK_REGIONS = (
    "Leipzig (Stadt)",
    "Landkreis Leipzig",
    "Nordsachsen",
    "Halle (Saale)",
    "Saalekreis",
    "Burgenlandkreis",
    "Mansfeld-Südharz",
    "Anhalt-Bitterfeld",
    "Altenburger Land",
    "Überregional / anderswo",
)
FALLBACK_TOPICS = (
    "Dorf-/Stadt-/Regionalentwicklung",
    "Klima & Umwelt",
    "Demokratie, Partizipation & Engagement",
    "Kultur",
    "Bildung",
    "Soziales",
    "Wirtschaft & Arbeit",
    "Energie",
    "Mobilität",
    "Sonstiges",
)

# Field word (German and English) -> (column, limit; 0 for a choice from a list).
TEXT_FIELDS: dict[str, tuple[str, int]] = {
    "name": ("name", CARD_NAME_MAX),
    "org": ("org", CARD_ORG_MAX),
    "organisation": ("org", CARD_ORG_MAX),
    "about": ("about", CARD_ABOUT_MAX),
    "über": ("about", CARD_ABOUT_MAX),
    "ueber": ("about", CARD_ABOUT_MAX),
    "contact": ("contact", CARD_CONTACT_MAX),
    "kontakt": ("contact", CARD_CONTACT_MAX),
}
LIST_FIELDS = {
    "region": "regions",
    "regionen": "regions",
    "topics": "topics",
    "themen": "topics",
}
VISIBILITY_WORDS = {
    "visibility",
    "sichtbarkeit",
}
VISIBILITY_VALUES = {
    "ag": Visibility.AG,
    "alliance": Visibility.ALLIANCE,
    "bündnis": Visibility.ALLIANCE,
    "buendnis": Visibility.ALLIANCE,
}
LIST_ITEMS_MAX = 10
clean = visible  # control and format characters out (storage/text.py)


async def choices(ctx: Context, column: str) -> tuple[str, ...]:
    """The regions or topics a card may name, from the survey file."""
    wanted = REGION_QUESTION if column == "regions" else TOPIC_QUESTION
    try:
        questions = await load_survey(ctx.services.settings.survey_file)
    except (OSError, SurveyError):
        questions = []
    for question in questions:
        if question.id == wanted and question.options:
            return question.options
    return FALLBACK_REGIONS if column == "regions" else FALLBACK_TOPICS


def pick(ctx: Context, raw: str, options: tuple[str, ...]) -> list[str]:
    """Options by number (`1, 3`) or by name or the start of a name (`Nordsachsen`, `klima`)."""
    picked: list[str] = []
    for part in raw.replace(";", ",").split(","):
        wanted = normalize(clean(part))
        if not wanted:
            continue
        hit: str | None = None
        if wanted.isdigit() and 1 <= int(wanted) <= len(options):
            hit = options[int(wanted) - 1]
        else:
            exact = [o for o in options if normalize(o) == wanted]
            starts = [o for o in options if normalize(o).startswith(wanted)]
            inside = [o for o in options if wanted in normalize(o)]
            for found in (exact, starts, inside):
                if len(found) == 1:
                    hit = found[0]
                    break
        if hit is None:
            raise UserError(
                ctx.t(
                    "„{value}“ steht nicht in der Liste. Wähle Nummern oder Namen daraus:",
                    value=clean(part)[:60],
                )
                + "\n"
                + numbered(options)
            )
        if hit not in picked:
            picked.append(hit)
    return picked[:LIST_ITEMS_MAX]


def numbered(options: tuple[str, ...]) -> Rich:
    return lines(*[f"{i}. {option}" for i, option in enumerate(options, 1)])


def render_card(ctx: Context, card: Card, accounts: list[Account]) -> Rich:
    who = bold(card.name) if card.name else person_label(accounts)
    rows: list[Rich | str] = [ctx.t("Visitenkarte von {who}", who=who)]
    fields: list[tuple[Rich, str]] = [
        (ctx.t("Organisation"), card.org),
        (ctx.t("Region"), ", ".join(cards_repo.split_list(card.regions))),
        (ctx.t("Themen"), ", ".join(cards_repo.split_list(card.topics))),
        (ctx.t("Kontakt"), card.contact),
    ]
    for label, value in fields:
        if value:
            rows.append(italic(label) + ": " + value)
    if card.about:
        rows.append(italic(ctx.t("Über mich")) + ":")
        rows.append(card.about)
    return lines(*rows)


def visibility_label(ctx: Context, visibility: str) -> Rich:
    if visibility == Visibility.ALLIANCE.value:
        return ctx.t("alle Mitglieder des Bündnisses und die Admins")
    return ctx.t("Menschen, die mit dir in einer AG sind")


def edit_help(ctx: Context) -> Rich:
    return lines(
        bold(ctx.t("So bearbeitest du deine Visitenkarte:")),
        "• " + code(ctx.cmd("card name Anna Beispiel")),
        "• " + code(ctx.cmd("card org Kulturverein Musterstadt e.V.")),
        "• "
        + code(ctx.cmd("card region"))
        + " – "
        + ctx.t(
            "zeigt die Landkreise, dann z. B. {example}", example=code(ctx.cmd("card region 3"))
        ),
        "• "
        + code(ctx.cmd("card topics"))
        + " – "
        + ctx.t(
            "zeigt die Themen, dann z. B. {example}", example=code(ctx.cmd("card topics 1, 2"))
        ),
        "• " + code(ctx.cmd("card about ...")) + " – " + ctx.t("ein kurzer Text über dich"),
        "• " + code(ctx.cmd("card contact ...")) + " – " + ctx.t("wie man dich erreicht"),
        "• " + code(ctx.cmd("card visibility ag|alliance")) + " – " + ctx.t("wer die Karte sieht"),
        ctx.t("Ein Feld leeren: {example}", example=code(ctx.cmd("card about -"))),
    )


@feature.command(
    "card",
    help=N_("Deine Visitenkarte zeigen und bearbeiten, oder die Karte einer Person ansehen"),
    params=(c.text("what", N_("Feld Wert | @Person"), optional=True),),
    needs_person=True,
    examples=("card", "card org Kulturverein Musterstadt e.V.", "card @anna"),
    aliases=("karte", "visitenkarte"),
)
async def card(ctx: Context, what: str | None) -> None:
    person_id = await ctx.ensure_person()
    if not what or not what.strip():
        await show_own(ctx, person_id)
        return
    word, *rest = what.strip().split(None, 1)
    key = word.lower()
    value = rest[0].strip() if rest else ""
    if key in TEXT_FIELDS:
        await set_text(ctx, person_id, *TEXT_FIELDS[key], value)
    elif key in LIST_FIELDS:
        await set_list(ctx, person_id, LIST_FIELDS[key], value)
    elif key in VISIBILITY_WORDS:
        await set_visibility(ctx, person_id, value)
    elif word.startswith("@") or ctx.message.mentions:
        await show_other(ctx, person_id, what.strip())
    else:
        raise UserError(
            ctx.t("Das Feld „{field}“ kenne ich nicht.", field=clean(word)[:40])
            + "\n"
            + edit_help(ctx)
        )


async def show_own(ctx: Context, person_id: int) -> None:
    async with ctx.db.read() as session:
        mine = await cards_repo.card_of(session, person_id)
        accounts = await repo.accounts_of(session, person_id)
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
    await ctx.db.run(lambda s: cards_repo.update_card(s, person_id, **{column: value}))
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
    value = cards_repo.join_list(picked)
    await ctx.db.run(lambda s: cards_repo.update_card(s, person_id, **{column: value}))
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
    await ctx.db.run(lambda s: cards_repo.update_card(s, person_id, visibility=chosen.value))
    await ctx.reply(
        ctx.t("Deine Visitenkarte sehen jetzt: {who}.", who=visibility_label(ctx, chosen.value))
    )


async def show_other(ctx: Context, person_id: int, raw: str) -> None:
    account = await convert_user(ctx, raw)
    async with ctx.db.read() as session:
        theirs = await cards_repo.card_of(session, account.person_id)
        accounts = await repo.accounts_of(session, account.person_id)
        if theirs is None:
            allowed = account.person_id == person_id or await cards_repo.shares_ag(
                session, person_id, account.person_id
            )
        else:
            allowed = await cards_repo.may_see(
                session, theirs, person_id, viewer_is_admin=ctx.is_admin
            )
    if not allowed:
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
    person_id = await ctx.ensure_person()
    async with ctx.db.read() as session:
        rows = [
            row
            for row in await cards_repo.cards_in_ag(session, ag.id)
            if await cards_repo.may_see(session, row.card, person_id, viewer_is_admin=ctx.is_admin)
        ]
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
    help=N_("Menschen aus deinen AGs nach Thema oder Region finden"),
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
    async with ctx.db.read() as session:
        rows = await cards_repo.cards_sharing_ag(session, person_id)
    hits = [
        row
        for row in rows
        if wanted in normalize(row.card.topics) or wanted in normalize(row.card.regions)
    ]
    if not hits:
        await ctx.reply(
            ctx.t(
                "Unter den Menschen aus deinen AGs hat niemand „{query}“ als Thema oder Region angegeben.",
                query=wanted,
            )
        )
        return
    header = bold(
        ctx.tn("{n} Treffer für „{query}“:", "{n} Treffer für „{query}“:", len(hits), query=wanted)
    )
    body = join([render_card(ctx, row.card, row.accounts) for row in hits], "\n\n")
    await ctx.reply_private(lines(header, "", body))
