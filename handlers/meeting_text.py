"""How meetings read in a chat: the announcement, the reminder, the answer buttons.

Written once as Rich text in the reader's language; each network renders and escapes it
(a title with `<b>` in it stays text).
"""

from __future__ import annotations

from datetime import datetime

from bot.core import Button
from bot.i18n import N_, Lang
from bot.reminder_sender import ReminderView
from bot.rich import AccountRef, Rich, bold, code, join, link, mention
from bot.when_text import format_duration, format_full

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
    repeat: str | None,
    place: str,
    url: str,
    buttons: bool,
) -> Rich:
    """A new meeting, as posted in the AG's chats (and answered to the lead)."""
    when = format_full(start, lang.code)
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


def compose_reminder(
    view: ReminderView, lang: Lang, prefix: str, buttons: bool
) -> tuple[Rich, tuple[Button, ...]]:
    """The reminder: title, full date, place/link, who comes; marked when it comes late."""
    title = bold(meeting_title(lang, view.title))
    if view.late:
        head = lang.t("Erinnerung (verspätet): {title} – AG {ag}", title=title, ag=view.ag_name)
    else:
        head = lang.t("Erinnerung: {title} – AG {ag}", title=title, ag=view.ag_name)
    when: Rich = Rich() + format_full(view.start, lang.code)
    if not view.late:
        when = lang.t(
            "{when} (noch {left})",
            when=format_full(view.start, lang.code),
            left=format_duration(view.offset, lang.code),
        )
    rows: list[Rich] = ["⏰ " + head, when, *where_lines(lang, view.place, view.url)]
    if view.coming:
        rows.append(
            "✅ " + lang.t("Dabei ({n}): {names}", n=len(view.coming), names=names(view.coming))
        )
    else:
        rows.append(lang.t("Noch hat niemand zugesagt."))
    if not buttons:
        rows.append(rsvp_hint(lang, prefix, view.occurrence_id))
    return join(rows, "\n"), rsvp_buttons(lang, view.occurrence_id) if buttons else ()
