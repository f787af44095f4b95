"""The one error of the date language: what could not be read, and enough to explain it."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import Lang
from bot.rich import Rich


class WhenError(ValueError):
    """A date, time or duration we cannot use. `code` is one of "unparsable", "past",
    "nonexistent" (spring DST gap), "ambiguous" (autumn repeat hour), "too_far"; `reason`
    narrows it down (e.g. "bad_date", "slash", "missing_time", "duration", "twice",
    "end_before"; "no_year" for a recent past date written without a year)."""

    def __init__(
        self,
        code: str,
        reason: str = "",
        *,
        text: str = "",
        when: datetime | None = None,
        suggestion: datetime | None = None,
        zones: tuple[str, str] = ("", ""),
        weekdays: tuple[int, int] = (0, 0),
    ) -> None:
        super().__init__(f"{code}{':' + reason if reason else ''}: {text or when}")
        self.code, self.reason, self.text = code, reason, text
        self.when, self.suggestion = when, suggestion
        self.zones, self.weekdays = zones, weekdays

    def message(self, lang: Lang) -> Rich:
        """A short answer in the reader's language that says what would work."""
        from bot.when_text import explain  # cycle: explain formats with the reader's rules

        return explain(self, lang)
