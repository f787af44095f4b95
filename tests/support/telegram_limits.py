"""A fake Bot API that enforces Telegram's flood limits, as `BotApi` answers everything else.

Telegram documents its limits loosely ("about 30 messages per second", "no more than one
message per second in a particular chat", "no more than 20 messages per minute in the same
group") and answers a bot that breaks them with HTTP 429 and `retry_after`. This fake takes
them literally, as sliding windows on its own clock: a send is refused when the sends it
has accepted within the last `seconds` (the window `(now - seconds, now]`) already number
`count`, overall, in the same private chat, or in the same group. So a bot that keeps to
the limits never sees a 429 here, and one that does not is told so at once.

Every accepted send is recorded with its time (`accepted`), every refusal with the limit it
broke (`refused`); `peaks` recounts the busiest window of each kind from the accepted sends.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from tests.support.telegram_api import ApiCall, BotApi, Json, Upload

Kind = Literal["overall", "private chat", "group"]


@dataclass(frozen=True)
class Window:
    """At most `count` sends within any `seconds`."""

    count: int
    seconds: float

    def floor(self, sends: int) -> float:
        """The least time from the first to the last of `sends` sends that keeps to this
        window: send k and send k + count must be `seconds` apart."""
        return max(0, math.ceil(sends / self.count) - 1) * self.seconds


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's limits by default; tests may shorten the group's minute."""

    overall: Window = Window(30, 1.0)
    private_chat: Window = Window(1, 1.0)
    group: Window = Window(20, 60.0)

    def of(self, kind: Kind) -> Window:
        if kind == "overall":
            return self.overall
        return self.private_chat if kind == "private chat" else self.group


@dataclass(frozen=True)
class Sent:
    at: float
    method: str
    chat_id: int | str


@dataclass(frozen=True)
class Refused:
    at: float
    method: str
    chat_id: int | str
    limit: Kind
    retry_after: int


def _is_send(method: str, params: Json) -> bool:
    """What counts against the limits: messages of any kind sent to a chat."""
    return method.startswith("send") and method != "sendChatAction" and "chat_id" in params


def _chat_kind(chat_id: int | str) -> Kind:
    # Private chats have the user's (positive) id; groups, supergroups and channels are
    # negative, or given as "@username" (supergroups and channels only).
    return "private chat" if isinstance(chat_id, int) and chat_id > 0 else "group"


def _chat_id(value: Any) -> int | str:
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


class LimitedBotApi(BotApi):
    """`BotApi` answering 429 to sends that break `limits`, timed by `clock` (seconds)."""

    def __init__(
        self,
        limits: FloodLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        **options: bool,
    ) -> None:
        super().__init__(**options)
        self.limits = limits or FloodLimits()
        self.clock = clock
        self.accepted: list[Sent] = []
        self.refused: list[Refused] = []
        self._overall: deque[float] = deque()
        self._by_chat: dict[int | str, deque[float]] = defaultdict(deque)

    async def answer(
        self, method: str, params: Json, files: dict[str, Upload] | None = None
    ) -> tuple[int, Json]:
        if not _is_send(method, params):
            return await super().answer(method, params, files)
        now = self.clock()
        chat_id = _chat_id(params["chat_id"])
        broken = self._broken(now, chat_id)
        if broken is not None:
            kind, retry_after = broken
            self.refused.append(Refused(now, method, chat_id, kind, retry_after))
            async with self._changed:
                self.calls.append(ApiCall(method, params, 429, files or {}))
                self._changed.notify_all()
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
        # Counted before the answer is awaited, so concurrent sends see each other.
        sent = Sent(now, method, chat_id)
        self.accepted.append(sent)
        self._overall.append(now)
        self._by_chat[chat_id].append(now)
        status, body = await super().answer(method, params, files)
        if status != 200:  # refused for another reason (a gone chat, a scripted error)
            self.accepted.remove(sent)
            for times in (self._overall, self._by_chat[chat_id]):
                with contextlib.suppress(ValueError):  # already out of the window
                    times.remove(now)
        return status, body

    def _broken(self, now: float, chat_id: int | str) -> tuple[Kind, int] | None:
        """The limit a send now would break, and the seconds until it would not."""
        kind = _chat_kind(chat_id)
        checks: tuple[tuple[Kind, deque[float]], ...] = (
            ("overall", self._overall),
            (kind, self._by_chat[chat_id]),
        )
        for limit, times in checks:
            window = self.limits.of(limit)
            while times and times[0] <= now - window.seconds:
                times.popleft()
            if len(times) >= window.count:
                # Free again once the oldest send in the window has left it.
                wait = times[-window.count] + window.seconds - now
                return limit, max(1, math.ceil(wait))
        return None

    # --- what tests and benchmarks look at ---------------------------------------------

    def peaks(self) -> dict[Kind, int]:
        """The most accepted sends in any one window of each limit (recounted from
        `accepted`): overall, in the busiest private chat, in the busiest group."""
        found: dict[Kind, int] = {
            "overall": _peak([s.at for s in self.accepted], self.limits.overall.seconds)
        }
        by_chat: dict[int | str, list[float]] = defaultdict(list)
        for sent in self.accepted:
            by_chat[sent.chat_id].append(sent.at)
        chat_kinds: tuple[Kind, ...] = ("private chat", "group")
        for kind in chat_kinds:
            seconds = self.limits.of(kind).seconds
            found[kind] = max(
                (_peak(times, seconds) for c, times in by_chat.items() if _chat_kind(c) == kind),
                default=0,
            )
        return found

    def within_limits(self) -> bool:
        return all(count <= self.limits.of(kind).count for kind, count in self.peaks().items())

    def span(self) -> float:
        """Seconds from the first accepted send to the last."""
        if not self.accepted:
            return 0.0
        times = [s.at for s in self.accepted]
        return max(times) - min(times)


def _peak(times: Iterable[float], seconds: float) -> int:
    """The most of `times` within any window `(t - seconds, t]`."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best
