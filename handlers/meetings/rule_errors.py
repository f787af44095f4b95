"""What a series that cannot be used says: which flag or word was wrong and what works,
with the option names and examples in the reader's language (`--alle 2w` in German,
`--every 2w` in English; both are understood either way)."""

from __future__ import annotations

from bot.i18n import Lang
from bot.rich import Rich, code, join
from bot.when import WhenError
from bot.when_text import format_full
from handlers.meetings.recurrence import MAX_COUNT, RuleError, describe

# The option names a reader sees: German ones in German, English ones otherwise.
_FLAGS = {
    "de": {
        "weekly": "--wöchentlich",
        "every": "--alle",
        "monthly": "--monatlich",
        "until": "--bis",
        "count": "--anzahl",
        "all": "--serie",
        "place": "--ort",
        "title": "--titel",
    },
    "en": {
        "weekly": "--weekly",
        "every": "--every",
        "monthly": "--monthly",
        "until": "--until",
        "count": "--count",
        "all": "--all",
        "place": "--place",
        "title": "--title",
    },
}
_WORD_EXAMPLES = {
    "de": (
        "jeden Dienstag 18 Uhr",
        "alle zwei Wochen donnerstags 19 Uhr",
        "jeden ersten Montag im Monat 19 Uhr",
        "jeden Monat am 15. 18 Uhr",
    ),
    "en": (
        "every Tuesday 6pm",
        "every other Thursday 7pm",
        "first Monday of the month 7pm",
        "every month on the 15th 6pm",
    ),
}


def flag(lang_code: str, name: str) -> str:
    """The option `name` (its English canonical name) as the reader writes it."""
    return _FLAGS["de" if lang_code == "de" else "en"][name]


def explain(err: RuleError, lang: Lang) -> Rich:
    de = lang.code == "de"
    weekly, monthly = code(flag(lang.code, "weekly")), code(flag(lang.code, "monthly"))
    every = code(flag(lang.code, "every") + " 2w")
    until, count = code(flag(lang.code, "until")), code(flag(lang.code, "count"))
    if err.reason in ("words", "weekday"):
        forms = join([code(f) for f in _WORD_EXAMPLES["de" if de else "en"]], ", ")
        flags = code(flag(lang.code, "monthly") + (" 2Mi" if de else " 2We"))
        if err.reason == "weekday":
            return lang.t(
                "An welchem Tag soll das Treffen sein? Das geht z. B. so: {forms}.", forms=forms
            )
        return lang.t(
            "„{text}“ verstehe ich nicht als Wiederholung. Das geht z. B. so: {forms}; "
            "oder mit {weekly}, {every} und {flags}.",
            text=err.text,
            forms=forms,
            weekly=weekly,
            every=every,
            flags=flags,
        )
    if err.reason == "rule_conflict":
        return lang.t(
            "Wähl bitte nur eine Wiederholung: {weekly}, {every} oder {monthly}.",
            weekly=weekly,
            every=every,
            monthly=monthly,
        )
    if err.reason == "end_without_rule":
        return lang.t(
            "{until} und {count} gehen nur zusammen mit {weekly}, {every} oder {monthly}.",
            until=until,
            count=count,
            weekly=weekly,
            every=every,
            monthly=monthly,
        )
    if err.reason == "until_and_count":
        return lang.t(
            "Nimm bitte entweder {until} oder {count}, nicht beides.", until=until, count=count
        )
    if err.reason == "until_before_start" and err.when:
        return lang.t(
            "Das Ende {until} liegt vor dem ersten Termin ({start}).",
            until=err.text,
            start=format_full(err.when, lang.code),
        )
    if err.reason == "count":
        return lang.t("{count} braucht eine Zahl von 1 bis {max}.", count=count, max=MAX_COUNT)
    if err.reason == "every":
        return lang.t(
            "„{text}“: Schreib den Abstand in Wochen, z. B. {example} für alle 2 Wochen.",
            text=err.text,
            example=every,
        )
    if err.reason == "monthly":
        first, last = ("1Di", "letzterFr") if de else ("1Tu", "lastFri")
        return lang.t(
            "„{text}“ verstehe ich nicht. Schreib z. B. {first} für den ersten Dienstag im Monat oder {last} für den letzten Freitag.",
            text=err.text,
            first=code(f"{flag(lang.code, 'monthly')} {first}"),
            last=code(f"{flag(lang.code, 'monthly')} {last}"),
        )
    if err.reason == "start_mismatch" and err.rule and err.when and err.suggestion:
        return lang.t(
            "Der erste Termin ({start}) passt nicht zu „{rule}“. Der nächste passende Termin wäre {other}.",
            start=format_full(err.when, lang.code),
            rule=describe(err.rule, lang.code),
            other=format_full(err.suggestion, lang.code),
        )
    return WhenError.message(err, lang)
