"""Private chats on Matrix: the bot's two-person room with someone, found among the joined
rooms (only one that private.py's rule accepts) or opened by the bot (invite-only,
encrypted from the start, recorded in the bot's `m.direct`) and waited for until the next
sync brings it."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import quote

import nio

from bot.core import DirectMessageUnavailable
from bot.logs import pseudonym
from bot.transports.matrix.private import PrivateRooms, encryption_state
from bot.transports.matrix.send import MatrixSendError, http_status
from bot.transports.matrix.text import PLATFORM

if TYPE_CHECKING:
    from bot.transports.matrix.host import MatrixHost

log = logging.getLogger(__name__)

ROOM_WAIT = 15.0  # seconds a new room may take to show up in a sync


class DirectRooms:
    def __init__(self, transport: MatrixHost, private: PrivateRooms) -> None:
        self.t = transport
        self.private = private
        self._rooms: dict[str, str] = {}  # user id -> room id
        self._locks: dict[str, asyncio.Lock] = {}
        self._account_data_lock = asyncio.Lock()

    async def room_for(self, user_id: str) -> str:
        """The private room with `user_id`; DirectMessageUnavailable if none can be had."""
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            known = self._rooms.get(user_id)
            if known is not None and self._is_direct_with(known, user_id):
                return known
            found = [r for r in self.t.client.rooms if self._is_direct_with(r, user_id)]
            if found:
                # An encrypted one first: what is said there stays off the homeserver.
                found.sort(key=lambda r: not self.t.client.rooms[r].encrypted)
                self._rooms[user_id] = found[0]
                return found[0]
            room_id = await self._create(user_id)
            self._rooms[user_id] = room_id
            return room_id

    def forget(self, room_id: str) -> None:
        """The bot left the room (or was banned): it is nobody's private chat any more."""
        self.private.forget(room_id)
        self._drop(room_id)

    def membership_changed(self, room_id: str) -> None:
        """A member event in the room: a private chat that stopped being one (someone else
        invited or joined, even if they left again) is a group from now on."""
        if room_id in self._rooms.values() and not self.is_private(room_id):
            log.info("matrix: room %s is no private chat any more", room_id)
            self._drop(room_id)

    def is_private(self, room_id: str) -> bool:
        return self.private.partner(self.t.client.rooms.get(room_id)) is not None

    def _drop(self, room_id: str) -> None:
        for user, known in list(self._rooms.items()):
            if known == room_id:
                del self._rooms[user]

    def _is_direct_with(self, room_id: str, user_id: str) -> bool:
        return self.private.is_private_with(self.t.client.rooms.get(room_id), user_id)

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
                    is_direct=True,
                    invite=[user_id],
                    preset=nio.RoomPreset.private_chat,
                    initial_state=encryption_state(),
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
        # nio only sends into rooms it has synced; the new room shows up in the next sync
        # (the invite perhaps one later).
        try:
            async with asyncio.timeout(ROOM_WAIT):
                await self.t.wait_for_room(
                    room_id, until=lambda: self._is_direct_with(room_id, user_id)
                )
        except TimeoutError:
            raise DirectMessageUnavailable() from None
        await self._record_direct(user_id, room_id)
        return room_id

    async def _record_direct(self, user_id: str, room_id: str) -> None:
        """Add the room to the bot's `m.direct` account data, so clients (and the spec's
        idea of a direct chat) agree with the bot. The room works without it: a failure
        is only logged."""
        client = self.t.client
        async with self._account_data_lock:
            try:
                current = await client.list_direct_rooms()
                if isinstance(current, nio.DirectRoomsResponse):
                    rooms = dict(current.rooms)
                elif http_status(current) == 404:
                    rooms = {}  # none recorded yet
                else:  # unreadable: writing now would drop the rooms recorded so far
                    log.warning(
                        "matrix: could not read m.direct; room %s not recorded",
                        pseudonym(PLATFORM, room_id),
                    )
                    return
                listed = rooms.get(user_id)
                mine = [r for r in listed if r != room_id] if isinstance(listed, list) else []
                rooms[user_id] = [*mine, room_id]
                path = (
                    f"/_matrix/client/v3/user/{quote(self.t.user_id, safe='')}"
                    "/account_data/m.direct"
                )
                resp = await client.send(
                    "PUT",
                    path,
                    json.dumps(rooms),
                    headers={"Authorization": f"Bearer {client.access_token}"},
                )
                status = resp.status
                resp.release()
            except Exception as exc:
                log.warning(
                    "matrix: could not record room %s in m.direct: %r",
                    pseudonym(PLATFORM, room_id),
                    exc,
                )
                return
        if status != 200:
            log.warning(
                "matrix: could not record room %s in m.direct (%s)",
                pseudonym(PLATFORM, room_id),
                status,
            )
