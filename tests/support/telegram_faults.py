"""A fake Bot API that fails at random, as `BotApi` answers everything else.

Real Telegram sometimes answers a send with HTTP 500 or 502, sometimes does not answer in
time (the client gives up: `telegram.error.TimedOut`), and sometimes says "too many
requests" (429 with `retry_after`, at least 1 s). A time-out is the ambiguous case: the
request may or may not have reached Telegram. Here half of the time-outs happen before the
fake looks at the request (nothing is sent) and half after it has stored the message (it
is in the chat, but the bot never hears so).

Which attempt fails is decided per message, not per call: attempt n of the message
(chat id, text) draws from a generator seeded with (seed, chat id, text, n). So the
faults do not depend on the order in which concurrent sends reach the fake, and a run
can be repeated exactly. A message meets at most `max_in_a_row` faults in a row: the
faults are transient; a longer outage is another test's business.

Time-outs come at once (no waiting for a read timeout), and only sends are faulted:
getMe, getUpdates and the rest are answered normally.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from telegram.error import TimedOut

from tests.support.telegram_api import ApiCall, BotApi, Json, Upload

FaultKind = Literal["500", "502", "429", "timed out before", "timed out after"]
# Recorded as the status of a call that got no answer at all.
NO_ANSWER = 0


@dataclass(frozen=True)
class FaultPlan:
    """The share of send attempts that meet each fault."""

    server_error: float = 0.12  # 500 or 502, half each
    timed_out_before: float = 0.05  # nothing sent
    timed_out_after: float = 0.05  # sent, but the bot does not learn it
    retry_after: float = 0.01  # 429, retry after `retry_after_seconds`
    retry_after_seconds: int = 1  # the Bot API's least
    max_in_a_row: int = 3


@dataclass(frozen=True)
class Fault:
    method: str
    message: tuple[int | str, str]  # chat id, text
    kind: FaultKind
    attempt: int  # 1 for a message's first attempt


def _is_send(method: str, params: Json) -> bool:
    return method.startswith("send") and method != "sendChatAction" and "chat_id" in params


def _chat_id(value: object) -> int | str:
    try:
        return int(str(value))
    except ValueError:
        return str(value)


def _content(params: Json) -> str:
    """What tells one message to a chat from another."""
    for name in ("text", "caption", "question"):
        if name in params:
            return str(params[name])
    return ""


class FaultyBotApi(BotApi):
    """`BotApi` whose sends fail as `plan` says, drawn from `seed`."""

    def __init__(self, seed: int, plan: FaultPlan | None = None, **options: bool) -> None:
        super().__init__(**options)
        self.seed = seed
        self.plan = plan or FaultPlan()
        self.faults: list[Fault] = []
        self.attempts: Counter[tuple[int | str, str]] = Counter()
        self._in_a_row: Counter[tuple[int | str, str]] = Counter()

    def _draw(self, message: tuple[int | str, str], attempt: int) -> FaultKind | None:
        if self._in_a_row[message] >= self.plan.max_in_a_row:
            return None
        plan = self.plan
        shares: tuple[tuple[FaultKind, float], ...] = (
            ("429", plan.retry_after),
            ("500", plan.server_error / 2),
            ("502", plan.server_error / 2),
            ("timed out before", plan.timed_out_before),
            ("timed out after", plan.timed_out_after),
        )
        roll = random.Random(f"{self.seed}:{message[0]}:{message[1]}:{attempt}").random()
        for kind, share in shares:
            if roll < share:
                return kind
            roll -= share
        return None

    async def answer(
        self, method: str, params: Json, files: dict[str, Upload] | None = None
    ) -> tuple[int, Json]:
        if not _is_send(method, params):
            return await super().answer(method, params, files)
        chat_id = _chat_id(params["chat_id"])
        message = (chat_id, _content(params))
        self.attempts[message] += 1
        attempt = self.attempts[message]
        kind = self._draw(message, attempt)
        if kind is None:
            self._in_a_row[message] = 0
            return await super().answer(method, params, files)
        self._in_a_row[message] += 1
        self.faults.append(Fault(method, message, kind, attempt))
        if kind == "timed out after":
            status, body = await super().answer(method, params, files)
            if status == 200:
                raise TimedOut()
            return status, body
        status, body = self._failure(kind)
        async with self._changed:
            self.calls.append(ApiCall(method, params, status, files or {}))
            self._changed.notify_all()
        if kind == "timed out before":
            raise TimedOut()
        return status, body

    def _failure(self, kind: FaultKind) -> tuple[int, Json]:
        if kind == "500":
            return 500, _error(500, "Internal Server Error")
        if kind == "502":
            return 502, _error(502, "Bad Gateway")
        if kind == "429":
            after = self.plan.retry_after_seconds
            body = _error(429, f"Too Many Requests: retry after {after}")
            return 429, {**body, "parameters": {"retry_after": after}}
        return NO_ANSWER, {}

    # --- what tests look at ------------------------------------------------------------

    def fault_counts(self) -> Counter[FaultKind]:
        return Counter(fault.kind for fault in self.faults)

    def ambiguous(self) -> Counter[tuple[int | str, str]]:
        """Per message (chat id, text): the time-outs that came after it was sent."""
        return Counter(f.message for f in self.faults if f.kind == "timed out after")

    def copies(self) -> Counter[tuple[int | str, str]]:
        """Per message (chat id, text): the copies Telegram holds, whether the bot heard
        of them or not (sendMessage only)."""
        return Counter((_chat_id(p["chat_id"]), p["text"]) for p in self.delivered())


def _error(code: int, description: str) -> Json:
    return {"ok": False, "error_code": code, "description": description}
