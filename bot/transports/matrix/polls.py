"""MSC3381 polls as Element sends and reads them: content builders and the tally rules.

Pure functions, tested without a homeserver. The rules follow matrix-js-sdk (Element):
- a response names answer ids; any id the poll does not have, a non-list or an empty list
  spoils the whole response (it counts as "no vote", and still replaces an earlier one);
- more answers than `max_selections` are cut to the first `max_selections`;
- per sender only the latest response counts (by origin_server_ts; on equal timestamps the
  later one in the room's order);
- responses after the poll's end are ignored (`ts <= end ts` still counts); an end counts
  only from the poll's sender or someone allowed to redact other people's events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.core import PollSpec
from bot.rich import Rich, render_plain

POLL_START = "org.matrix.msc3381.poll.start"
POLL_RESPONSE = "org.matrix.msc3381.poll.response"
POLL_END = "org.matrix.msc3381.poll.end"
# matrix-js-sdk reads the stable names as well; so do we (nobody sends them yet).
START_TYPES = (POLL_START, "m.poll.start")
RESPONSE_TYPES = (POLL_RESPONSE, "m.poll.response")
END_TYPES = (POLL_END, "m.poll.end")
TEXT = "org.matrix.msc1767.text"
KIND_DISCLOSED = "org.matrix.msc3381.poll.disclosed"
KIND_UNDISCLOSED = "org.matrix.msc3381.poll.undisclosed"
MAX_ANSWERS = 20  # Element shows no more (it cuts the list there)


@dataclass(frozen=True)
class PollDef:
    """What the tally needs from a poll start: its answer ids in order, and who sent it."""

    answer_ids: tuple[str, ...]
    max_selections: int = 1
    sender: str = ""

    def indexes(self, answers: list[str] | None) -> tuple[int, ...]:
        """Element's `validateAgainst`: 0-based option indexes, () for a spoiled response."""
        if not answers or any(a not in self.answer_ids for a in answers):
            return ()
        picked = dict.fromkeys(answers[: self.max_selections])  # an id named twice counts once
        return tuple(self.answer_ids.index(a) for a in picked)


@dataclass(frozen=True)
class Response:
    """One poll response (or end) as read from the room, before the tally."""

    sender: str
    ts: int  # origin_server_ts, milliseconds
    answers: list[str] | None  # None: malformed (spoils the vote)
    event_id: str
    order: int = 0  # position in the room's order, for equal timestamps


def answer_id(index: int) -> str:
    """Ids "1".."N": stable, and the same numbers the text fallback shows for `!vote`."""
    return str(index + 1)


def poll_start_content(poll: PollSpec) -> dict[str, Any]:
    """The content of an `org.matrix.msc3381.poll.start`, as Element builds it.

    Anonymous polls become `undisclosed` (Element hides the tally until the end). Matrix
    cannot hide who answered: responses are room events anyone in the room can read.
    """
    if not poll.options:
        raise ValueError("a poll needs at least one option")
    if len(poll.options) > MAX_ANSWERS:
        raise ValueError(f"Matrix polls show at most {MAX_ANSWERS} answers")
    fallback = render_plain(poll.fallback)
    return {
        TEXT: fallback,
        "body": fallback,  # for clients that only know `body`
        POLL_START: {
            "kind": KIND_UNDISCLOSED if poll.anonymous else KIND_DISCLOSED,
            "max_selections": len(poll.options) if poll.multi else 1,
            "question": {TEXT: poll.question, "body": poll.question, "msgtype": "m.text"},
            "answers": [{"id": answer_id(i), TEXT: text} for i, text in enumerate(poll.options)],
        },
    }


def poll_end_content(start_event_id: str, result: Rich) -> dict[str, Any]:
    """An `org.matrix.msc3381.poll.end` referring to the start, with the result as text."""
    text = render_plain(result)
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        TEXT: text,
        "body": text,
        POLL_END: {},
    }


def _block(content: dict[str, Any], names: Iterable[str]) -> Any:
    for name in names:
        if name in content:
            return content[name]
    return None


def parse_poll_start(content: dict[str, Any], sender: str) -> PollDef | None:
    """The answer ids of a poll start (unstable or stable name), or None if it is none."""
    block = _block(content, START_TYPES)
    if not isinstance(block, dict) or not isinstance(block.get("answers"), list):
        return None
    ids = tuple(
        str(a["id"]) for a in block["answers"][:MAX_ANSWERS] if isinstance(a, dict) and "id" in a
    )
    if not ids:
        return None
    raw_max = block.get("max_selections")
    max_selections = raw_max if isinstance(raw_max, int) and raw_max > 0 else 1
    return PollDef(ids, max_selections, sender)


def referenced_event(content: dict[str, Any]) -> str | None:
    """The event an `m.reference` relation points at (a response's or end's poll)."""
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.reference":
        return None
    target = relates.get("event_id")
    return target if isinstance(target, str) else None


def response_answers(content: dict[str, Any]) -> list[str] | None:
    """The answer ids of a response; None if malformed (which spoils the vote)."""
    block = _block(content, RESPONSE_TYPES)
    answers = block.get("answers") if isinstance(block, dict) else None
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        return None
    return answers


def end_cutoff(ends: Iterable[Response], poll: PollDef, may_redact: set[str]) -> int | None:
    """The timestamp of the poll's earliest valid end, or None while it is open."""
    valid = [e.ts for e in ends if e.sender == poll.sender or e.sender in may_redact]
    return min(valid) if valid else None


def latest_responses(responses: Iterable[Response], end_ts: int | None = None) -> list[Response]:
    """Per sender the response that counts: the latest one up to the end."""
    latest: dict[str, Response] = {}
    for resp in sorted(responses, key=lambda r: (r.ts, r.order)):
        if end_ts is not None and resp.ts > end_ts:
            continue
        latest[resp.sender] = resp
    return list(latest.values())
