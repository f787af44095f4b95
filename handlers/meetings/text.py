"""How meetings read in a chat: the announcement, the answer buttons, short ids, dates
and reminder offsets (the reminder itself: handlers/reminders/text.py).

Written once as Rich text in the reader's language; each network renders and escapes it
(a title with `<b>` in it stays text).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.lists import format_list

from bot.core import Button
from bot.i18n import N_, Lang
from bot.rich import AccountRef, Rich, bold, code, join, link, mention
from bot.when_text import format_duration, format_span
from storage.meetings.occurrences import OccurrenceView

ANSWERS = ("yes", "no", "maybe")
EMOJI = {"yes": "✅", "no": "❌", "maybe": "❓"}
# What a person may type after /rsvp.
ANSWER_WORDS = {
    **dict.fromkeys(("ja", "yes", "y", "j", "komme", "dabei", "+"), "yes"),
    **dict.fromkeys(("nein", "no", "n", "nicht", "-"), "no"),
    **dict.fromkeys(("vielleicht", "maybe", "evtl", "?", "vlt"), "maybe"),
}
BUTTON_LABELS = {
    "yes": N_("Ich komme"),
    "no": N_("Ich kann nicht"),
    "maybe": N_("Vielleicht"),
}


DEFAULT_MINUTES = 60  # storage/meetings/models.py: a meeting without an end lasts an hour


def shown_end(start: datetime, minutes: int) -> datetime | None:
    """The end worth showing: one that was set (`19-21 Uhr`, `--dauer 2h`), not the default
    hour every meeting gets."""
    if minutes == DEFAULT_MINUTES:
        return None
    return (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(start.tzinfo)


def short_id(occurrence_id: int) -> str:
    return f"m{occurrence_id}"


def local(view: OccurrenceView) -> datetime:
    """The occurrence's start in the meeting's zone."""
    return view.start.astimezone(ZoneInfo(view.meeting.timezone))


def offsets_text(lang: Lang, offsets: list[timedelta]) -> str:
    """`1 Tag und 1 Stunde` / `1 day and 1 hour`."""
    locale = "de" if lang.code == "de" else "en"
    return format_list([format_duration(o, lang.code) for o in offsets], locale=locale)


def meeting_title(lang: Lang, title: str) -> str:
    return title or lang.gettext("Treffen")


def rsvp_buttons(lang: Lang, occurrence_id: int) -> tuple[Button, ...]:
    return tuple(
        Button(
            f"{EMOJI[a]} {lang.gettext(BUTTON_LABELS[a])}", f"rsvp:{occurrence_id}:{a}", EMOJI[a]
        )
        for a in ANSWERS
    )


def answer_words(lang: Lang) -> tuple[str, str, str]:
    """The answers as the reader would type them (both languages are understood)."""
    return ("ja", "nein", "vielleicht") if lang.code == "de" else ("yes", "no", "maybe")


def rsvp_hint(lang: Lang, prefix: str, occurrence_id: int) -> Rich:
    words = "|".join(answer_words(lang))
    return lang.t("Antworten mit {command}", command=code(f"{prefix}rsvp m{occurrence_id} {words}"))


def where_lines(lang: Lang, place: str, url: str) -> list[Rich]:
    rows: list[Rich] = []
    if place:
        rows.append("📍 " + lang.t("Ort: {place}", place=place))
    if url:
        rows.append("🔗 " + link(url))
    return rows


def names(accounts: tuple[AccountRef, ...] | list[AccountRef]) -> Rich:
    """People by name, shown as quiet mentions (a list of names should ping nobody)."""
    return join([mention(a, notify=False) for a in accounts], ", ")


def announcement(
    lang: Lang,
    prefix: str,
    *,
    occurrence_id: int,
    title: str,
    ag_name: str,
    start: datetime,
    end: datetime | None = None,
    repeat: str | None,
    place: str,
    url: str,
    buttons: bool,
) -> Rich:
    """A new meeting, as posted in the AG's chats (and answered to the lead)."""
    when = format_span(start, end, lang.code)
    rows: list[Rich] = [
        "📅 "
        + lang.t(
            "Neues Treffen der AG {ag}: {title}",
            ag=ag_name,
            title=bold(meeting_title(lang, title)),
        ),
        lang.t("{when}, {repeat}", when=when, repeat=repeat) if repeat else Rich() + when,
        *where_lines(lang, place, url),
        lang.t("Kennung: {id}", id=code(f"m{occurrence_id}")),
    ]
    if not buttons:
        rows.append(rsvp_hint(lang, prefix, occurrence_id))
    return join(rows, "\n")
