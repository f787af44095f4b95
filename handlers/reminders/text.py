"""How a reminder reads: title, full date, place and link, who comes (by name) and how
many may come or do not, marked when late.

Composed per reader by the sender (its language, prefix, whether buttons can be shown);
the app hands this function to the engine.
"""

from __future__ import annotations

from bot.core import Button
from bot.i18n import Lang
from bot.rich import Rich, bold, join
from bot.when_text import format_duration, format_span
from handlers.meetings.text import meeting_title, names, rsvp_buttons, rsvp_hint, where_lines
from handlers.reminders.sender import ReminderView


def compose_reminder(
    view: ReminderView, lang: Lang, prefix: str, buttons: bool
) -> tuple[Rich, tuple[Button, ...]]:
    """The reminder: title, full date, place/link, who comes; marked when it comes late."""
    title = bold(meeting_title(lang, view.title))
    if view.late:
        head = lang.t("Erinnerung (verspätet): {title} – AG {ag}", title=title, ag=view.ag_name)
    else:
        head = lang.t("Erinnerung: {title} – AG {ag}", title=title, ag=view.ag_name)
    when: Rich = Rich() + format_span(view.start, view.end, lang.code)
    if not view.late:
        when = lang.t(
            "{when} (noch {left})",
            when=format_span(view.start, view.end, lang.code),
            left=format_duration(view.offset, lang.code),
        )
    rows: list[Rich] = ["⏰ " + head, when, *where_lines(lang, view.place, view.url)]
    if view.coming:
        rows.append(
            "✅ " + lang.t("Dabei ({n}): {names}", n=len(view.coming), names=names(view.coming))
        )
    else:
        rows.append(lang.t("Noch hat niemand zugesagt."))
    # Only counts for the others: a reminder in a group should not show who stays away.
    rows.append(
        "❓ "
        + lang.t("Vielleicht ({n})", n=view.maybe)
        + " · ❌ "
        + lang.t("Nicht dabei ({n})", n=view.declined)
    )
    if not buttons:
        rows.append(rsvp_hint(lang, prefix, view.occurrence_id))
    return join(rows, "\n"), rsvp_buttons(lang, view.occurrence_id) if buttons else ()
