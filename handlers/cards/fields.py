"""The fields of a card as `/card <field> <value>` names them, and the lists regions and
topics are chosen from (the survey's questions, ../shared/DOMAIN.md)."""

from __future__ import annotations

import difflib

from bot.commands.convert import normalize
from bot.context import Context, UserError
from handlers.cards.render import numbered
from handlers.survey.templates import SurveyError, load_survey
from storage.cards import CARD_ABOUT_MAX, CARD_CONTACT_MAX, CARD_NAME_MAX, CARD_ORG_MAX, Visibility
from storage.text import visible

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
# Words people use for a field that is called otherwise here -> the field's column.
FIELD_SYNONYMS = {
    **dict.fromkeys(
        (
            "telefon",
            "tel",
            "telefonnummer",
            "nummer",
            "handy",
            "mobil",
            "phone",
            "email",
            "e-mail",
            "mail",
            "signal",
            "adresse",
            "erreichbar",
        ),
        "contact",
    ),
    **dict.fromkeys(("verein", "firma", "gruppe", "initiative", "organization"), "org"),
    **dict.fromkeys(("beschreibung", "text", "info", "bio", "ich", "vorstellung"), "about"),
    **dict.fromkeys(("thema", "interessen", "schwerpunkt", "topic"), "topics"),
    **dict.fromkeys(("landkreis", "kreis", "ort", "wohnort", "gebiet", "stadt"), "regions"),
    **dict.fromkeys(("sichtbar", "sichtbar-für", "visible", "sicht"), "visibility"),
}
# The field word a suggestion names, German and English.
_FIELD_WORDS = {
    "name": ("name", "name"),
    "org": ("org", "org"),
    "about": ("über", "about"),
    "contact": ("kontakt", "contact"),
    "regions": ("region", "region"),
    "topics": ("themen", "topics"),
    "visibility": ("sichtbarkeit", "visibility"),
}
LIST_ITEMS_MAX = 10
clean = visible  # control and format characters out (storage/text.py)


def field_meant(word: str, *, english: bool) -> str | None:
    """The field word someone meant by an unknown one (`telefon` -> `kontakt`), or None."""
    column = FIELD_SYNONYMS.get(word)
    if column is None:
        known = {**{w: c for w, (c, _) in TEXT_FIELDS.items()}, **LIST_FIELDS}
        known |= dict.fromkeys(VISIBILITY_WORDS, "visibility")
        close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.75)
        column = known[close[0]] if close else None
    if column is None:
        return None
    german, in_english = _FIELD_WORDS[column]
    return in_english if english else german


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
        if wanted.isdecimal() and 1 <= int(wanted) <= len(options):
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
