"""What the Matrix helpers (polls, files and reaction buttons, room keys, private rooms,
reading events back) need from the transport that routes events to them: the nio client,
the bot's id, where incoming things go, and sending with retries. They depend on this
small protocol, not on `MatrixTransport`, so each can be read (and faked) on its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import nio

from bot.core import ChatRef, Inbox, UserRef


class MatrixHost(Protocol):
    @property
    def client(self) -> nio.AsyncClient: ...

    @property
    def user_id(self) -> str: ...

    @property
    def inbox(self) -> Inbox | None:
        """Where incoming votes and presses go; None before start."""

    def is_live(self, room_id: str) -> bool:
        """Events in the room are answered (not the backlog)."""

    def chat_ref(self, room: nio.MatrixRoom) -> ChatRef: ...

    def user_ref(self, room: nio.MatrixRoom | None, user_id: str) -> UserRef: ...

    def spawn(self, coro: Awaitable[Any], name: str) -> None:
        """A background task that logs its failure and is cancelled at stop."""

    def busy(self) -> AbstractAsyncContextManager[None]:
        """Around each send or upload: stop waits for these."""

    async def retrying(
        self,
        call: Callable[[], Awaitable[Any]],
        expected: type,
        what: str,
        *,
        budget: float | None = None,
        done: Callable[[Any], bool] | None = None,
    ) -> Any:
        """`call` repeated through rate limits and outages (see send.retrying)."""

    async def send_event(
        self,
        room_id: str,
        event_type: str,
        content: dict[str, Any],
        tx_id: str,
        *,
        done: Callable[[Any], bool] | None = None,
    ) -> str:
        """Send a room event, encrypted where the room is; returns its event id."""

    async def wait_for_room(self, room_id: str, until: Callable[[], bool] | None = None) -> None:
        """Until a room just created or joined is in nio's state."""

    async def take_decrypted(self, room: nio.MatrixRoom, event: Any) -> None:
        """An event decrypted late, handled as if just received."""
