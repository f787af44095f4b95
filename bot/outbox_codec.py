"""Transport calls as JSON, for the queue of Matrix sends (bot/outbox_queue.py): a process
that is not the leader writes the call (method, arguments) into `outbox_message`, the
leader makes it on the real transport and writes back its result or error.

Only the seam's own values travel (chats, people, rich text, buttons, polls, ways in,
their enums, bytes of files); decoding builds nothing else, so a row cannot make the
leader construct arbitrary objects. Errors the callers tell apart travel as themselves
(a person who cannot be written to, a missing right, a Space problem, "not on this
network"); any other failure comes back as `QueuedSendError`.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
from datetime import datetime
from typing import Any

from bot.admission import ChatRight, JoinAsked, MissingRight, Way, WayKind
from bot.core import (
    Button,
    ChatRef,
    DirectMessageUnavailable,
    PollSpec,
    PollVote,
    SentPoll,
    SentRef,
    Unsupported,
    UserRef,
)
from bot.rich import AccountRef, Bold, Code, Italic, Link, Mention, Rich, Text
from bot.spaces import OutsideSpace, SpaceError, SpaceProblem

_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        AccountRef,
        Bold,
        Button,
        ChatRef,
        Code,
        Italic,
        JoinAsked,
        Link,
        Mention,
        PollSpec,
        PollVote,
        Rich,
        SentPoll,
        SentRef,
        Text,
        UserRef,
        Way,
    )
}
_ENUMS: dict[str, type[enum.Enum]] = {
    cls.__name__: cls for cls in (ChatRight, SpaceProblem, WayKind)
}


# The calls that take an idempotency key (`key=`): it becomes the row's send key and,
# at the leader, the Matrix transaction id, so a resend after a crash is dropped.
KEYED = frozenset(
    {"send", "send_direct", "send_with_buttons", "send_file", "send_poll", "close_poll"}
)


# Only these methods are made from a row (a row names a method; nothing else is called).
ALLOWED = frozenset(
    KEYED
    | {
        "edit",
        "fetch_poll_votes",
        "let_in",
        "answer_join_request",
        "remove_member",
        "create_topic",
        "create_room",
        "find_space",
        "create_space",
    }
)


class QueuedSendError(RuntimeError):
    """The leader could not make the queued call (the network refused it, or it timed out
    waiting for a leader)."""


def encode(value: Any) -> Any:
    """A JSON-able form of `value` (seam values, containers, bytes, datetimes)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return {"$enum": type(value).__name__, "value": value.value}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and _TYPES.get(name) is type(value):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$type": name, "fields": fields}
    raise TypeError(f"cannot queue a value of type {name}")


def decode(data: Any) -> Any:
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        raise ValueError("not a queued value")
    if "$tuple" in data:
        return tuple(decode(v) for v in data["$tuple"])
    if "$bytes" in data:
        return base64.b64decode(data["$bytes"])
    if "$datetime" in data:
        return datetime.fromisoformat(data["$datetime"])
    if "$enum" in data:
        return _ENUMS[data["$enum"]](data["value"])
    cls = _TYPES[data["$type"]]
    return cls(**{name: decode(v) for name, v in data["fields"].items()})


def dump_call(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return json.dumps(
        {
            "method": method,
            "args": encode(args),
            "kwargs": {name: encode(v) for name, v in kwargs.items()},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def load_call(payload: str) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    data = json.loads(payload)
    kwargs = {str(name): decode(v) for name, v in data["kwargs"].items()}
    return str(data["method"]), tuple(decode(data["args"])), kwargs


def dump_result(method: str, result: Any) -> str:
    """What replaces the call in the row once it is made (the arguments, a file's bytes
    among them, are not needed any more)."""
    return json.dumps({"method": method, "result": encode(result)}, ensure_ascii=False)


def dump_error(method: str, error: BaseException) -> str:
    return json.dumps({"method": method, "error": encode_error(error)}, ensure_ascii=False)


def load_outcome(payload: str) -> Any:
    """The call's result; raises the error it ended with."""
    data = json.loads(payload)
    if "error" in data:
        raise decode_error(data["error"])
    return decode(data.get("result"))


def leader_error(payload: str) -> Exception | None:
    """The error a failed row ended with at the leader (None: it was cancelled unsent)."""
    data = json.loads(payload)
    return decode_error(data["error"]) if "error" in data else None


def encode_error(error: BaseException) -> dict[str, Any]:
    if isinstance(error, DirectMessageUnavailable):
        return {"kind": "direct", "hint_url": error.hint_url}
    if isinstance(error, OutsideSpace):
        return {"kind": "outside_space", "space": encode(error.chat), "room": encode(error.room)}
    if isinstance(error, MissingRight):
        return {"kind": "missing_right", "right": error.right.value, "chat": encode(error.chat)}
    if isinstance(error, SpaceError):
        return {"kind": "space", "problem": error.problem.value, "ref": error.ref}
    if isinstance(error, Unsupported):
        return {"kind": "unsupported", "what": str(error)}
    return {"kind": "failed", "what": type(error).__name__}


def decode_error(data: dict[str, Any]) -> Exception:
    kind = data.get("kind")
    if kind == "direct":
        return DirectMessageUnavailable(data.get("hint_url"))
    if kind == "outside_space":
        return OutsideSpace(decode(data["space"]), decode(data["room"]))
    if kind == "missing_right":
        return MissingRight(ChatRight(data["right"]), decode(data["chat"]))
    if kind == "space":
        return SpaceError(SpaceProblem(data["problem"]), str(data["ref"]))
    if kind == "unsupported":
        return Unsupported(str(data.get("what", "")))
    return QueuedSendError(f"the leader's send failed: {data.get('what', 'unknown')}")
