"""Queries. Each function takes the session of the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    CHAT_TITLE_MAX,
    DISPLAY_NAME_MAX,
    Account,
    Ag,
    AgChat,
    Chat,
    Membership,
    Person,
    Role,
    utcnow,
)
from storage.text import visible

# The session of a caller's transaction, for code outside storage/ that passes one along
# (a feature's clean-up inside another feature's transaction) without naming sqlalchemy.
Session = AsyncSession


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- people and accounts -------------------------------------------------------------


async def find_account(session: AsyncSession, platform: str, external_id: str) -> Account | None:
    return await session.scalar(
        select(Account).where(Account.platform == platform, Account.external_id == external_id)
    )


async def ensure_account(
    session: AsyncSession,
    platform: str,
    external_id: str,
    display_name: str,
    username: str | None = None,
) -> Account:
    """The account of this network id, created with a new person on first contact."""
    display_name = visible(display_name)[:DISPLAY_NAME_MAX] or external_id[:DISPLAY_NAME_MAX]
    account = await find_account(session, platform, external_id)
    if account is None:
        person = Person()
        session.add(person)
        await session.flush()
        account = Account(
            person_id=person.id,
            platform=platform,
            external_id=external_id,
            display_name=display_name,
            username=username,
            direct_reachable=False,
        )
        session.add(account)
        await session.flush()
    elif account.display_name != display_name or account.username != username:
        account.display_name = display_name
        account.username = username
    return account


async def accounts_by_username(
    session: AsyncSession, platform: str | None, username: str
) -> list[Account]:
    """Accounts by username, written with or without the leading @ (Matrix ids have it);
    on one network, or on all of them with `platform=None`."""
    bare = username.lstrip("@").lower()
    query = select(Account).where(func.lower(Account.username).in_((bare, "@" + bare)))
    if platform is not None:
        query = query.where(Account.platform == platform)
    return list(await session.scalars(query.order_by(Account.id)))


async def accounts_of(session: AsyncSession, person_id: int) -> list[Account]:
    rows = await session.scalars(
        select(Account).where(Account.person_id == person_id).order_by(Account.id)
    )
    return list(rows)


async def set_language(session: AsyncSession, person_id: int, language: str | None) -> None:
    await session.execute(update(Person).where(Person.id == person_id).values(language=language))


async def person_language(session: AsyncSession, person_id: int) -> str | None:
    return await session.scalar(select(Person.language).where(Person.id == person_id))


@dataclass(frozen=True)
class KnownSender:
    """What every command needs to know about its sender, read in one query."""

    person_id: int
    language: str | None
    direct_reachable: bool


async def known_sender(
    session: AsyncSession, platform: str, external_id: str
) -> KnownSender | None:
    row = (
        await session.execute(
            select(Account.person_id, Person.language, Account.direct_reachable)
            .join(Person, Person.id == Account.person_id)
            .where(Account.platform == platform, Account.external_id == external_id)
        )
    ).first()
    return KnownSender(row[0], row[1], bool(row[2])) if row else None


async def set_direct_reachable(
    session: AsyncSession, platform: str, external_id: str, reachable: bool
) -> None:
    await session.execute(
        update(Account)
        .where(Account.platform == platform, Account.external_id == external_id)
        .values(direct_reachable=reachable)
    )


# --- AGs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgSummary:
    ag: Ag
    members: int


async def list_ags(session: AsyncSession, *, include_archived: bool = False) -> list[AgSummary]:
    count = select(func.count()).where(Membership.ag_id == Ag.id).correlate(Ag).scalar_subquery()
    query = select(Ag, count).order_by(Ag.slug)
    if not include_archived:
        query = query.where(Ag.archived.is_(False))
    return [AgSummary(ag, n) for ag, n in (await session.execute(query)).all()]


async def all_ags(session: AsyncSession, *, include_archived: bool = False) -> list[Ag]:
    query = select(Ag).order_by(Ag.slug)
    if not include_archived:
        query = query.where(Ag.archived.is_(False))
    return list(await session.scalars(query))


async def ag_by_slug(session: AsyncSession, slug: str) -> Ag | None:
    return await session.scalar(select(Ag).where(Ag.slug == slug))


async def ag_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Ag)) or 0)


# --- memberships ---------------------------------------------------------------------


async def membership(session: AsyncSession, person_id: int, ag_id: int) -> Membership | None:
    return await session.get(Membership, (person_id, ag_id))


# Joining and leaving are what people do most: their statements are built once per
# dialect, on the table rather than the mapped class, which spares SQLAlchemy's ORM
# layer (about a third of the time of a join).
_MEMBERSHIP = cast(Table, Membership.__table__)
_JOIN: dict[str, Any] = {}
_THIS_MEMBERSHIP = and_(
    _MEMBERSHIP.c.person_id == bindparam("person"), _MEMBERSHIP.c.ag_id == bindparam("ag")
)
_LEAVE = delete(_MEMBERSHIP).where(_THIS_MEMBERSHIP).returning(_MEMBERSHIP.c.role)


def join_statement(dialect: str) -> Any:
    """The INSERT of a membership that does nothing when it exists (`person`, `ag`, `at`)."""
    stmt = _JOIN.get(dialect)
    if stmt is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = _JOIN[dialect] = (
            insert(_MEMBERSHIP)
            .values(
                person_id=bindparam("person"),
                ag_id=bindparam("ag"),
                role=Role.MEMBER.value,
                joined_at=bindparam("at"),
            )
            .on_conflict_do_nothing()
        )
    return stmt


async def join(session: AsyncSession, person_id: int, ag_id: int) -> bool:
    """Add the membership; False if it already existed (safe under concurrent joins)."""
    stmt = join_statement(session.get_bind().dialect.name)
    result = await session.execute(stmt, {"person": person_id, "ag": ag_id, "at": utcnow()})
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def leave(session: AsyncSession, person_id: int, ag_id: int) -> str | None:
    """Remove the membership; the role it had, or None if there was none."""
    if session.get_bind().dialect.delete_returning:
        result = await session.execute(_LEAVE, {"person": person_id, "ag": ag_id})
        return result.scalar()
    params = {"person": person_id, "ag": ag_id}  # SQLite before 3.35
    role: str | None = await session.scalar(
        select(_MEMBERSHIP.c.role).where(_THIS_MEMBERSHIP), params
    )
    if role is not None:
        await session.execute(delete(_MEMBERSHIP).where(_THIS_MEMBERSHIP), params)
    return role


async def set_role(session: AsyncSession, person_id: int, ag_id: int, role: Role) -> bool:
    """Give a role, joining the person to the AG if needed; False if it was already so."""
    current = await membership(session, person_id, ag_id)
    if current is None:
        session.add(Membership(person_id=person_id, ag_id=ag_id, role=role.value))
        return True
    if current.role == role.value:
        return False
    current.role = role.value
    return True


async def memberships_of(session: AsyncSession, person_id: int) -> list[tuple[Ag, str]]:
    rows = await session.execute(
        select(Ag, Membership.role)
        .join(Membership, Membership.ag_id == Ag.id)
        .where(Membership.person_id == person_id)
        .order_by(Ag.slug)
    )
    return [(ag, role) for ag, role in rows.all()]


@dataclass(frozen=True)
class MemberRow:
    person_id: int
    role: str
    accounts: list[Account]


async def members_of(session: AsyncSession, ag_id: int) -> list[MemberRow]:
    """The AG's members, leads first, then by name."""
    leads_first = case((Membership.role == Role.LEAD.value, 0), else_=1)
    rows = (
        await session.execute(
            select(Membership.person_id, Membership.role, Account)
            .join(Account, Account.person_id == Membership.person_id)
            .where(Membership.ag_id == ag_id)
            .order_by(leads_first, func.lower(Account.display_name), Account.id)
        )
    ).all()
    by_person: dict[int, MemberRow] = {}
    for person_id, role, account in rows:
        by_person.setdefault(person_id, MemberRow(person_id, role, [])).accounts.append(account)
    return list(by_person.values())


async def count_leads(session: AsyncSession, ag_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                Membership.ag_id == ag_id, Membership.role == Role.LEAD.value
            )
        )
        or 0
    )


# --- chats ---------------------------------------------------------------------------


async def find_chat(session: AsyncSession, platform: str, external_id: str) -> Chat | None:
    return await session.scalar(
        select(Chat).where(Chat.platform == platform, Chat.external_id == external_id)
    )


async def ensure_chat(
    session: AsyncSession, platform: str, external_id: str, title: str | None, is_direct: bool
) -> Chat:
    chat = await find_chat(session, platform, external_id)
    title = (visible(title)[:CHAT_TITLE_MAX] or None) if title else None
    if chat is None:
        chat = Chat(platform=platform, external_id=external_id, title=title, is_direct=is_direct)
        session.add(chat)
        await session.flush()
    elif title and chat.title != title:
        chat.title = title
    return chat


async def linked_ags(
    session: AsyncSession, platform: str, external_id: str, *, include_archived: bool = False
) -> list[Ag]:
    query = (
        select(Ag)
        .join(AgChat, AgChat.ag_id == Ag.id)
        .join(Chat, Chat.id == AgChat.chat_id)
        .where(Chat.platform == platform, Chat.external_id == external_id)
        .order_by(Ag.slug)
    )
    if not include_archived:
        query = query.where(Ag.archived.is_(False))
    return list(await session.scalars(query))


async def chats_of_ag(session: AsyncSession, ag_id: int) -> list[Chat]:
    rows = await session.scalars(
        select(Chat)
        .join(AgChat, AgChat.chat_id == Chat.id)
        .where(AgChat.ag_id == ag_id)
        .order_by(Chat.platform, Chat.id)
    )
    return list(rows)


async def link(session: AsyncSession, ag_id: int, chat_id: int) -> bool:
    result = await session.execute(
        _insert(session)(AgChat).values(ag_id=ag_id, chat_id=chat_id).on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def unlink(session: AsyncSession, ag_id: int, chat_id: int) -> bool:
    result = await session.execute(
        delete(AgChat).where(and_(AgChat.ag_id == ag_id, AgChat.chat_id == chat_id))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def migrate_chat(session: AsyncSession, platform: str, old_id: str, new_id: str) -> bool:
    """Move a chat to its new network id, keeping its links and settings; the chats
    within it (Telegram forum topics, kept as "<chat id>/<thread id>") move along.

    If the new id is already known (a message from the supergroup arrived first), the
    old chat's links are merged into it.
    """
    moved = await _move_chat(session, platform, old_id, new_id)
    prefix = f"{old_id}/"
    inner = await session.scalars(
        select(Chat.external_id).where(
            Chat.platform == platform, Chat.external_id.startswith(prefix, autoescape=True)
        )
    )
    for external_id in list(inner):
        rest = external_id[len(prefix) :]
        moved = await _move_chat(session, platform, external_id, f"{new_id}/{rest}") or moved
    return moved


async def _move_chat(session: AsyncSession, platform: str, old_id: str, new_id: str) -> bool:
    old = await find_chat(session, platform, old_id)
    if old is None:
        return False
    new = await find_chat(session, platform, new_id)
    if new is None:
        old.external_id = new_id
        old.is_direct = False
        return True
    links: Sequence[int] = list(
        await session.scalars(select(AgChat.ag_id).where(AgChat.chat_id == old.id))
    )
    for ag_id in links:
        await link(session, ag_id, new.id)
    if new.language is None:
        new.language = old.language
    await session.delete(old)
    return True
