"""Making the alliance's places on Matrix: the Space (`/space`) and a room per AG inside it
(`/ag room`), encrypted, listed in the Space (`m.space.child`, which needs the bot's power
level there) and pointing back at it (`m.space.parent`), and joinable by the Space's
members without an invitation where the server's room versions allow restricted joins."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import nio

from bot.core import ChatRef
from bot.logs import pseudonym
from bot.spaces import OutsideSpace, SpaceError, SpaceProblem
from bot.transports.matrix.power import MatrixPower
from bot.transports.matrix.private import encryption_state
from bot.transports.matrix.text import PLATFORM

log = logging.getLogger(__name__)

FIRST_RESTRICTED = 8  # the first room version with the `restricted` join rule
FALLBACK_VERSION = "10"
SPACE_TYPE = "m.space"


def room_link(room_id: str, server: str) -> str:
    """A matrix.to link to a room, through the bot's server."""
    return f"https://matrix.to/#/{quote(room_id, safe='!')}?via={quote(server, safe='')}"


def restricted_version(capabilities: dict[str, Any]) -> str | None:
    """The room version to make an AG room with so that restricted joins work: the server's
    default where it supports them, else "10", else the newest stable one that does; None
    if none does (the room is then invite-only)."""
    versions = capabilities.get("m.room_versions", {})
    default = str(versions.get("default", ""))
    available = versions.get("available", {})
    stable = (
        [v for v, s in available.items() if s == "stable"] if isinstance(available, dict) else []
    )

    def restricts(version: str) -> bool:
        return version.isdecimal() and int(version) >= FIRST_RESTRICTED

    if restricts(default):
        return default
    if FALLBACK_VERSION in stable:
        return FALLBACK_VERSION
    candidates = sorted((v for v in stable if restricts(v)), key=int)
    return candidates[-1] if candidates else None


class MatrixRooms(MatrixPower):
    """Spaces (bot.spaces.Spaces) and AG rooms, mixed into `MatrixTransport`."""

    def link_to(self, chat: ChatRef) -> str:
        return room_link(chat.id, self.settings.server_name)

    async def find_space(self, ref: str) -> ChatRef:
        ref = ref.strip()
        client = self.client
        if ref.startswith("#") and ":" in ref:
            resolved = await client.room_resolve_alias(ref)
            if not isinstance(resolved, nio.RoomResolveAliasResponse):
                raise SpaceError(SpaceProblem.UNKNOWN, ref)
            room_id = resolved.room_id
        elif ref.startswith("!") and len(ref) > 1 and not any(ch.isspace() for ch in ref):
            # Since room version 12 a room id has no server part.
            room_id = ref
        else:
            raise SpaceError(SpaceProblem.UNKNOWN, ref)
        joined_now = room_id not in client.rooms
        if joined_now:
            joined = await self.sender.retrying(
                lambda: client.join(room_id), nio.JoinResponse, "join space",
                done=lambda r: isinstance(r, nio.ErrorResponse),
            )  # fmt: skip
            if not isinstance(joined, nio.JoinResponse):
                raise SpaceError(SpaceProblem.NOT_JOINED, ref)
            await self.syncer.wait_for_room(room_id)
        room = client.rooms[room_id]
        if room.room_type != SPACE_TYPE:
            if joined_now:  # joined only to look: a public room the bot does not belong in
                await self._leave_quietly(room_id)
            raise SpaceError(SpaceProblem.NOT_A_SPACE, ref)
        return ChatRef(PLATFORM, room_id, False, room.display_name)

    async def _leave_quietly(self, room_id: str) -> None:
        resp = await self.client.room_leave(room_id)
        if isinstance(resp, nio.ErrorResponse):
            log.warning("matrix: could not leave a room that is no space: %s", resp.status_code)

    async def create_space(self, name: str) -> ChatRef:
        client = self.client
        resp = await self.sender.retrying(
            lambda: client.room_create(name=name, space=True, preset=nio.RoomPreset.private_chat),
            nio.RoomCreateResponse,
            "create space",
        )
        room_id = str(resp.room_id)
        await self.syncer.wait_for_room(room_id)
        log.info("matrix: created the space %s", pseudonym(PLATFORM, room_id))
        return ChatRef(PLATFORM, room_id, False, name)

    async def create_room(self, name: str, topic: str, *, space: str | None) -> ChatRef:
        """An encrypted room for an AG; in `space` (a room id the bot is in) where given.
        Raises `OutsideSpace` (the room made) when the bot may not list it in the Space."""
        server = self.settings.server_name
        state = encryption_state()
        version = None
        if space is not None:
            state.append(
                {
                    "type": "m.space.parent",
                    "state_key": space,
                    "content": {"via": [server], "canonical": True},
                }
            )
            version = restricted_version(await self._capabilities())
            if version is not None:
                allow = [{"type": "m.room_membership", "room_id": space}]
                state.append(
                    {
                        "type": "m.room.join_rules",
                        "state_key": "",
                        "content": {"join_rule": "restricted", "allow": allow},
                    }
                )
        client = self.client
        resp = await self.sender.retrying(
            lambda: client.room_create(
                name=name,
                topic=topic or None,
                room_version=version,
                preset=nio.RoomPreset.private_chat,
                initial_state=state,
            ),
            nio.RoomCreateResponse,
            "create room",
        )
        room_id = str(resp.room_id)
        await self.syncer.wait_for_room(room_id)
        room = ChatRef(PLATFORM, room_id, False, name)
        log.info("matrix: created the room %s", pseudonym(PLATFORM, room_id))
        if space is not None:
            await self._add_child(space, room)
        return room

    async def _add_child(self, space_id: str, room: ChatRef) -> None:
        space_room = self.client.rooms.get(space_id)
        space = ChatRef(PLATFORM, space_id, False, space_room.display_name if space_room else None)
        if space_room is None or not await self.may_send_state(space_room, "m.space.child"):
            raise OutsideSpace(space, room)
        client = self.client
        content = {"via": [self.settings.server_name]}
        await self.refusable(
            lambda: client.room_put_state(space_id, "m.space.child", content, state_key=room.id),
            nio.RoomPutStateResponse,
            "add to space",
            lambda: OutsideSpace(space, room),
            space,
        )

    async def _capabilities(self) -> dict[str, Any]:
        """The server's capabilities (room versions); empty where it does not say."""
        client = self.client
        try:
            resp = await client.send(
                "GET",
                "/_matrix/client/v3/capabilities",
                headers={"Authorization": f"Bearer {client.access_token}"},
            )
            try:
                body = json.loads(await resp.text()) if resp.status == 200 else {}
            finally:
                resp.release()
        except Exception as exc:
            log.warning("matrix: could not read the server's capabilities: %r", exc)
            return {}
        found = body.get("capabilities", {}) if isinstance(body, dict) else {}
        return found if isinstance(found, dict) else {}
