"""Invites to rooms: join when an allowed inviter asks, decline otherwise, one answer per
room at a time (a sync may bring the same invite again while the answer is under way)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import nio

from bot.logs import pseudonym
from bot.transports.matrix.send import MatrixSendError
from bot.transports.matrix.text import PLATFORM, inviter_allowed

if TYPE_CHECKING:
    from bot.transports.matrix.host import MatrixHost

log = logging.getLogger(__name__)


class Invites:
    def __init__(self, transport: MatrixHost, allowed_inviters: Sequence[str]) -> None:
        self.t = transport
        self.allowed_inviters = allowed_inviters
        self._handled: set[str] = set()

    def on_invite(self, room: nio.MatrixRoom, event: nio.InviteMemberEvent) -> None:
        try:
            if event.state_key != self.t.user_id or event.membership != "invite":
                return
            if room.room_id in self._handled:
                return
            self._handled.add(room.room_id)
            if inviter_allowed(event.sender, self.allowed_inviters):
                log.info(
                    "matrix: joining %s, invited by %s",
                    pseudonym(PLATFORM, room.room_id),
                    pseudonym(PLATFORM, event.sender),
                )
                self.t.spawn(self._answer(room.room_id, join=True), "join")
            else:
                log.info(
                    "matrix: declining the invite to %s from %s (not an allowed inviter)",
                    pseudonym(PLATFORM, room.room_id),
                    pseudonym(PLATFORM, event.sender),
                )
                self.t.spawn(self._answer(room.room_id, join=False), "decline")
        except Exception:
            log.exception(
                "matrix: could not handle the invite to %s", pseudonym(PLATFORM, room.room_id)
            )

    async def _answer(self, room_id: str, *, join: bool) -> None:
        client = self.t.client
        try:
            if join:
                await self.t.retrying(lambda: client.join(room_id), nio.JoinResponse, "join")
            else:
                await self.t.retrying(
                    lambda: client.room_leave(room_id), nio.RoomLeaveResponse, "decline"
                )
        except MatrixSendError as exc:
            log.warning(
                "matrix: could not answer the invite to %s: %s", pseudonym(PLATFORM, room_id), exc
            )
        finally:
            self._handled.discard(room_id)
