"""Native Matrix polls for the transport: send, close, live responses and catching up.

Why it looks the way it does:
- A response is understood by the poll it refers to; the bot's own start event is read
  back from the homeserver when it is not cached, so votes count after a restart too.
- Responses from the backlog are not taken live (like commands): `fetch_poll_votes` reads
  the poll's relations instead, which the poll handlers do at start; a gap in a busy room's
  timeline (a limited sync) makes the transport read them again by itself.
- Matrix cannot hide who answered: responses are room events everyone in the room can read.
  An anonymous poll is sent `undisclosed` (Element hides the tally until the end); whether
  to send anonymous polls natively at all is for the poll handlers to decide.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any

import nio
from nio.api import RelationshipType
from nio.responses import RoomEventRelationsResponse

from bot.core import ChatRef, PollSpec, PollVote, SentPoll
from bot.logs import pseudonym
from bot.rich import Rich
from bot.transports.matrix.events import (
    LRU,
    EventReader,
    Serial,
    sub_key,
    timestamp,
    type_and_content,
)
from bot.transports.matrix.polls import (
    END_TYPES,
    POLL_END,
    POLL_START,
    RESPONSE_TYPES,
    START_TYPES,
    PollDef,
    Response,
    end_cutoff,
    latest_responses,
    parse_poll_start,
    poll_end_content,
    poll_start_content,
    referenced_event,
    response_answers,
)
from bot.transports.matrix.send import MatrixSendError
from bot.transports.matrix.text import PLATFORM

if TYPE_CHECKING:
    from bot.transports.matrix.host import MatrixHost

log = logging.getLogger(__name__)

RELATIONS_PAGE = 100
NOT_OURS = PollDef(())  # cached answer for events that are no poll of the bot


class MatrixPolls:
    def __init__(self, transport: MatrixHost) -> None:
        self.t = transport
        self._reader = EventReader(transport)
        self._serial = Serial(transport.spawn)
        self._polls: LRU[str, PollDef] = LRU()
        self._open: LRU[str, str] = LRU()  # start event id -> room, for catching up

    async def send_poll(self, chat: ChatRef, poll: PollSpec, *, key: str | None = None) -> SentPoll:
        content = poll_start_content(poll)  # ValueError for more than 20 answers
        event_id = await self.t.send_event(chat.id, POLL_START, content, sub_key("poll", key))
        parsed = parse_poll_start(content, self.t.user_id)
        if parsed is not None:
            self._polls.put(event_id, parsed)
            self._open.put(event_id, chat.id)
        return SentPoll(chat, event_id, event_id)

    async def close_poll(self, sent: SentPoll, result: Rich, *, key: str | None = None) -> None:
        """The end event only: the merged result is posted by the poll handlers, once for
        every network, so no second notice here (Element marks the poll ended by itself)."""
        if not sent.native_id:
            raise ValueError("this poll was not sent as a Matrix poll")
        content = poll_end_content(sent.native_id, result)
        await self.t.send_event(sent.chat.id, POLL_END, content, sub_key("poll-end", key))
        self._open.pop(sent.native_id)

    async def fetch_poll_votes(self, sent: SentPoll) -> list[PollVote]:
        """Each person's counting response, read from the poll's relations (Element's rules).

        Raises MatrixSendError if the homeserver cannot be read, so a caller catching up
        after a restart knows the catch-up failed rather than seeing "no votes".
        """
        room_id, start_id = sent.chat.id, sent.native_id
        if not start_id:
            return []
        poll = await self._poll(room_id, start_id)
        if poll is None:
            raise MatrixSendError(f"poll {start_id} cannot be read")
        if poll is NOT_OURS:
            return []
        responses: list[Response] = []
        ends: list[Response] = []
        undecryptable = 0
        async for order, event in self._relations(room_id, start_id):
            readable = self._reader.readable(event)
            if readable is None:
                undecryptable += 1
                continue
            kind, content = type_and_content(readable)
            sender, ts = str(readable.sender), int(readable.server_timestamp)
            if kind in RESPONSE_TYPES and sender != self.t.user_id:
                answers = response_answers(content)
                responses.append(Response(sender, ts, answers, str(readable.event_id), order))
            elif kind in END_TYPES:
                ends.append(Response(sender, ts, None, str(readable.event_id), order))
        if undecryptable:
            log.warning(
                "matrix: %d poll responses in %s not decryptable",
                undecryptable,
                pseudonym(PLATFORM, room_id),
            )
        room = self.t.client.rooms.get(room_id)
        may_redact = {e.sender for e in ends if _may_redact(room, e.sender)}
        cutoff = end_cutoff(ends, poll, may_redact)
        return [self._vote(room, start_id, poll, r) for r in latest_responses(responses, cutoff)]

    def _vote(
        self, room: nio.MatrixRoom | None, start_id: str, poll: PollDef, resp: Response
    ) -> PollVote:
        return PollVote(
            PLATFORM,
            start_id,
            voter=self.t.user_ref(room, resp.sender),
            options=poll.indexes(resp.answers),
            at=timestamp(resp.ts),
            event_id=resp.event_id,
        )

    async def _relations(self, room_id: str, event_id: str) -> AsyncIterator[tuple[int, Any]]:
        """Every m.reference relation of the event, oldest first, page by page."""
        client = self.t.client
        token: str | None = None
        order = 0
        while True:
            method, path = nio.Api.room_get_event_relations(
                client.access_token,
                room_id,
                event_id,
                RelationshipType.reference,
                None,
                nio.MessageDirection.front,
                token,
                None,
                RELATIONS_PAGE,
            )

            def request(method: str = method, path: str = path) -> Awaitable[Any]:
                return client._send(  # nio's own iterator stops dead on an error page
                    RoomEventRelationsResponse, method, path, response_data=(room_id, event_id)
                )

            page = await self.t.retrying(request, RoomEventRelationsResponse, "read poll responses")
            for event in page.events:
                yield order, event
                order += 1
            if not page.next_batch or not page.events:
                return
            token = page.next_batch

    async def _poll(self, room_id: str, start_id: str) -> PollDef | None:
        """The bot's poll behind `start_id` (NOT_OURS for other events), or None if it
        cannot be read right now."""
        cached = self._polls.get(start_id)
        if cached is not None:
            return cached
        event = await self._reader.read(room_id, start_id)
        if event is None:
            return None
        kind, content = type_and_content(event)
        poll = parse_poll_start(content, str(event.sender)) if kind in START_TYPES else None
        if poll is None or poll.sender != self.t.user_id:
            poll = NOT_OURS
        self._polls.put(start_id, poll)
        return poll

    def on_event(self, room: nio.MatrixRoom, event: Any) -> None:
        """A live event of a type nio does not know; responses are queued per poll."""
        kind, content = type_and_content(event)
        start_id = referenced_event(content) if kind in RESPONSE_TYPES else None
        if start_id is not None:
            self._serial.run(start_id, lambda: self._take(room, event, start_id), "poll vote")

    async def _take(self, room: nio.MatrixRoom, event: Any, start_id: str) -> None:
        poll = await self._poll(room.room_id, start_id)
        if poll is None:
            log.warning("matrix: poll %s unreadable; response %s left", start_id, event.event_id)
            return
        inbox = self.t.inbox
        if poll is NOT_OURS or inbox is None:
            return
        self._open.put(start_id, room.room_id)  # a poll from before a restart, still open
        resp = Response(
            str(event.sender),
            int(event.server_timestamp),
            response_answers(type_and_content(event)[1]),
            str(event.event_id),
        )
        log.debug("matrix: response %s to poll %s", event.event_id, start_id)
        await inbox.poll_vote(self._vote(room, start_id, poll, resp))

    async def catch_up(self, room_id: str) -> None:
        """After a gap in the room's timeline, read the votes of the bot's open polls there
        again; the handlers take a vote they already have as unchanged."""
        inbox = self.t.inbox
        if inbox is None:
            return
        for start_id, poll_room in self._open.items():
            if poll_room == room_id:
                sent = SentPoll(ChatRef(PLATFORM, room_id), start_id, start_id)
                for vote in await self.fetch_poll_votes(sent):
                    await inbox.poll_vote(vote)


def _may_redact(room: nio.MatrixRoom | None, user_id: str) -> bool:
    """Element takes an end from someone who may redact others' events as valid."""
    if room is None:
        return False
    try:
        return bool(room.power_levels.can_user_redact(user_id))
    except AttributeError:
        return False
