"""The Matrix transport's sends that only hand on to its halves (poll_io, media_io, the
RoomSender and the Syncer): mixed into MatrixTransport, to keep that file short."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from bot.core import Button, ChatRef, PollSpec, PollVote, SentPoll, SentRef
from bot.rich import Rich

if TYPE_CHECKING:
    from bot.transports.matrix.media_io import MatrixMedia
    from bot.transports.matrix.poll_io import MatrixPolls
    from bot.transports.matrix.send import RoomSender
    from bot.transports.matrix.sync import Syncer


class MatrixHandOn:
    """Polls, files, buttons and the sender's helpers of the Matrix transport."""

    _polls: MatrixPolls
    _media: MatrixMedia
    sender: RoomSender
    syncer: Syncer

    def _check_private(self, chat: ChatRef) -> None:
        raise NotImplementedError

    async def send_poll(self, chat: ChatRef, poll: PollSpec, *, key: str | None = None) -> SentPoll:
        self._check_private(chat)
        return await self._polls.send_poll(chat, poll, key=key)

    async def close_poll(self, sent: SentPoll, result: Rich, *, key: str | None = None) -> None:
        await self._polls.close_poll(sent, result, key=key)

    async def fetch_poll_votes(self, sent: SentPoll) -> list[PollVote]:
        return await self._polls.fetch_poll_votes(sent)

    async def send_file(
        self,
        chat: ChatRef,
        filename: str,
        data: bytes,
        mime: str,
        caption: Rich | None = None,
        *,
        key: str | None = None,
    ) -> SentRef:
        self._check_private(chat)
        return await self._media.send_file(chat, filename, data, mime, caption, key=key)

    async def send_with_buttons(
        self,
        chat: ChatRef,
        message: Rich,
        buttons: tuple[Button, ...],
        *,
        key: str | None = None,
    ) -> SentRef:
        self._check_private(chat)
        return await self._media.send_with_buttons(chat, message, buttons, key=key)

    async def send_event(
        self,
        room_id: str,
        event_type: str,
        content: dict[str, Any],
        tx_id: str,
        *,
        done: Callable[[Any], bool] | None = None,
    ) -> str:
        return await self.sender.send_event(room_id, event_type, content, tx_id, done=done)

    def busy(self) -> AbstractAsyncContextManager[None]:
        return self.sender.busy()

    async def retrying(
        self,
        call: Callable[[], Awaitable[Any]],
        expected: type,
        what: str,
        *,
        budget: float | None = None,
        done: Callable[[Any], bool] | None = None,
    ) -> Any:
        return await self.sender.retrying(call, expected, what, budget=budget, done=done)

    async def wait_for_room(self, room_id: str, until: Callable[[], bool] | None = None) -> None:
        await self.syncer.wait_for_room(room_id, until)
