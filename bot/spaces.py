"""The seam for the alliance's Space (Matrix): finding the Space an admin names, making a
new one, and linking to rooms. Nothing here knows Matrix; a transport that has Spaces
implements `Spaces`, and handlers find it with `spaces(...)`, never by platform name."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from bot.admission import ChatRight, MissingRight
from bot.core import ChatRef, Transport


class SpaceProblem(enum.StrEnum):
    UNKNOWN = "unknown"  # no such alias or room
    NOT_JOINED = "not_joined"  # the bot is not in it and cannot join
    NOT_A_SPACE = "not_a_space"  # a room, not a Space


class SpaceError(Exception):
    """The named Space cannot be used (`problem` says why)."""

    def __init__(self, problem: SpaceProblem, ref: str) -> None:
        super().__init__(f"space {ref}: {problem.value}")
        self.problem = problem
        self.ref = ref


class OutsideSpace(MissingRight):
    """A room was made, but the bot may not add it to the Space (`chat`): `room` is the new
    room, without the Space's `m.space.child` entry."""

    def __init__(self, space: ChatRef, room: ChatRef) -> None:
        super().__init__(ChatRight.SPACE_CHILD, space)
        self.room = room


@runtime_checkable
class Spaces(Protocol):
    platform: str

    async def find_space(self, ref: str) -> ChatRef:
        """The Space `ref` (an alias or a room id) names, joined if the bot may; raises
        `SpaceError`."""

    async def create_space(self, name: str) -> ChatRef:
        """A new Space (invite-only) that the bot runs."""

    def link_to(self, chat: ChatRef) -> str:
        """A link that opens the room or Space in people's clients."""


def spaces(transports: Iterable[Transport]) -> Spaces | None:
    """The running transport that has Spaces, if any."""
    return next((t for t in transports if isinstance(t, Spaces)), None)
