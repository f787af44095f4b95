"""Private chats on Matrix: the bot's two-person room with someone, found among the joined
rooms or created (and waited for until the next sync brings it)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import nio

from bot.core import DirectMessageUnavailable
from bot.logs import pseudonym
from bot.transports.matrix_send import MatrixSendError, http_status
from bot.transports.matrix_text import PLATFORM

if TYPE_CHECKING:
    from bot.transports.matrix import MatrixTransport

log = logging.getLogger(__name__)

ROOM_WAIT = 15.0  # seconds a new room may take to show up in a sync


class DirectRooms:
    def __init__(self, transport: MatrixTransport) -> None:
        self.t = transport
        self._rooms: dict[str, str] = {}  # user id -> room id
        self._locks: dict[str, asyncio.Lock] = {}

    async def room_for(self, user_id: str) -> str:
        """The private room with `user_id`; DirectMessageUnavailable if none can be had."""
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            known = self._rooms.get(user_id)
            if known is not None and self._is_direct_with(known, user_id):
                return known
            for room_id in self.t.client.rooms:
                if self._is_direct_with(room_id, user_id):
                    self._rooms[user_id] = room_id
                    return room_id
            room_id = await self._create(user_id)
            self._rooms[user_id] = room_id
            return room_id

    def forget(self, room_id: str) -> None:
        """The bot left the room (or was banned): it is nobody's private chat any more."""
        for user, known in list(self._rooms.items()):
            if known == room_id:
                del self._rooms[user]

    def _is_direct_with(self, room_id: str, user_id: str) -> bool:
        room = self.t.client.rooms.get(room_id)
        return (
            room is not None
            and user_id in room.users
            and self.t.user_id in room.users
            and room.member_count == 2
        )

    async def _create(self, user_id: str) -> str:
        client = self.t.client
        # Synapse invites even ids nobody has (or deactivated ones); a room for no one helps
        # no one. Its profile answer is 404 then (errcode M_UNKNOWN or M_NOT_FOUND). The
        # price: someone who cleared both display name and avatar also gets 404.
        profile = await client.get_profile(user_id)
        if isinstance(profile, nio.ErrorResponse) and http_status(profile) == 404:
            log.info("matrix: no direct chat with %s: no such user", pseudonym(PLATFORM, user_id))
            raise DirectMessageUnavailable()
        try:
            resp = await self.t.retrying(
                lambda: client.room_create(
                    is_direct=True, invite=[user_id], preset=nio.RoomPreset.private_chat
                ),
                nio.RoomCreateResponse,
                "create direct chat",
            )
        except MatrixSendError as exc:
            log.info(
                "matrix: no direct chat with %s possible: %s", pseudonym(PLATFORM, user_id), exc
            )
            raise DirectMessageUnavailable() from None
        room_id = str(resp.room_id)
        # nio only sends into rooms it has synced; the new room shows up in the next sync.
        try:
            async with asyncio.timeout(ROOM_WAIT):
                await self.t.wait_for_room(room_id)
        except TimeoutError:
            raise DirectMessageUnavailable() from None
        return room_id
