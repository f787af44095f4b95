"""What the bot may do in a Matrix room: its power level, judged from the state nio keeps,
and M_FORBIDDEN answers turned into `MissingRight` (the power levels may have changed
since the last sync).

Room versions 12 and later give the room's creators unlimited power without listing them
in `m.room.power_levels`; nio does not know that, so the creators are read once from the
room's `m.room.create` event (rooms the bot made itself, such as the AG rooms of
`/ag room` and a Space of `/space neu`, depend on it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nio

from bot.admission import ChatRight, MissingRight, NoDoors
from bot.config import MatrixSettings
from bot.core import ChatRef
from bot.logs import pseudonym
from bot.transports.matrix.send import RoomSender
from bot.transports.matrix.sync import Syncer
from bot.transports.matrix.text import PLATFORM

log = logging.getLogger(__name__)

# Room versions in which the creators stand above every power level (MSC4289).
CREATORS_RULE = frozenset({"12", "org.matrix.hydra.11"})
INFINITE = 2**63


def forbidden(resp: Any) -> bool:
    return getattr(resp, "status_code", None) == "M_FORBIDDEN"


class MatrixPower(NoDoors):
    """Power levels and refused calls, for the doors and rooms mixed into the transport."""

    client: nio.AsyncClient
    settings: MatrixSettings
    sender: RoomSender
    syncer: Syncer
    _creators: dict[str, frozenset[str]] | None = None  # room id -> its creators

    async def power(self, room: nio.MatrixRoom) -> int:
        """The bot's power level in the room (unlimited for a creator where that counts)."""
        return await self.level_of(room, self.settings.user_id)

    async def level_of(self, room: nio.MatrixRoom, user_id: str) -> int:
        """Anyone's power level in the room (unlimited for a creator where that counts)."""
        if room.room_version in CREATORS_RULE and user_id in await self._room_creators(room):
            return INFINITE
        return room.power_levels.get_user_level(user_id)

    async def may_send_state(self, room: nio.MatrixRoom, event_type: str) -> bool:
        needed = room.power_levels.get_state_event_required_level(event_type)
        return await self.power(room) >= needed

    async def _room_creators(self, room: nio.MatrixRoom) -> frozenset[str]:
        if self._creators is None:
            self._creators = {}
        known = self._creators.get(room.room_id)
        if known is not None:
            return known
        resp = await self.client.room_get_state(room.room_id)
        if not isinstance(resp, nio.RoomGetStateResponse):
            return frozenset()  # unreadable now: judged by the power levels alone, not kept
        creators: set[str] = set()
        for event in resp.events:
            if event.get("type") == "m.room.create" and event.get("state_key") == "":
                creators.add(str(event.get("sender", "")))
                extra = event.get("content", {}).get("additional_creators", [])
                creators.update(each for each in extra if isinstance(each, str))
        self._creators[room.room_id] = frozenset(creators)
        return self._creators[room.room_id]

    def joined_room(self, chat: ChatRef, right: ChatRight) -> nio.MatrixRoom:
        """The room as nio knows it; the bot not in it can do nothing there."""
        room = self.client.rooms.get(chat.id)
        if room is None:
            raise MissingRight(right, chat)
        return room

    async def refusable(
        self,
        call: Callable[[], Awaitable[Any]],
        expected: type,
        what: str,
        refused: Callable[[], MissingRight],
        chat: ChatRef,
    ) -> Any:
        """`call` with retries; an M_FORBIDDEN answer raises `refused()`."""
        resp = await self.sender.retrying(call, expected, what, done=forbidden)
        if not isinstance(resp, expected):
            log.info("matrix: %s refused in %s (M_FORBIDDEN)", what, pseudonym(PLATFORM, chat.id))
            raise refused()
        return resp
