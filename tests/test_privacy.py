"""Their data: /privacy, /mydata (everything, privately, as a file where possible) and
/forget (confirmed; afterwards no row anywhere identifies the person, and poll totals
stay as they were)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.core import Capabilities
from handlers.polls.secret import account_token
from storage import repo
from storage.models import Base
from tests.support.fake import BotHarness, FakeTransport
from tests.support.meetings import add_private_delivery
from tests.support.poll_chat import (
    Clock,
    ballots_of,
    counts_of,
    poll_row,
    setup_ag,
    start_poll,
)

# A name that appears nowhere else, so any trace of it in the database is found.
WHO = "quirin"


@pytest.fixture
async def bot_any(database_url: str) -> AsyncIterator[BotHarness]:
    harness = await BotHarness.create(database_url)
    yield harness
    await harness.close()


async def person_of(bot: BotHarness, who: str) -> int | None:
    async with bot.app.services.db.read() as session:
        account = await repo.find_account(session, "fake", who)
    return account.person_id if account else None


async def rich_life(bot: BotHarness) -> tuple[str, str]:
    """Quirin in AG 2 as its only lead, with a card, votes in a named and an anonymous
    poll (both started by Quirin), an RSVP, private reminders and a private delivery."""
    bot.app.services.clock = Clock()  # Monday 30.11.2026: the meeting below is ahead
    # A network without anonymous native polls: anonymous votes come by /vote, with tokens.
    bot.transport.capabilities = Capabilities(
        html=True, mentions=True, native_polls=True, buttons=True, files=True
    )
    group = await setup_ag(bot, lead=WHO, members=("carl", "dora"))
    named = await start_poll(group, WHO, '/poll "Wann?" "Di" "Mi" "Do"')
    secret = await start_poll(group, WHO, '/poll "Wohin?" "Halle" "Leipzig" --anonymous')
    dm = bot.dm(WHO)
    for who, choice in ((WHO, 2), ("carl", 2), ("dora", 3)):
        await bot.dm(who).say(who, f"/vote {named} {choice}")
        await bot.dm(who).say(who, f"/vote {secret} 1")
    await dm.say(WHO, "/card name Quirin Q.")
    await dm.say(WHO, "/card topics klima")
    await dm.say(WHO, "/card contact quirin@example.org")
    await dm.say(WHO, "/meeting ag2 03.12.2026 18:00 Online-Treffen")
    await dm.say(WHO, "/rsvp m1 ja")
    await dm.say(WHO, "/remind on")
    person_id = await person_of(bot, WHO)
    assert person_id is not None

    await add_private_delivery(bot, person_id)
    return named, secret


async def traces(bot: BotHarness, person_id: int) -> list[str]:
    """Every cell in every table that names the person."""
    words = (WHO, "quirin q.", f"dm-{WHO}", f"person:{person_id}")
    found: list[str] = []
    async with bot.app.services.db.read() as session:
        for table in Base.metadata.sorted_tables:
            person_columns = {
                col.name
                for col in table.columns
                if any(fk.column.table.name == "person" for fk in col.foreign_keys)
            }
            if table.name == "person":
                person_columns.add("id")
            for row in (await session.execute(select(table))).mappings():
                for name, value in row.items():
                    if name in person_columns and value == person_id:
                        found.append(f"{table.name}.{name}")
                    elif isinstance(value, str) and any(w in value.lower() for w in words):
                        found.append(f"{table.name}.{name}={value!r}")
    return found


async def test_privacy_explains_in_plain_words(bot: BotHarness) -> None:
    for command in ("/privacy", "/datenschutz"):
        [reply] = await bot.dm(WHO).say(WHO, command)
        assert reply.startswith("Datenschutz: was ich speichere und warum")
        assert "Bei anonymen Umfragen speichere ich nicht, wer wie abgestimmt hat." in reply
        assert "/mydata" in reply and "/forget" in reply


async def test_mydata_holds_everything_as_a_file(bot: BotHarness) -> None:
    named, _secret = await rich_life(bot)
    before = len(bot.transport.files)
    await bot.dm(WHO).say(WHO, "/mydata")
    [sent] = bot.transport.files[before:]
    assert sent.chat.is_direct and sent.filename == "meine-daten.json"
    assert sent.mime == "application/json"
    data = json.loads(sent.data)
    assert data["accounts"][0]["id"] == WHO
    assert data["memberships"] == [
        {
            "ag": "ag2",
            "name": "Transparenz und Beteiligung",
            "role": "lead",
            "joined_at": data["memberships"][0]["joined_at"],
        }
    ]
    assert data["card"]["name"] == "Quirin Q."
    assert data["card"]["topics"] == ["Klima & Umwelt"]
    assert [(v["poll"], v["answers"]) for v in data["votes"]] == [(named, ["Mi"])]
    assert [(r["meeting"], r["answer"]) for r in data["rsvps"]] == [("Online-Treffen", "yes")]
    assert data["reminders"]["private_reminders"] is True
    # The anonymous vote is not in it, and neither is any key or token of the bot.
    text = sent.data.decode()
    assert "Wohin" not in json.dumps(data["votes"])
    assert "harness-secret" not in text and "token" not in text


async def test_mydata_as_text_where_files_are_missing(sqlite_url: str) -> None:
    plain = FakeTransport(platform="plain", capabilities=Capabilities(max_message_length=4096))
    bot = await BotHarness.create(sqlite_url, more=(plain,))
    try:
        chat = bot.dm(WHO, "plain")
        await chat.say(WHO, "/card name Quirin Q.")
        replies = await chat.say(WHO, "/mydata")
        assert "Alles, was ich über dich gespeichert habe." in replies[0]
        assert '"name": "Quirin Q."' in "".join(replies)
        assert plain.files == []
    finally:
        await bot.close()


async def test_mydata_and_forget_only_in_the_private_chat(bot: BotHarness) -> None:
    group = bot.group("irgendwo")
    assert await group.say(WHO, "/mydata") == ["/mydata funktioniert nur im privaten Chat mit mir."]
    assert await group.say(WHO, "/forget") == ["/forget funktioniert nur im privaten Chat mit mir."]


async def test_forget_without_confirmation_deletes_nothing(bot: BotHarness) -> None:
    await rich_life(bot)
    person_id = await person_of(bot, WHO)
    assert person_id is not None
    before = await traces(bot, person_id)
    [ask] = await bot.dm(WHO).say(WHO, "/forget")
    assert ask.startswith("Wirklich alles löschen?")
    assert "/forget JA" in ask
    [wrong] = await bot.dm(WHO).say(WHO, "/forget 999999x")
    assert wrong.startswith("Das ist keine gültige Bestätigung")
    # Only the pending request was added.
    assert [t for t in await traces(bot, person_id) if "forget_request" not in t] == before
    # Someone else's confirmation does not count either.
    await bot.dm("carl").say("carl", "/forget JA")
    assert [t for t in await traces(bot, person_id) if "forget_request" not in t] == before


async def test_forget_confirmation_expires(bot: BotHarness) -> None:
    clock = Clock()
    bot.app.services.clock = clock
    await bot.dm(WHO).say(WHO, "/card name Quirin Q.")
    await bot.dm(WHO).say(WHO, "/forget")
    clock.advance(minutes=11)
    [late] = await bot.dm(WHO).say(WHO, "/forget JA")
    assert late.startswith("Das ist keine gültige Bestätigung")
    assert await person_of(bot, WHO) is not None


async def test_forget_with_the_code(bot: BotHarness) -> None:
    await bot.dm(WHO).say(WHO, "/card name Quirin Q.")
    [ask] = await bot.dm(WHO).say(WHO, "/forget")
    code = re.search(r"/forget (\d{6})", ask).group(1)  # type: ignore[union-attr]
    assert code.isdigit() and len(code) == 6
    [done] = await bot.dm(WHO).say(WHO, f"/forget {code}")
    assert done.startswith("Erledigt")
    assert await person_of(bot, WHO) is None


async def test_forget_nein_cancels_and_the_old_code_no_longer_deletes(bot: BotHarness) -> None:
    dm = bot.dm(WHO)
    await dm.say(WHO, "/card name Quirin Q.")
    [ask] = await dm.say(WHO, "/forget")
    assert ask.splitlines()[-1] == "Abbrechen: /forget nein"
    code = re.search(r"/forget (\d{6})", ask).group(1)  # type: ignore[union-attr]

    assert await dm.say(WHO, "/forget nein") == ["Abgebrochen: Ich lösche nichts."]

    for answer in ("JA", code):
        assert await dm.say(WHO, f"/forget {answer}") == [
            "Das ist keine gültige Bestätigung (oder sie ist älter als 10 Minuten). "
            "Schreib zuerst /forget."
        ]
    assert await person_of(bot, WHO) is not None


async def test_forget_nein_with_a_full_stop_cancels(bot: BotHarness) -> None:
    """Was: "Das ist keine gültige Bestätigung ... Schreib zuerst /forget." and the request
    stayed, so that a later /forget JA still deleted everything."""
    dm = bot.dm(WHO)
    await dm.say(WHO, "/card name Quirin Q.")
    await dm.say(WHO, "/forget")

    assert await dm.say(WHO, "/forget Nein!") == ["Abgebrochen: Ich lösche nichts."]
    [refused] = await dm.say(WHO, "/forget JA")
    assert refused.startswith("Das ist keine gültige Bestätigung")
    assert await person_of(bot, WHO) is not None


async def test_forget_no_in_english(bot: BotHarness) -> None:
    dm = bot.dm(WHO)
    await dm.say(WHO, "/lang en")
    [ask] = await dm.say(WHO, "/forget")
    assert ask.splitlines()[-1] == "To cancel: /forget no"

    assert await dm.say(WHO, "/forget no") == ["Cancelled: I am not deleting anything."]
    [refused] = await dm.say(WHO, "/forget yes")
    assert refused.startswith("That is not a valid confirmation")
    assert await person_of(bot, WHO) is not None


async def test_forget_leaves_no_trace_keeps_closed_totals_and_withdraws_running_votes(
    bot_any: BotHarness,
) -> None:
    bot = bot_any
    named, secret = await rich_life(bot)
    person_id = await person_of(bot, WHO)
    assert person_id is not None
    assert (await counts_of(bot, named), await counts_of(bot, secret)) == ([0, 2, 1], [3, 0])
    assert await traces(bot, person_id)
    token = await account_token(
        bot.app.services.settings, (await poll_row(bot, secret)).id, "fake", WHO
    )
    assert token in {b.token for b in await ballots_of(bot, secret)}
    await bot.group("ag2-gruppe").say("admin", f"/close {named}")

    [ask] = await bot.dm(WHO).say(WHO, "/forget")
    assert "Deine Stimmen in laufenden Umfragen ziehe ich zurück" in ask
    [done, *_notes] = await bot.dm(WHO).say(WHO, "/forget JA")
    assert done == "Erledigt: Ich habe alles über dich gelöscht. Mach's gut!"

    assert await traces(bot, person_id) == []
    # The closed poll's result still counts the vote, without a name; the running
    # anonymous poll no longer counts it (the account could come back and vote again).
    assert (await counts_of(bot, named), await counts_of(bot, secret)) == ([0, 2, 1], [2, 0])
    assert (await poll_row(bot, named)).created_by is None
    assert token not in {b.token for b in await ballots_of(bot, secret)}
    assert all(b.account_id is None for b in await ballots_of(bot, named) if b.person_id is None)
    # The AG lost its only lead: its chat is told.
    assert (
        bot.group("ag2-gruppe")
        .last()
        .startswith("Die AG Transparenz und Beteiligung hat keine Leitung mehr")
    )
    # Coming back later starts from nothing.
    [again] = await bot.dm(WHO).say(WHO, "/card")
    assert again.startswith("Du hast noch keine Visitenkarte.")


async def test_lead_loss_without_chats_goes_to_the_admins(bot: BotHarness) -> None:
    await bot.dm(WHO).say(WHO, "/join ag3")
    await bot.dm("admin").say("admin", f"/lead ag3 @{WHO}")
    await bot.dm(WHO).say(WHO, "/forget")
    await bot.dm(WHO).say(WHO, "/forget ja")
    assert (
        bot.dm("admin")
        .last()
        .startswith("Die AG Interne Struktur und Vernetzung hat keine Leitung mehr")
    )
