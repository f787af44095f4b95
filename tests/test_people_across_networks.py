"""One person on both networks, and business cards across them: the whole bot with BOTH
transports in one App (Telegram through python-telegram-bot against the recording fake
Bot API, Matrix through nio against the real local Synapse, people as nio clients).

Anna starts on Telegram, gets a `/connect` code in her private chat and redeems it in a
Matrix direct chat with the bot; from then on her Matrix account is the same person. Her
card, edited on Telegram, is shown to Ben on Matrix (privately) because they share AG 2,
and refused to a stranger who shares no AG with her.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import nio
import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.transports.matrix.media import reaction_content
from storage import repo
from storage.models import Account, Person
from tests.support.both_networks import BothNetworks, group_room, running_both
from tests.support.matrix_bot import ask, bot_knows, bot_settings, register_bot, wait_joined
from tests.support.synapse import MatrixHuman, SeenEvent, SynapseServer
from tests.support.synapse_fixtures import unique_name
from tests.support.telegram_api import BotApi, Json, message, private_chat, update, user

pytestmark = pytest.mark.synapse

AG2 = "Transparenz und Beteiligung"
ANNA = user(222, "Anna", last_name="Berg", username="anna_b")
CODE = re.compile(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>")


class Humans:
    """Matrix people: Anna's second account, Ben (AG 2 on Matrix), a stranger."""

    def __init__(self, anna: MatrixHuman, ben: MatrixHuman, stranger: MatrixHuman) -> None:
        self.anna, self.ben, self.stranger = anna, ben, stranger


@pytest.fixture
async def humans(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[Humans]:
    found: list[MatrixHuman] = []
    try:
        for name in ("anna", "ben", "stranger"):
            # Ben reads a private room the bot opens: those are encrypted.
            store = tmp_path / "ben" if name == "ben" else None
            human = await MatrixHuman.login(synapse, unique_name(name), store_path=store)
            found.append(human)
            await human.start_sync()
        yield Humans(*found)
    finally:
        for human in found:
            await human.close()


def settings_for(tmp_path: Path, synapse: SynapseServer) -> Settings:
    return bot_settings(tmp_path, synapse, register_bot(synapse))


async def say(bot: BothNetworks, sender: Json, words: str) -> list[str]:
    """A Telegram message in the sender's private chat; the HTML of every sendMessage it
    caused (all of them to that private chat)."""
    before = len(bot.api.delivered())
    await bot.feed(update(message(private_chat(sender), sender, words)))
    sent = bot.api.delivered()[before:]
    assert all(params["chat_id"] == sender["id"] for params in sent), sent
    return [params["text"] for params in sent]


async def direct_room(human: MatrixHuman, bot: BothNetworks) -> str:
    """A direct chat the human opened with the bot (is_direct), joined by the bot and
    known to its sync."""
    room_id = await human.create_room(invite=[bot.matrix_id], is_direct=True)
    await wait_joined(human, room_id, bot.matrix_id)
    await bot_knows(bot.matrix, room_id)
    return room_id


async def telegram_code(bot: BothNetworks) -> str:
    """Anna asks for a code in her private Telegram chat; the code from the recorded
    sendMessage."""
    [reply] = await say(bot, ANNA, "/connect")
    assert reply.startswith("Dein Code: <code>"), reply
    found = CODE.search(reply)
    assert found, reply
    code = found[1]
    # It tells her what to type on the other network, with Matrix's command prefix.
    assert f"<code>!connect {code}</code>" in reply
    assert "10 Minuten" in reply
    return code


async def link_anna(
    bot: BothNetworks, anna: MatrixHuman, dm: str, code: str, *, react: bool = False
) -> SeenEvent:
    """Anna types the code on Matrix, is shown whose account it is, and confirms (with
    `!connect CODE JA`, or with the ✅ reaction the bot offers); Telegram Anna is told."""
    summary = await ask(anna, dm, bot.matrix_id, f"!connect {code}", contains="Bestätige")
    assert summary.body.startswith(
        "Willst du dieses Konto mit Anna Berg (@anna_b, Telegram) verbinden?"
    )
    assert f"!connect {code} JA.\n✅ Ja, verbinden" in summary.body
    calls = len(bot.api.calls_to("sendMessage"))
    if react:
        mark = anna.mark()
        content = reaction_content(summary.source["event_id"], "✅")
        await anna.send_event(dm, "m.reaction", content)
        linked = await anna.wait_for_notice(dm, bot.matrix_id, 10.0, "Verbunden", since=mark)
    else:
        linked = await ask(anna, dm, bot.matrix_id, f"!connect {code} JA", contains="Verbunden")
    assert linked.body.startswith(
        "Verbunden mit Anna Berg (@anna_b, Telegram)! Deine Konten gehören jetzt"
    )
    assert "!my" in linked.body and "!disconnect" in linked.body
    await bot.api.wait_called("sendMessage", calls + 1)
    [told] = bot.api.texts(ANNA["id"])[-1:]
    assert ", Matrix) ist jetzt mit dir verbunden" in told
    assert "<code>/disconnect</code>" in told
    return linked


def invited(user_id: str) -> Callable[[SeenEvent], bool]:
    """The invite of `user_id` into some room, as their sync saw it."""

    def match(seen: SeenEvent) -> bool:
        event = seen.event
        return (
            isinstance(event, nio.InviteMemberEvent)
            and event.state_key == user_id
            and event.membership == "invite"
        )

    match.__name__ = f"an invite for {user_id}"
    return match


async def accounts_of_person(bot: BothNetworks, platform: str, external_id: str) -> list[Account]:
    async with bot.app.services.db.read() as session:
        account = await repo.find_account(session, platform, external_id)
        assert account is not None, f"no account {platform}:{external_id}"
        return list(await repo.accounts_of(session, account.person_id))


async def test_connect_on_telegram_redeem_in_a_matrix_direct_chat(
    synapse: SynapseServer, tmp_path: Path, humans: Humans
) -> None:
    api = BotApi()
    anna = humans.anna
    async with running_both(settings_for(tmp_path, synapse), api) as bot:
        [joined] = await say(bot, ANNA, "/join ag2")
        assert "Willkommen in der AG" in joined and AG2 in joined

        # Before linking, her Matrix account is a person of its own, in no AG.
        dm = await direct_room(anna, bot)
        alone = await ask(anna, dm, bot.matrix_id, "!my", contains="AG")
        assert alone.body.startswith("Du bist noch in keiner AG."), alone.body

        code = await telegram_code(bot)

        # In a group room the code is refused, and not used up by that.
        room = await group_room(humans.ben, bot, anna, name="Offener Raum")
        refused = await ask(anna, room, bot.matrix_id, f"!connect {code}", contains="privaten")
        assert refused.body == "!connect funktioniert nur im privaten Chat mit mir."
        assert len(await accounts_of_person(bot, "telegram", str(ANNA["id"]))) == 1

        await link_anna(bot, anna, dm, code)

        # Matrix now shows the AG she joined on Telegram.
        mine = await ask(anna, dm, bot.matrix_id, "!my", contains="Deine AGs")
        assert AG2 in mine.body, mine.body

        # One person with both accounts; the Matrix account's own person is gone.
        accounts = await accounts_of_person(bot, "telegram", str(ANNA["id"]))
        assert sorted((a.platform, a.external_id) for a in accounts) == [
            ("matrix", anna.user_id),
            ("telegram", str(ANNA["id"])),
        ]
        async with bot.app.services.db.read() as session:
            people = await session.scalar(select(func.count()).select_from(Person))
            owners = await session.scalar(
                select(func.count(func.distinct(Account.person_id))).select_from(Account)
            )
        assert people == owners  # no person left without an account

        # The same code a second time: refused, nothing changes.
        again = await ask(anna, dm, bot.matrix_id, f"!connect {code}", contains="Code")
        assert again.body.startswith("Dieser Code wurde schon benutzt."), again.body
        assert len(await accounts_of_person(bot, "matrix", anna.user_id)) == 2


async def test_card_from_telegram_shown_privately_on_matrix_to_ag_members_only(
    synapse: SynapseServer, tmp_path: Path, humans: Humans
) -> None:
    api = BotApi()
    anna, ben, stranger = humans.anna, humans.ben, humans.stranger
    async with running_both(settings_for(tmp_path, synapse), api) as bot:
        [joined] = await say(bot, ANNA, "/join ag2")
        assert "Willkommen in der AG" in joined
        anna_dm = await direct_room(anna, bot)
        await link_anna(bot, anna, anna_dm, await telegram_code(bot), react=True)

        # Anna edits her card on Telegram; markup in it stays text.
        for words in ("/card name Anna Beispiel", "/card org Verein X", "/card about <b>hi</b>"):
            assert await say(bot, ANNA, words) == [
                "Gespeichert. <code>/card</code> zeigt deine Visitenkarte."
            ]
        [own] = await say(bot, ANNA, "/card")
        assert "Visitenkarte von <b>Anna Beispiel</b>" in own
        assert "Verein X" in own
        assert "&lt;b&gt;hi&lt;/b&gt;" in own and "<b>hi</b>" not in own

        # Ben is in AG 2 on Matrix; the stranger is in no AG. All three share a room.
        room = await group_room(ben, bot, anna, stranger, name="Vernetzung")
        welcome = await ask(ben, room, bot.matrix_id, "!join ag2", contains="Willkommen")
        assert AG2 in welcome.body

        # Ben asks for her card by her (linked) Matrix id. He has no direct chat with the
        # bot yet: the bot opens one and invites him; the room only hears that it was sent
        # privately.
        mark = ben.mark()
        said = await ask(ben, room, bot.matrix_id, f"!card {anna.user_id}", contains="privat")
        assert said.body == "Ich habe es dir privat geschickt."
        invite = await ben.wait_for(invited(ben.user_id), since=mark)
        ben_dm = invite.room_id
        assert ben_dm != room
        await ben.join(ben_dm)
        shown = await ben.wait_for_notice(ben_dm, bot.matrix_id, contains="Visitenkarte")
        assert shown.event.decrypted  # private, so encrypted; Ben's client could read it
        assert shown.body.splitlines() == [
            "Visitenkarte von Anna Beispiel",
            "Organisation: Verein X",
            "Über mich:",
            "<b>hi</b>",
        ]
        formatted = shown.content["formatted_body"]
        assert shown.content["format"] == "org.matrix.custom.html"
        assert "<b>Anna Beispiel</b>" in formatted
        assert "&lt;b&gt;hi&lt;/b&gt;" in formatted and "<b>hi</b>" not in formatted
        room_notices = [
            e
            for e in ben.events[mark:]
            if e.room_id == room and e.sender == bot.matrix_id and "Visitenkarte von" in e.body
        ]
        assert room_notices == []

        # The stranger shares no AG with Anna: refused, in the room, and nothing private.
        mark = stranger.mark()
        refused = await ask(
            stranger, room, bot.matrix_id, f"!card {anna.user_id}", contains="Visitenkarte"
        )
        assert refused.body.startswith("Diese Visitenkarte kann ich dir nicht zeigen."), (
            refused.body
        )
        assert not [
            e for e in stranger.events[mark:] if e.room_id != room and e.sender == bot.matrix_id
        ]
