"""How a Terminumfrage reads in a chat: the summary (per date the counts of ja / wenn
nötig / nein / open, the best date first, who has not answered), written once as Rich
text in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import N_, Lang
from bot.rich import Rich, bold, code, join, lines
from bot.when_text import format_short, format_time
from handlers.people import person_label
from storage.datepoll.models import Answer, DatePollOption, DatePollStatus
from storage.datepoll.polls import DatePollView
from storage.models import Ag
from storage.repo import MemberRow

ANSWER_EXAMPLE = N_("1 ja 2 nein 3 wenn nötig")
# At most this many names (and characters of names) in "Noch keine Antwort", the rest as
# "… und N weitere": the summary of a big AG stays one message, within Telegram's 4,096
# characters even with 15 dates, the longest title, place and link, and 120-letter names.
NAMES_MAX = 30
NAMES_CHARS = 1200


def option_start(view: DatePollView, option: DatePollOption) -> datetime:
    return option.start_at.astimezone(ZoneInfo(view.poll.timezone))


def option_text(view: DatePollView, option: DatePollOption, lang: Lang) -> str:
    """`Di 13.01. 19:00–21:00` / `Tue 13 Jan 19:00–21:00`."""
    start = option_start(view, option)
    end = (start.astimezone(UTC) + timedelta(minutes=option.duration_minutes)).astimezone(
        start.tzinfo
    )
    return format_short(start, lang.code) + "–" + format_time(end)


def counts(view: DatePollView, position: int) -> dict[str, int]:
    found = {a.value: 0 for a in Answer}
    for answer in view.answers.get(position, {}).values():
        found[answer] = found.get(answer, 0) + 1
    return found


def best_first(view: DatePollView) -> list[DatePollOption]:
    """Most "ja", then most "ja + wenn nötig", then the order they were proposed in."""

    def key(option: DatePollOption) -> tuple[int, int, int]:
        c = counts(view, option.position)
        return (-c["yes"], -(c["yes"] + c["maybe"]), option.position)

    return sorted(view.options, key=key)


def summary(lang: Lang, prefix: str, view: DatePollView, ag: Ag, members: list[MemberRow]) -> Rich:
    poll = view.poll
    rows: list[Rich | str] = [
        "📅 "
        + bold(lang.t("Terminumfrage {id}: {title}", id=poll.short_id, title=poll.title))
        + " "
        + lang.t("(AG {ag})", ag=ag.name)
    ]
    extras = [lang.t("Ort: {place}", place=poll.place)] if poll.place else []
    if poll.url:
        extras.append(lang.t("Link: {url}", url=poll.url))
    if extras:
        rows.append(join(extras, " · "))
    member_ids = [m.person_id for m in members]
    for option in best_first(view):
        c = counts(view, option.position)
        answered = view.answers.get(option.position, {})
        missing = sum(1 for person in member_ids if person not in answered)
        mark = "✅ " if poll.picked_position == option.position else ""
        rows.append(
            f"{mark}{option.position + 1}. "
            + bold(option_text(view, option, lang))
            + " – "
            + lang.t(
                "ja {yes} · wenn nötig {maybe} · nein {no} · offen {open}",
                yes=c["yes"],
                maybe=c["maybe"],
                no=c["no"],
                open=missing,
            )
        )
    answered_anything = view.answered()
    silent = [m for m in members if m.person_id not in answered_anything]
    if silent:
        names: list[Rich | str] = []
        room = NAMES_CHARS
        for member in silent[:NAMES_MAX]:
            label = person_label(member.accounts)
            room -= len(label.plain) + 2
            if room < 0:
                break
            names.append(label)
        if len(names) < len(silent):
            names.append(lang.t("… und {n} weitere", n=len(silent) - len(names)))
        rows.append(lang.t("Noch keine Antwort: {names}", names=join(names, ", ")))
    elif members:
        rows.append(lang.t("Alle Mitglieder haben geantwortet."))
    if poll.status == DatePollStatus.OPEN.value:
        rows.append(
            lang.t(
                "Antworten: {command}",
                command=code(f"{prefix}termin {poll.short_id} {lang.gettext(ANSWER_EXAMPLE)}"),
            )
        )
        if poll.closes_at is not None:
            closes = poll.closes_at.astimezone(ZoneInfo(poll.timezone))
            rows.append(lang.t("Antworten bis {when}.", when=format_short(closes, lang.code)))
    return lines(*rows)
