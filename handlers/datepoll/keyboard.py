"""The answer buttons under a Terminumfrage's summary, and the line that says how to use
them: one row per date (`1 ✅ 3` / `❔ 1` / `❌ 0`, in the order the dates were proposed,
so a row never moves under a finger), and the button data `dp:<id>:<number>:<y|m|n>`.

Where buttons are reactions (Matrix), only "ja" can be a reaction: the first ten dates
get the keycaps 1️⃣…🔟, and the text names the command for the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.core import Button
from bot.i18n import N_, Lang
from bot.outbox import Reader
from bot.rich import Rich, code
from handlers.datepoll.render import counts
from storage.datepoll.models import Answer, DatePoll, DatePollStatus
from storage.datepoll.polls import DatePollView

PREFIX = "dp"
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
MARK = {Answer.YES: "✅", Answer.MAYBE: "❔", Answer.NO: "❌"}
WORD = {Answer.YES: N_("ja"), Answer.MAYBE: N_("wenn nötig"), Answer.NO: N_("nein")}
_CODE = {Answer.YES: "y", Answer.MAYBE: "m", Answer.NO: "n"}
_ANSWER = {code: answer for answer, code in _CODE.items()}
_OTHERS_EXAMPLE = N_("2 wenn nötig")


@dataclass(frozen=True)
class Pressed:
    """What a button says: the poll's id, the date (0-based) and the answer."""

    short_id: str
    position: int
    answer: Answer


def button_data(short_id: str, position: int, answer: Answer) -> str:
    return f"{PREFIX}:{short_id}:{position + 1}:{_CODE[answer]}"


def read_data(data: str) -> Pressed | None:
    """`dp:k3f7:2:m` -> Pressed("k3f7", 1, MAYBE); None for anything else."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != PREFIX or parts[3] not in _ANSWER:
        return None
    short_id, number = parts[1], parts[2]
    # ASCII only: forged data such as `²` passes isdigit() but not int().
    if not (short_id.isascii() and short_id.isalnum() and re.fullmatch(r"0*[1-9][0-9]?", number)):
        return None
    return Pressed(short_id.lower(), int(number) - 1, _ANSWER[parts[3]])


def takes_answers(poll: DatePoll, now: datetime) -> bool:
    """Open and before its deadline (the rule of service.refuse_if_closed)."""
    return poll.status == DatePollStatus.OPEN.value and (
        poll.closes_at is None or poll.closes_at > now
    )


def answer_buttons(reader: Reader, view: DatePollView, now: datetime) -> tuple[Button, ...]:
    """Per date a row: ja (with its keycap), wenn nötig, nein, each with its count. None
    once the poll takes no answers; where buttons are reactions, the keycaps alone."""
    poll = view.poll
    if not takes_answers(poll, now) or not reader.capabilities.buttons:
        return ()
    found: list[Button] = []
    for option in view.options:
        at = option.position
        keycap = KEYCAPS[at] if at < len(KEYCAPS) else None
        if reader.capabilities.reactions:
            if keycap is not None:  # labelled with its emoji alone: no legend needed
                found.append(Button(keycap, button_data(poll.short_id, at, Answer.YES), keycap))
            continue
        c = counts(view, at)
        for answer in Answer:
            label = f"{MARK[answer]} {c[answer.value]}"
            if answer is Answer.YES:
                label = f"{at + 1} {label}"
            emoji = keycap if answer is Answer.YES else None
            found.append(Button(label, button_data(poll.short_id, at, answer), emoji, row=at))
    return tuple(found)


def how_to_press(reader: Reader, view: DatePollView, now: datetime) -> Rich | None:
    """The line under the summary that explains the buttons (None without buttons)."""
    if not answer_buttons(reader, view, now):
        return None
    if not reader.capabilities.reactions:
        return reader.t("Oder tippe unten je Termin: ✅ ja · ❔ wenn nötig · ❌ nein.")
    last = min(len(view.options), len(KEYCAPS))
    return reader.t(
        "Mit einer Reaktion {first}…{last} sagst du „ja“ zu diesem Termin; "
        "„wenn nötig“ und „nein“ per Befehl, z. B. {command}",
        first=KEYCAPS[0],
        last=KEYCAPS[last - 1],
        command=code(
            f"{reader.prefix}termin {view.poll.short_id} {reader.lang.gettext(_OTHERS_EXAMPLE)}"
        ),
    )


def own_answers(lang: Lang, view: DatePollView, person_id: int, limit: int = 190) -> str:
    """`Gespeichert: 1 ja · 2 nein · 3 –`: a person's answers to every date, short
    enough for a toast (with marks instead of words where the words are too long)."""

    def listed(word: bool) -> str:
        parts = []
        for option in view.options:
            given = view.answers.get(option.position, {}).get(person_id)
            shown = "–"
            if given is not None:
                shown = lang.gettext(WORD[Answer(given)]) if word else MARK[Answer(given)]
            parts.append(f"{option.position + 1} {shown}")
        return lang.t("Gespeichert: {answers}", answers=" · ".join(parts)).plain

    toast = listed(word=True)
    return toast if len(toast) <= limit else listed(word=False)[:limit]
