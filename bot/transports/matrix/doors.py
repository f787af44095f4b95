"""Letting people into the rooms of an AG and out again: invitations and kicks where the
bot's power level allows them (power.py), and the join rules that let people in without
an invitation (a public room; a restricted one, for members of the alliance's Space)."""

from __future__ import annotations

import logging

import nio

from bot.admission import ChatRight, MissingRight, Way, WayKind
from bot.core import ChatRef
from bot.i18n import N_
from bot.logs import pseudonym
from bot.rich import AccountRef
from bot.transports.matrix.rooms import MatrixRooms, room_link
from bot.transports.matrix.text import PLATFORM

log = logging.getLogger(__name__)

RESTRICTED = ("restricted", "knock_restricted")

_HINTS = {
    ChatRight.INVITE: N_(
        "In Element: Raumeinstellungen → Rollen & Berechtigungen: gib mir eine Rolle, die "
        "„Nutzer einladen“ darf (z. B. Moderator)."
    ),
    ChatRight.REMOVE: N_(
        "In Element: Raumeinstellungen → Rollen & Berechtigungen: gib mir eine Rolle, die "
        "„Nutzer entfernen“ darf (z. B. Moderator)."
    ),
    ChatRight.SPACE_CHILD: N_(
        "In Element: Space-Einstellungen → Rollen & Berechtigungen: gib mir eine Rolle, die "
        "„Räume verwalten“ darf (z. B. Admin)."
    ),
}


class MatrixDoors(MatrixRooms):
    """The `Doors` of the Matrix transport (mixed into `MatrixTransport`)."""

    async def let_in(self, chat: ChatRef, account: AccountRef, *, link: str | None) -> Way:
        """Already in, already invited, let in by the join rule, or invited now."""
        room = self.joined_room(chat, ChatRight.INVITE)
        user_id = account.external_id
        if user_id in room.invited_users:
            return Way(chat, WayKind.INVITED)
        if user_id in room.users:  # nio lists the invited here too: they are handled above
            return Way(chat, WayKind.ALREADY)
        if await self._admitted(room, user_id):
            return Way(chat, WayKind.OPEN, room_link(room.room_id, self.settings.server_name))
        if await self.power(room) < room.power_levels.defaults.invite:
            raise MissingRight(ChatRight.INVITE, chat)
        client = self.client
        await self.refusable(
            lambda: client.room_invite(room.room_id, user_id),
            nio.RoomInviteResponse,
            "invite",
            lambda: MissingRight(ChatRight.INVITE, chat),
            chat,
        )
        log.info(
            "matrix: invited %s to %s",
            pseudonym(PLATFORM, user_id),
            pseudonym(PLATFORM, room.room_id),
        )
        return Way(chat, WayKind.INVITED)

    async def _admitted(self, room: nio.MatrixRoom, user_id: str) -> bool:
        """The join rule lets the account in by itself: a public room, or a restricted one
        that allows the members of a room (the Space) the bot shares with the account."""
        if room.join_rule == "public":
            return True
        # Asked of the server, not of the synced copy: a room the bot has just made (`!ag
        # room`) may not show its join rule in the bot's sync yet.
        resp = await self.client.room_get_state_event(room.room_id, "m.room.join_rules")
        if not isinstance(resp, nio.RoomGetStateEventResponse):
            return False
        if resp.content.get("join_rule") == "public":
            return True
        if resp.content.get("join_rule") not in RESTRICTED:
            return False
        allow = resp.content.get("allow", [])
        for rule in allow if isinstance(allow, list) else []:
            if not isinstance(rule, dict) or rule.get("type") != "m.room_membership":
                continue
            other = self.client.rooms.get(str(rule.get("room_id", "")))
            if other is not None and user_id in other.users and user_id not in other.invited_users:
                return True
        return False

    async def remove_member(self, chat: ChatRef, account: AccountRef) -> bool:
        """Kick the account (it may be invited back); False if it was not in the room."""
        room = self.joined_room(chat, ChatRight.REMOVE)
        user_id = account.external_id
        if user_id not in room.users:
            return False
        mine = await self.power(room)
        if mine < room.power_levels.defaults.kick:
            raise MissingRight(ChatRight.REMOVE, chat)
        if mine <= await self.level_of(room, user_id):
            # A moderator or the room's creator: no right of the bot's can remove them (as
            # a Telegram group's admins), so nothing is missing; they stay.
            log.info("matrix: someone of equal or higher power was not removed")
            return False
        client = self.client
        await self.refusable(
            lambda: client.room_kick(room.room_id, user_id),
            nio.RoomKickResponse,
            "kick",
            lambda: MissingRight(ChatRight.REMOVE, chat),
            chat,
        )
        log.info(
            "matrix: removed %s from %s",
            pseudonym(PLATFORM, user_id),
            pseudonym(PLATFORM, room.room_id),
        )
        return True

    def right_hint(self, right: ChatRight) -> str:
        return _HINTS.get(right, "")
