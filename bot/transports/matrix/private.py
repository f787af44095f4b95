"""Which Matrix rooms are private chats: the rule, and the membership history it needs.

A room passes for someone's private chat with the bot only if nobody but the bot and that
person has ever had a membership there (joined, invited, left, banned, knocked), both are
in it now (the person may still be invited in a room the bot opened for them), anyone
else needs an invite to enter, and the history is not world-readable. Counting people in
the room is not enough: someone can create a room, invite the bot and a victim, and
leave; the two left would look like a private chat that its creator set up.

nio forgets members who left, so every member event of every sync is noted here before
nio handles the sync (`see_sync`, called from the client's `receive_response`). A message
later in the same sync is then already judged with everyone the sync brings.
"""

from __future__ import annotations

import logging
from typing import Any

import nio

log = logging.getLogger(__name__)

MEMBER_EVENT = "m.room.member"


class PrivateRooms:
    def __init__(self, own_id: str) -> None:
        self.own_id = own_id
        self._members: dict[str, set[str]] = {}  # room id -> everyone with a member event
        self._crowded: set[str] = set()  # rooms where a third account has been seen

    def see_sync(self, response: nio.SyncResponse) -> None:
        """Note every account with a member event in the sync's joined rooms (state and
        timeline, parsed or not: an event nio cannot read still names its member)."""
        for room_id, info in response.rooms.join.items():
            for event in (*info.state, *info.timeline.events):
                source = getattr(event, "source", None)
                if not isinstance(source, dict) or source.get("type") != MEMBER_EVENT:
                    continue
                state_key = source.get("state_key")
                self.see_member(room_id, state_key if isinstance(state_key, str) else "")

    def see_member(self, room_id: str, user_id: str) -> None:
        if room_id in self._crowded:
            return
        seen = self._members.setdefault(room_id, set())
        seen.add(user_id)
        if len(seen) > 2:
            self._crowded.add(room_id)
            del self._members[room_id]
            log.debug("matrix: room %s has had more than two members", room_id)

    def forget(self, room_id: str) -> None:
        """The bot left the room; should it come back, the next sync brings the full state."""
        self._members.pop(room_id, None)
        self._crowded.discard(room_id)

    def partner(self, room: nio.MatrixRoom | None) -> str | None:
        """The one person this room is a private chat with, or None if it is not one."""
        if room is None or room.room_id in self._crowded:
            return None
        seen = self._members.get(room.room_id, set())
        others = seen - {self.own_id}
        if self.own_id not in seen or len(others) != 1:
            return None
        (person,) = others
        # The person may still be invited: with no third member ever, only the bot can
        # have invited them (a room it opened, or one they left and were invited back to).
        me = room.users.get(self.own_id)
        if me is None or me.invited or person not in room.users:
            return None
        if set(room.users) != {self.own_id, person}:
            return None
        if room.join_rule != "invite" or room.history_visibility == "world_readable":
            return None
        return person

    def is_private_with(self, room: nio.MatrixRoom | None, user_id: str) -> bool:
        return self.partner(room) == user_id


def encryption_state() -> list[dict[str, Any]]:
    """The initial state of a room the bot opens: end-to-end encrypted from the start."""
    return [
        {
            "type": "m.room.encryption",
            "state_key": "",
            "content": {"algorithm": "m.megolm.v1.aes-sha2"},
        }
    ]
