"""Every table that refers to a person or an account is in `/mydata` and gone after
`/forget` (issue 11, item 10), so a new table cannot be forgotten.

The rule (also in storage/privacy/mydata.py): a column refers to a person when it has a
foreign key to `person` or is named `person_id`; to an account when it has a foreign key
to `account` or is named `account_id`; and to an account's keyed hash when it is marked
`info={"account_hash": True}`. The `person` and `account` tables themselves count too.
A table with such a column must be in `MYDATA_SECTIONS`; the life below must
give the person a row in it; `/mydata` must show that row's section; `/forget` must leave
no row that refers to the person.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.polls.secret import voter_keys
from handlers.welcome.service import welcome_key
from storage import repo
from storage.connect.models import ConnectShare, ShareKind
from storage.models import Base
from storage.notices import rows as notices
from storage.notices.models import NoticeKind
from storage.polls.models import Poll
from storage.privacy.mydata import MYDATA_SECTIONS
from storage.web import tokens as web_tokens
from tests.support.fake import BotHarness
from tests.support.meetings import add_private_delivery
from tests.support.poll_chat import Clock, setup_ag, start_poll
from tests.support.storage_models import import_all
from tests.test_welcome import enters

WHO = "quirin"


def personal_columns() -> dict[str, list[tuple[str, str]]]:
    """Table -> its columns that refer to a person ("person"), an account ("account")
    or an account's keyed hash ("hash")."""
    import_all()
    found: dict[str, list[tuple[str, str]]] = {}
    for table in Base.metadata.tables.values():
        for column in table.columns:
            targets = {fk.column.table.name for fk in column.foreign_keys}
            kind = None
            if "person" in targets or column.name == "person_id":
                kind = "person"
            elif "account" in targets or column.name == "account_id":
                kind = "account"
            elif column.info.get("account_hash"):
                kind = "hash"
            elif table.name in ("person", "account") and column.name == "id":
                kind = table.name
            if kind is not None:
                found.setdefault(table.name, []).append((column.name, kind))
    return found


def test_every_personal_table_has_a_section_in_mydata() -> None:
    found = set(personal_columns())
    assert {"person", "account", "poll_ballot", "welcome_seen"} <= found
    missing = found - set(MYDATA_SECTIONS)
    assert not missing, f"/mydata and /forget do not know the tables {sorted(missing)}"
    assert not set(MYDATA_SECTIONS) - found, "a section for a table that is gone"


@pytest.fixture
async def bot_any(database_url: str) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.create(database_url)
    yield harness
    await harness.close()


async def full_life(bot: BotHarness) -> None:
    """A row of Quirin's in every table that can hold one."""
    bot.app.services.clock = Clock()  # Monday 30.11.2026: the meeting below is ahead
    bot.transport.capabilities = bot.transport.capabilities.__class__(
        html=True, mentions=True, native_polls=True, buttons=True, files=True
    )
    group = await setup_ag(bot, lead=WHO, members=("carl",))
    await enters(bot, group, WHO)
    dm = bot.dm(WHO)
    named = await start_poll(group, WHO, '/poll "Wann?" "Di" "Mi"')
    secret = await start_poll(group, WHO, '/poll "Wohin?" "Halle" "Leipzig" --anonymous')
    await dm.say(WHO, f"/vote {named} 1")
    await dm.say(WHO, f"/vote {secret} 2")
    await dm.say(WHO, "/card name Quirin Q.")
    await dm.say(WHO, "/meeting ag2 03.12.2026 18:00 Online-Treffen")
    await dm.say(WHO, "/rsvp m1 ja")
    [started, *_] = await dm.say(
        WHO, '/terminumfrage ag2 "Plenum" Do 3.12. 19 Uhr; Fr 4.12. 19 Uhr'
    )
    await dm.say(WHO, f"/termin {started.split()[2].rstrip(':')} 1 ja 2 nein")
    await dm.say(WHO, "/remind on")
    await dm.say(WHO, "/survey run")
    await bot.dm("admin").say("admin", "/ag policy ag1 anfrage")
    assert "Anfrage" in (await dm.say(WHO, "/join ag1"))[0]  # a join request
    await dm.say(WHO, "/connect ABCD-EFGH")  # a code that does not exist: a miss
    await dm.say(WHO, "/connect")
    await dm.say(WHO, "/forget")
    async with bot.app.services.db.read() as session:
        account = await repo.find_account(session, "fake", WHO)
    assert account is not None
    person_id = account.person_id

    await add_private_delivery(bot, person_id)
    await bot.app.services.db.run(
        lambda s: notices.want(s, NoticeKind.NUDGE.value, "poll:1", [person_id])
    )
    # A calendar link (`/kalender` needs `[web]`, which the harness has not).
    await bot.app.services.db.run(
        lambda s: web_tokens.issue(
            s, digest="0" * 64, purpose="feed", person_id=person_id, scope="mine:all",
            now=bot.app.services.now(),
        )
    )  # fmt: skip

    async def shared(session: AsyncSession) -> None:
        # What the account brought into a link (written by a confirmed /connect).
        session.add(ConnectShare(account_id=account.id, kind=ShareKind.CARD.value))

    await bot.app.services.db.run(shared)


async def references(bot: BotHarness) -> dict[str, set[Any]]:
    """What refers to Quirin: the person id, the account ids, the keyed hashes."""
    services = bot.app.services
    keys = await voter_keys(services.settings)
    async with services.db.read() as session:
        account = await repo.find_account(session, "fake", WHO)
        assert account is not None
        accounts = await repo.accounts_of(session, account.person_id)
        polls = list(await session.scalars(select(Poll.id)))
    hashes = {await welcome_key(services, a.platform, a.external_id) for a in accounts}
    hashes |= {keys.account(p, a.platform, a.external_id) for p in polls for a in accounts}
    return {
        "person": {account.person_id},
        "account": {a.id for a in accounts},
        "hash": hashes,
    }


async def rows_referring(
    bot: BotHarness, refs: dict[str, set[Any]], columns: dict[str, list[tuple[str, str]]]
) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with bot.app.services.db.read() as session:
        for name, cols in columns.items():
            table: Table = Base.metadata.tables[name]
            match = or_(*(table.c[col].in_(list(refs[kind])) for col, kind in cols))
            counts[name] = await session.scalar(select(func.count()).where(match)) or 0
    return counts


async def test_mydata_shows_and_forget_deletes_every_personal_table(
    bot_any: BotHarness,
) -> None:
    bot = bot_any
    columns = personal_columns()
    await full_life(bot)
    refs = await references(bot)

    before = await rows_referring(bot, refs, columns)
    empty = sorted(name for name, n in before.items() if n == 0)
    assert not empty, f"give the person a row in {empty} in full_life()"

    files = len(bot.transport.files)
    await bot.dm(WHO).say(WHO, "/mydata")
    [sent] = bot.transport.files[files:]
    data = json.loads(sent.data)
    for name in columns:
        section = MYDATA_SECTIONS[name]
        assert data.get(section) not in (None, [], {}), f"/mydata misses {name} ({section})"
    # Nothing secret in it: no hash, no code.
    text = sent.data.decode()
    assert not any(h in text for h in refs["hash"])

    [done, *_] = await bot.dm(WHO).say(WHO, "/forget JA")
    assert done.startswith("Erledigt")
    after = await rows_referring(bot, refs, columns)
    assert {name: n for name, n in after.items() if n} == {}
