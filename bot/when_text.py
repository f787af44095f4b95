"""Dates, times and durations written out in the reader's language, and the short answer
that explains a `WhenError` (what was wrong, what would work)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from babel.dates import format_datetime, get_day_names
from babel.lists import format_list
from babel.units import format_unit

from bot.i18n import N_, Lang
from bot.rich import Rich, code, join
from bot.when import OFFSETS_MAX, ZONE_ALIASES, WhenError, is_ambiguous


def _locale(lang_code: str) -> str:
    return lang_code if lang_code in ("de", "en") else "en"


def format_full(dt: datetime, lang_code: str) -> str:
    """`Donnerstag, 3. Dezember 2026, 18:00 Uhr` / `Thursday, 3 December 2026, 18:00`,
    in the zone of `dt`; in the autumn repeat hour the zone is named (`02:30 Uhr MEZ`)."""
    loc = _locale(lang_code)
    pattern = "EEEE, d. MMMM y, HH:mm 'Uhr'" if loc == "de" else "EEEE, d MMMM y, HH:mm"
    return format_datetime(dt, pattern, tzinfo=dt.tzinfo, locale=loc) + _zone_note(dt, loc)


def format_span(start: datetime, end: datetime | None, lang_code: str) -> str:
    """`Mittwoch, 16. Dezember 2026, 19:00–21:00 Uhr` / `Wednesday, 16 December 2026,
    19:00–21:00` (reads back as the same range); across midnight both ends in full."""
    if end is None:
        return format_full(start, lang_code)
    end = end.astimezone(start.tzinfo)
    if end.date() != start.date():
        joint = " bis " if _locale(lang_code) == "de" else " to "
        return format_full(start, lang_code) + joint + format_full(end, lang_code)
    full = format_full(start, lang_code)
    at = format_time(start)
    cut = full.rindex(at) + len(at)
    return full[:cut] + "–" + format_time(end) + full[cut:]


def format_short(dt: datetime, lang_code: str) -> str:
    """`Do 03.12. 18:00` / `Thu 3 Dec 18:00`, for lists."""
    loc = _locale(lang_code)
    weekday = get_day_names("abbreviated", locale=loc)[dt.weekday()].rstrip(".")
    rest = "dd.MM. HH:mm" if loc == "de" else "d MMM HH:mm"
    return f"{weekday} {format_datetime(dt, rest, tzinfo=dt.tzinfo, locale=loc)}"


def format_day(day: date, lang_code: str) -> str:
    """`29.03.2026` / `29 Mar 2026`."""
    return day.strftime("%d.%m.%Y") if _locale(lang_code) == "de" else _en_day(day)


def _en_day(day: date) -> str:
    return f"{day.day} {format_datetime(datetime.combine(day, time()), 'MMM y', locale='en')}"


def format_time(value: datetime | time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def format_duration(td: timedelta, lang_code: str) -> str:
    """`1 Tag`, `2 Stunden`, `1 Stunde, 30 Minuten` / `1 day`, ... (weeks only when whole)."""
    loc = _locale(lang_code)
    minutes = int(td.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    weeks, days = divmod(days, 7) if days % 7 == 0 else (0, days)
    parts = [
        format_unit(n, f"duration-{unit}", length="long", locale=loc)
        for n, unit in ((weeks, "week"), (days, "day"), (rest // 60, "hour"), (rest % 60, "minute"))
        if n
    ]
    return (
        format_list(parts, style="unit", locale=loc)
        if parts
        else format_unit(0, "duration-minute", length="long", locale=loc)
    )


def _zone_note(dt: datetime, loc: str) -> str:
    if dt.tzinfo is None or not is_ambiguous(dt.replace(tzinfo=None), dt.tzinfo):
        return ""
    name = dt.tzname() or ""
    german = {v: k for k, v in ZONE_ALIASES.items() if k != v}
    return " " + (german.get(name, name) if loc == "de" else name)


def _examples(lang: Lang) -> Rich:
    if lang.code == "de":
        forms = ("03.12.2026 18:00", "morgen 19 Uhr", "Di 18:00", "in 2 Stunden")
    else:
        forms = ("03.12.2026 18:00", "tomorrow 7pm", "Tue 18:00", "in 2 hours")
    return join([code(f) for f in forms], ", ")


def explain(err: WhenError, lang: Lang) -> Rich:
    """What went wrong with a date, time or duration, and what would work."""
    loc, when = lang.code, err.when
    day = format_day(when, loc) if when else ""
    at = format_time(when) if when else ""
    tomorrow = ("morgen " if loc == "de" else "tomorrow ") + (at or "18:00")
    if err.reason == "no_year" and when and err.suggestion:
        return lang.t(
            "Der {date} ist schon vorbei. Meintest du {next}? Dann schreib das Jahr dazu.",
            date=day,
            next=code(format_day(err.suggestion, loc)),
        )
    if err.code == "past" and when:
        return lang.t(
            "{when} ist schon vorbei. Nimm einen Zeitpunkt in der Zukunft, z. B. {example}.",
            when=format_full(when, loc),
            example=code(tomorrow),
        )
    if err.code == "too_far" and when:
        return lang.t(
            "{when} liegt mehr als zwei Jahre in der Zukunft. Prüf bitte das Jahr.",
            when=format_full(when, loc),
        )
    if err.code == "nonexistent" and err.suggestion:
        return lang.t(
            "Am {day} gibt es {time} nicht (Zeitumstellung). Nimm z. B. {other}.",
            day=day,
            time=at,
            other=format_time(err.suggestion),
        )
    if err.code == "ambiguous":
        first, second = (_ZONE_NAMES.get(loc, {}).get(z, z) for z in err.zones)
        return lang.t(
            "Am {day} gibt es {time} zweimal (Zeitumstellung). Schreib {first} für das erste "
            "oder {second} für das zweite Mal.",
            day=day,
            time=at,
            first=code(f"{at} {first}"),
            second=code(f"{at} {second}"),
        )
    return _explain_unparsable(err, lang)


_WEEK_DAY_EXAMPLE = N_("Mittwoch 18 Uhr")  # after "nächste Woche"
_ZONE_NAMES = {"de": {"CEST": "MESZ", "CET": "MEZ"}}


def _explain_unparsable(err: WhenError, lang: Lang) -> Rich:
    text, reason = err.text, err.reason
    if reason == "slash":
        return lang.t(
            "{text}: Daten mit Schrägstrich sind mehrdeutig (Tag oder Monat zuerst?). "
            "Schreib bitte {german} oder {iso}.",
            text=code(text),
            german=code("03.12.2026"),
            iso=code("2026-12-03"),
        )
    if reason == "bad_date":
        return lang.t("Den {date} gibt es nicht im Kalender. Prüf bitte Tag und Monat.", date=text)
    if reason == "bad_time":
        return lang.t(
            "Die Uhrzeit {time} gibt es nicht. Schreib sie z. B. als {example}.",
            time=code(text),
            example=code("18:00"),
        )
    if reason == "missing_time":
        return lang.t(
            "Mir fehlt die Uhrzeit. Schreib sie dazu, z. B. {example}.",
            example=code(f"{text} 18:00"),
        )
    if reason == "weekday":
        names = get_day_names("wide", locale=_locale(lang.code))
        given, actual = (names[i] for i in err.weekdays)
        return lang.t(
            "Der {date} ist ein {actual}, kein {given}. Welcher Tag ist gemeint?",
            date=format_day(err.when, lang.code) if err.when else text,
            actual=actual,
            given=given,
        )
    if reason == "end_before":
        return lang.t(
            "{range}: Das Ende liegt vor dem Anfang. Schreib es z. B. so: {example}.",
            range=code(text),
            example=code("19:00-21:00"),
        )
    if reason == "week_day":
        return lang.t(
            "Welcher Tag {text}? Schreib ihn dazu, z. B. {example}.",
            text=text,
            example=code(text + " " + lang.gettext(_WEEK_DAY_EXAMPLE)),
        )
    if reason == "twice":
        return lang.t(
            "„{text}“ passt nicht dazu: Datum und Uhrzeit bitte nur einmal. "
            "Das geht z. B. so: {examples}.",
            text=text,
            examples=_examples(lang),
        )
    if reason == "zone":
        return lang.t(
            "{zone} passt nicht zu diesem Datum. Lass die Zeitzone einfach weg.", zone=code(text)
        )
    if reason == "duration":
        return lang.t(
            "„{text}“ verstehe ich nicht als Dauer. Schreib z. B. {examples}.",
            text=text,
            examples=join([code(x) for x in ("1d", "2h", "30m", "1h30m")], ", "),
        )
    if reason == "offset_range":
        return lang.t(
            "{offset}: Erinnerungen gehen von 1 Minute bis 30 Tage vor dem Termin.",
            offset=code(text),
        )
    if reason == "too_many":
        return lang.t("Höchstens {max} Erinnerungen pro Termin, bitte.", max=OFFSETS_MAX)
    if reason == "date":
        return lang.t(
            "„{text}“ verstehe ich nicht als Datum. Schreib es z. B. als {example}.",
            text=text,
            example=code("31.03.2027"),
        )
    if reason == "empty" or not text:
        return lang.t(
            "Mir fehlen Datum und Uhrzeit. Das geht z. B. so: {examples}.", examples=_examples(lang)
        )
    return lang.t(
        "„{text}“ verstehe ich nicht als Datum und Uhrzeit. Das geht z. B. so: {examples}.",
        text=text,
        examples=_examples(lang),
    )
