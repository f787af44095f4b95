"""The queries of the way into an AG's chats and out of them: the invite link kept per
chat, who a join request comes from, and whether someone leaving one AG still belongs in
a chat through another.

A Telegram forum topic is stored as its own chat, "<group id>/<thread id>"; a join
request or a removal concerns the whole group, so `_same_group` matches the group's own
row and the rows of all its topics.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Account, Ag, AgChat, Chat, Membership, Role

TOPIC_SEPARATOR = "/"


def group_of(external_id: str) -> str:
    """The chat a topic belongs to ("-100123/77" -> "-100123"); other ids unchanged."""
    return external_id.split(TOPIC_SEPARATOR, 1)[0]


def _same_group(platform: str, external_id: str) -> ColumnElement[bool]:
    group = group_of(external_id)
    return (Chat.platform == platform) & or_(
        Chat.external_id == group,
        Chat.external_id.startswith(group + TOPIC_SEPARATOR, autoescape=True),
    )


async def set_invite_link(session: AsyncSession, chat_row_id: int, link: str | None) -> None:
    """Keep the link made for the chat, so the next member gets the same one."""
    await session.execute(update(Chat).where(Chat.id == chat_row_id).values(invite_link=link))


async def group_invite_link(session: AsyncSession, platform: str, external_id: str) -> str | None:
    """A link kept for another topic of the same group (or the group itself): one group,
    one link, whichever AG's topic it was made for."""
    found = await session.scalar(
        select(Chat.invite_link)
        .where(_same_group(platform, external_id), Chat.invite_link.is_not(None))
        .order_by(Chat.id)
        .limit(1)
    )
    return found


@dataclass(frozen=True)
class RequestFacts:
    """What decides a join request: the AGs linked to the chat (or any of its topics),
    their chats there, and those of the AGs the requester belongs to."""

    ags: list[Ag]
    links: list[tuple[int, Chat]]  # (AG id, chat) for each link in the group
    member_of: list[Ag]

    def chats(self, ag_id: int | None = None) -> list[Chat]:
        """The linked chats of the group (of one AG where given), each once."""
        found = {c.id: c for a, c in self.links if ag_id is None or a == ag_id}
        return list(found.values())


async def request_facts(
    session: AsyncSession, platform: str, external_id: str, account_id: str
) -> RequestFacts:
    rows = (
        await session.execute(
            select(Ag, Chat)
            .join(AgChat, AgChat.ag_id == Ag.id)
            .join(Chat, Chat.id == AgChat.chat_id)
            .where(_same_group(platform, external_id), Ag.archived.is_(False))
            .order_by(Ag.slug, Chat.id)
        )
    ).all()
    ags = list({ag.id: ag for ag, _ in rows}.values())
    links = [(ag.id, chat) for ag, chat in rows]
    member_ids = set(
        await session.scalars(
            select(Membership.ag_id)
            .join(Account, Account.person_id == Membership.person_id)
            .where(
                Account.platform == platform,
                Account.external_id == account_id,
                Membership.ag_id.in_([ag.id for ag in ags]),
            )
        )
    )
    return RequestFacts(ags, links, [ag for ag in ags if ag.id in member_ids])


async def still_belongs(
    session: AsyncSession, person_id: int, chat: Chat, leaving_ag_id: int
) -> bool:
    """Whether the person is in another AG linked to the chat (or to another topic of
    the same group), so leaving one AG must not remove them from it."""
    found = await session.scalar(
        select(Membership.ag_id)
        .join(AgChat, AgChat.ag_id == Membership.ag_id)
        .join(Chat, Chat.id == AgChat.chat_id)
        .where(
            Membership.person_id == person_id,
            Membership.ag_id != leaving_ag_id,
            _same_group(chat.platform, chat.external_id),
        )
        .limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class AgCounts:
    members: int
    leads: int


async def counts(session: AsyncSession, ag_id: int) -> AgCounts:
    roles = list(await session.scalars(select(Membership.role).where(Membership.ag_id == ag_id)))
    return AgCounts(len(roles), sum(1 for role in roles if role == Role.LEAD.value))
