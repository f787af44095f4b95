"""End-to-end encryption housekeeping: encrypted events that arrive before their room key
wait here until the key comes (then they are handled as if just received), and devices
seen for the first time are trusted (trust on first use)."""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

import nio

from bot.logs import pseudonym
from bot.transports.matrix.text import PLATFORM

if TYPE_CHECKING:
    from bot.transports.matrix.host import MatrixHost

log = logging.getLogger(__name__)

MAX_UNDECRYPTED = 200  # events kept waiting for their keys, oldest dropped first


class RoomKeys:
    def __init__(self, transport: MatrixHost) -> None:
        self.t = transport
        self._waiting: OrderedDict[str, list[tuple[nio.MatrixRoom, nio.MegolmEvent]]] = (
            OrderedDict()
        )

    async def on_undecryptable(self, room: nio.MatrixRoom, event: nio.MegolmEvent) -> None:
        """Keep the event, ask for its key; `on_room_key` hands it on once the key comes."""
        try:
            if not self.t.is_live(room.room_id):
                return
            log.debug(
                "matrix: cannot decrypt %s in %s yet; requesting the room key",
                event.event_id,
                pseudonym(PLATFORM, room.room_id),
            )
            self._waiting.setdefault(event.session_id, []).append((room, event))
            while sum(len(v) for v in self._waiting.values()) > MAX_UNDECRYPTED:
                self._waiting.popitem(last=False)
            self.t.spawn(self._request_key(event), "room key request")
        except Exception:
            log.exception("matrix: could not handle undecryptable event %s", event.event_id)

    async def _request_key(self, event: nio.MegolmEvent) -> None:
        with contextlib.suppress(nio.LocalProtocolError):  # already requested
            await self.t.client.request_room_key(event)

    async def on_room_key(self, event: nio.RoomKeyEvent) -> None:
        try:
            for room, megolm in self._waiting.pop(event.session_id, []):
                try:
                    decrypted = self.t.client.decrypt_event(megolm)
                except nio.EncryptionError:
                    log.debug("matrix: key for %s still does not fit", megolm.event_id)
                    continue
                await self.t.take_decrypted(room, decrypted)
        except Exception:
            log.exception("matrix: could not use a received room key")

    async def on_keys_query(self, _resp: nio.KeysQueryResponse) -> None:
        """Trust on first use: a device seen for the first time is taken as verified.

        Sends go out with `ignore_unverified_devices` anyway; marking devices keeps nio from
        treating every new member's device as suspicious. nio keeps a device's first keys
        and ignores changed ones, which is what makes this trust *on first use*.
        """
        client = self.t.client
        try:
            for device in client.device_store:
                if device.user_id == self.t.user_id and device.id == client.device_id:
                    continue
                if device.deleted or device.verified or device.blacklisted or device.ignored:
                    continue
                client.verify_device(device)
        except Exception:
            log.exception("matrix: could not mark devices as trusted")
