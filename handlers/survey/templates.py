"""The founding survey's questions from `config/survey.toml`, read on every use so that
editing the file changes the templates without code and without a restart."""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from storage.polls.models import (
    OPTION_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    QUESTION_MAX,
    SURVEY_KEY_MAX,
)

log = logging.getLogger(__name__)

KINDS = ("single", "multi", "scale")
_KEY = re.compile(r"^[a-z][a-z0-9-]*$")


class SurveyError(ValueError):
    """The survey file is broken; the message names the question and the problem."""


@dataclass(frozen=True)
class SurveyItem:
    """One poll of the survey: a question, or one statement of a scale question."""

    key: str  # "interesse", "strukturwandel.2": the standing poll's key
    number: str  # "1", "4.2"
    question: str
    options: tuple[str, ...]
    multi: bool


@dataclass(frozen=True)
class SurveyQuestion:
    id: int
    key: str
    kind: str
    text: str
    options: tuple[str, ...]  # the answers; for a scale question, the scale
    statements: tuple[str, ...] = ()
    examples: bool = False  # the statements are placeholders to be replaced

    def items(self) -> list[SurveyItem]:
        if self.kind != "scale":
            multi = self.kind == "multi"
            return [SurveyItem(self.key, str(self.id), self.text, self.options, multi)]
        return [
            SurveyItem(
                f"{self.key}.{i}",
                f"{self.id}.{i}",
                f"{self.text}: {statement}",
                self.options,
                False,
            )
            for i, statement in enumerate(self.statements, 1)
        ]


def _texts(raw: object, where: str, what: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise SurveyError(f"{where}: `{what}` must be a list of texts")
    return tuple(" ".join(x.split()) for x in raw)


def _question(entry: object, index: int) -> SurveyQuestion:
    where = f"question {index}"
    if not isinstance(entry, dict):
        raise SurveyError(f"{where}: expected a [[question]] table")
    qid = entry.get("id")
    if not isinstance(qid, int) or qid < 1:
        raise SurveyError(f"{where}: `id` must be a positive number")
    where = f"question {qid}"
    key = str(entry.get("key", "")).strip().lower()
    if not _KEY.match(key) or len(key) > SURVEY_KEY_MAX - 4:
        raise SurveyError(f"{where}: `key` must be a word of lowercase letters, digits or -")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise SurveyError(f"{where}: `kind` must be one of {', '.join(KINDS)}")
    text = " ".join(str(entry.get("text", "")).split())
    if not text:
        raise SurveyError(f"{where}: `text` is missing")
    options = _texts(entry.get("scale" if kind == "scale" else "options"), where, "options")
    statements: tuple[str, ...] = ()
    if kind == "scale":
        statements = _texts(entry.get("statements"), where, "statements")
    question = SurveyQuestion(
        qid, key, str(kind), text, options, statements, bool(entry.get("examples", False))
    )
    for item in question.items():
        if len(item.question) > QUESTION_MAX:
            raise SurveyError(f"{where}: {item.number} is longer than {QUESTION_MAX} characters")
        if not OPTIONS_MIN <= len(item.options) <= OPTIONS_MAX:
            raise SurveyError(f"{where}: needs {OPTIONS_MIN} to {OPTIONS_MAX} options")
        if any(len(o) > OPTION_MAX for o in item.options):
            raise SurveyError(f"{where}: an option is longer than {OPTION_MAX} characters")
        if len({o.casefold() for o in item.options}) != len(item.options):
            raise SurveyError(f"{where}: an option appears twice")
    return question


def parse_survey(data: dict[str, object]) -> list[SurveyQuestion]:
    entries = data.get("question", [])
    if not isinstance(entries, list) or not entries:
        raise SurveyError("expected [[question]] tables")
    questions = [_question(entry, i) for i, entry in enumerate(entries, 1)]
    for attr in ("id", "key"):
        values = [getattr(q, attr) for q in questions]
        if len(set(values)) != len(values):
            raise SurveyError(f"two questions have the same {attr}")
    return sorted(questions, key=lambda q: q.id)


def read_survey(path: Path) -> list[SurveyQuestion]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SurveyError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SurveyError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_survey(data)
    except SurveyError as exc:
        raise SurveyError(f"{path}: {exc}") from None


async def load_survey(path: Path) -> list[SurveyQuestion]:
    return await asyncio.to_thread(read_survey, path)


def find_question(questions: list[SurveyQuestion], ref: str) -> SurveyQuestion | None:
    """A question by number (`1`) or key (`interesse`, or its start: `inter`)."""
    value = ref.strip().lower().lstrip("#")
    if value.isdecimal():
        return next((q for q in questions if q.id == int(value)), None)
    exact = [q for q in questions if q.key == value]
    if exact:
        return exact[0]
    started = [q for q in questions if len(value) >= 3 and q.key.startswith(value)]
    return started[0] if len(started) == 1 else None


def all_items(questions: list[SurveyQuestion]) -> list[SurveyItem]:
    return [item for q in questions for item in q.items()]
