"""An admin who writes "as the group" on Telegram (sender_chat = the group, from =
GroupAnonymousBot) cannot be told apart from anyone else in it: every command that needs
a right is answered with the one sentence that says why and what to do, not with a
refusal that reads as if they lacked the right."""

from __future__ import annotations

import pytest

from tests.support.telegram_api import ANONYMOUS_ADMIN_BOT
from tests.support.telegram_bot import GROUP, TelegramBot

ANONYMOUS = (
    "Du schreibst anonym im Namen der Gruppe, darum weiß ich nicht, wer du bist. "
    "Schalte „Anonym bleiben“ in deinen Admin-Rechten aus oder schreib mir privat."
)


@pytest.mark.parametrize(
    "command",
    [
        "/link ag2",  # alliance admins
        "/poll ag2 Wann treffen wir uns? Dienstag, Mittwoch",  # the AG's leads
        "/meeting ag2 morgen 19 Uhr Plenum",  # the AG's leads
        "/lead ag2 @anna",  # alliance admins
        "/ag policy ag2 anfrage",  # the AG's leads and admins
    ],
)
async def test_a_rights_needing_command_as_the_group_gets_the_anonymous_sentence(
    tg: TelegramBot, command: str
) -> None:
    replies = await tg.say(GROUP, ANONYMOUS_ADMIN_BOT, command, sender_chat=GROUP)

    assert replies == [ANONYMOUS]
    assert await tg.reachable(GROUP["id"]) is None


async def test_a_command_anyone_may_use_still_works_as_the_group(tg: TelegramBot) -> None:
    [reply] = await tg.say(GROUP, ANONYMOUS_ADMIN_BOT, "/ags", sender_chat=GROUP)

    assert reply.startswith("<b>")
    assert "anonym" not in reply


async def test_a_refusal_of_an_ags_followers_reads_the_same_as_the_group(tg: TelegramBot) -> None:
    """`/meetings ag3` in a chat not linked to ag3 is for ag3's members: whoever writes
    as the group might be one."""
    replies = await tg.say(GROUP, ANONYMOUS_ADMIN_BOT, "/meetings ag3", sender_chat=GROUP)

    assert replies == [ANONYMOUS]
