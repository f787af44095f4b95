"""A fake Matrix network with Spaces and doors, for chat tests of `/space` and `/ag room`
without a homeserver (tests/test_matrix_space.py runs the real one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.admission import NoDoors, Way, WayKind
from bot.core import ChatRef
from bot.rich import AccountRef
from bot.spaces import OutsideSpace, SpaceError, SpaceProblem
from tests.support.fake import FakeTransport


@dataclass
class FakeMatrix(NoDoors, FakeTransport):
    platform: str = "matrix"
    command_prefix: str = "!"
    spaces: dict[str, ChatRef] = field(default_factory=dict)  # alias or id -> the Space
    plain_rooms: set[str] = field(default_factory=set)  # rooms that are no Space
    may_add_children: bool = True
    made: list[tuple[str, str, str | None]] = field(default_factory=list)  # name, topic, space
    invited: list[tuple[str, str]] = field(default_factory=list)  # room id, user id

    def add_space(self, ref: str, room_id: str, title: str) -> None:
        self.spaces[ref] = self.spaces[room_id] = ChatRef("matrix", room_id, False, title)

    async def find_space(self, ref: str) -> ChatRef:
        if ref in self.spaces:
            return self.spaces[ref]
        problem = SpaceProblem.NOT_A_SPACE if ref in self.plain_rooms else SpaceProblem.UNKNOWN
        raise SpaceError(problem, ref)

    async def create_space(self, name: str) -> ChatRef:
        room_id = f"!space{len(self.spaces) + 1}"
        self.add_space(room_id, room_id, name)
        return self.spaces[room_id]

    def link_to(self, chat: ChatRef) -> str:
        return f"https://matrix.to/#/{chat.id}"

    async def create_room(self, name: str, topic: str, *, space: str | None) -> ChatRef:
        self.made.append((name, topic, space))
        room = ChatRef("matrix", f"!room{len(self.made)}", False, name)
        if space is not None and not self.may_add_children:
            raise OutsideSpace(self.spaces[space], room)
        return room

    async def let_in(self, chat: ChatRef, account: AccountRef, *, link: str | None) -> Way:
        self.invited.append((chat.id, account.external_id))
        return Way(chat, WayKind.INVITED)
