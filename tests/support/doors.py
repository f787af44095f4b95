"""A fake network with doors: records invitations, join-request answers and removals,
so the handlers' way in and out is tested without a network."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.admission import ChatRight, JoinAsked, MissingRight, NoDoors, Way, WayKind
from bot.core import ChatRef
from bot.rich import AccountRef
from tests.support.fake import FakeTransport


@dataclass
class DoorsTransport(FakeTransport, NoDoors):
    """`inside`: (chat id, account id) pairs already in a chat; `lacking`: (chat id, right)
    pairs the bot does not have. Invite links are made as `https://t.me/+fake<n>`."""

    inside: set[tuple[str, str]] = field(default_factory=set)
    lacking: set[tuple[str, ChatRight]] = field(default_factory=set)
    links_made: list[str] = field(default_factory=list)
    let_in_calls: list[tuple[str, str, str | None]] = field(default_factory=list)
    answers: list[tuple[str, str, bool]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)

    def _check(self, chat: ChatRef, right: ChatRight) -> None:
        if (chat.id, right) in self.lacking:
            raise MissingRight(right, chat)

    async def let_in(self, chat: ChatRef, account: AccountRef, *, link: str | None) -> Way:
        self.let_in_calls.append((chat.id, account.external_id, link))
        if (chat.id, account.external_id) in self.inside:
            return Way(chat, WayKind.ALREADY)
        self._check(chat, ChatRight.INVITE)
        if link is None:
            link = f"https://t.me/+fake{len(self.links_made) + 1}"
            self.links_made.append(link)
        return Way(chat, WayKind.LINK, link)

    async def answer_join_request(self, request: JoinAsked, approve: bool) -> None:
        self._check(request.chat, ChatRight.INVITE)
        self.answers.append((request.chat.id, request.user.id, approve))

    async def remove_member(self, chat: ChatRef, account: AccountRef) -> bool:
        self._check(chat, ChatRight.REMOVE)
        if (chat.id, account.external_id) not in self.inside:
            return False
        self.inside.discard((chat.id, account.external_id))
        self.removed.append((chat.id, account.external_id))
        return True
