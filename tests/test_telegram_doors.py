"""The way into an AG's Telegram group through python-telegram-bot, offline: the invite
link that creates join requests (made once, reused), join requests approved for members
and declined or left alone for strangers, missing rights told and shown in /ag info,
/leave with and without removal (ban, then unban only_if_banned)."""

from __future__ import annotations

import re

import pytest

from tests.support.telegram_api import update
from tests.support.telegram_bot import ADMIN, ANNA, SUPERGROUP, StartBot, TelegramBot
from tests.support.telegram_doors import DoorsApi, bad_request, join_request
from tests.support.telegram_updates import forum, private_chat, topic_message, user

GROUP_ID = SUPERGROUP["id"]
BEN = user(333, "Ben", username="ben_k")
NO_INVITE = "not enough rights to manage chat invite links"
LINK = r"https://t\.me/\+\w+"


@pytest.fixture
async def tg(start_bot: StartBot) -> TelegramBot:
    bot = await start_bot(DoorsApi())
    await bot.say(SUPERGROUP, ADMIN, "/link ag2")
    return bot


def api(tg: TelegramBot) -> DoorsApi:
    assert isinstance(tg.api, DoorsApi)
    return tg.api


async def test_join_gives_a_join_request_link_made_once(tg: TelegramBot) -> None:
    replies = await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    [made] = api(tg).calls_to("createChatInviteLink")
    assert made.params == {"chat_id": GROUP_ID, "name": "Bündnisbot", "creates_join_request": True}
    assert made.status == 200
    assert replies[-1].endswith("frag dort den Beitritt an, ich nehme dich auf.")
    assert "https://t.me/+AbCdEf" in replies[-1]

    replies_ben = await tg.say(private_chat(BEN), BEN, "/join ag2")
    assert len(api(tg).calls_to("createChatInviteLink")) == 1
    assert replies_ben[-1] == replies[-1]


async def test_a_revoked_link_is_replaced_by_a_new_one(tg: TelegramBot) -> None:
    [old] = re.findall(LINK, (await tg.say(private_chat(ANNA), ANNA, "/join ag2"))[-1])
    api(tg).revoked.add(old)  # an admin revoked it in the group's settings

    replies = await tg.say(private_chat(BEN), BEN, "/join ag2")
    [check] = api(tg).calls_to("editChatInviteLink")
    assert check.params["invite_link"] == old
    assert len(api(tg).calls_to("createChatInviteLink")) == 2
    [new] = re.findall(LINK, replies[-1])
    assert new != old
    assert replies[-1].endswith("frag dort den Beitritt an, ich nehme dich auf.")
    [info] = await tg.say(private_chat(ADMIN), ADMIN, "/ag info ag2")
    assert re.findall(LINK, info) == [new]


async def test_someone_in_the_group_already_gets_no_link(tg: TelegramBot) -> None:
    api(tg).inside.add((GROUP_ID, ANNA["id"]))
    replies = await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    assert len(replies) == 1 and replies[0].startswith("Willkommen")
    assert api(tg).calls_to("createChatInviteLink") == []


async def test_missing_invite_right_is_told_and_shown_in_ag_info(tg: TelegramBot) -> None:
    api(tg).script("createChatInviteLink", *bad_request(NO_INVITE))
    replies = await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    assert replies[-1].endswith(
        "Hier kann ich dich noch nicht hineinlassen, mir fehlt ein Recht. "
        "Die Leitung der AG weiß Bescheid."
    )
    [info] = await tg.say(private_chat(ADMIN), ADMIN, "/ag info ag2")
    assert info.splitlines()[-1] == (
        "• <b>AG 2 Transparenz</b> (Telegram) – mir fehlt: Mitglieder einladen"
    )


async def test_a_members_join_request_is_approved(tg: TelegramBot) -> None:
    await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    await tg.feed(join_request(SUPERGROUP, ANNA))
    [approved] = api(tg).calls_to("approveChatJoinRequest")
    assert approved.params == {"chat_id": GROUP_ID, "user_id": ANNA["id"]}
    assert api(tg).texts(ANNA["id"])[-1] == (
        "Ich habe dich in <b>AG 2 Transparenz</b> aufgenommen, den Chat der AG "
        "<b>Transparenz und Beteiligung</b> (<code>ag2</code>)."
    )


async def test_a_request_answered_already_is_no_failure(tg: TelegramBot) -> None:
    await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    api(tg).script("approveChatJoinRequest", *bad_request("HIDE_REQUESTER_MISSING"))
    await tg.feed(join_request(SUPERGROUP, ANNA))
    [call] = api(tg).calls_to("approveChatJoinRequest")
    assert call.status == 400
    [info] = await tg.say(private_chat(ADMIN), ADMIN, "/ag info ag2")
    assert "mir fehlt" not in info


async def test_strangers_are_left_to_the_admins_or_declined(tg: TelegramBot) -> None:
    await tg.feed(join_request(SUPERGROUP, BEN))
    assert api(tg).calls_to("approveChatJoinRequest") == []
    assert api(tg).calls_to("declineChatJoinRequest") == []

    await tg.say(private_chat(ADMIN), ADMIN, "/ag requests ag2 ablehnen")
    await tg.feed(join_request(SUPERGROUP, BEN))
    [declined] = api(tg).calls_to("declineChatJoinRequest")
    assert declined.params == {"chat_id": GROUP_ID, "user_id": BEN["id"]}


async def test_approving_without_the_right_is_noted(tg: TelegramBot) -> None:
    await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    api(tg).script("approveChatJoinRequest", *bad_request("CHAT_ADMIN_REQUIRED"))
    await tg.feed(join_request(SUPERGROUP, ANNA))
    [info] = await tg.say(private_chat(ADMIN), ADMIN, "/ag info ag2")
    assert info.splitlines()[-1].endswith("mir fehlt: Mitglieder einladen")


async def test_leave_removes_nobody_by_default(tg: TelegramBot) -> None:
    api(tg).inside.add((GROUP_ID, ANNA["id"]))
    await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    await tg.say(private_chat(ANNA), ANNA, "/leave ag2")
    assert api(tg).calls_to("banChatMember") == []


async def test_leave_bans_and_unbans_where_the_ag_removes(tg: TelegramBot) -> None:
    await tg.say(private_chat(ADMIN), ADMIN, "/ag leave ag2 entfernen")
    api(tg).inside.add((GROUP_ID, ANNA["id"]))
    await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    replies = await tg.say(private_chat(ANNA), ANNA, "/leave ag2")
    assert replies[-1].endswith("Aus ihren Chats habe ich dich entfernt: <b>AG 2 Transparenz</b>.")
    [ban] = api(tg).calls_to("banChatMember")
    [unban] = api(tg).calls_to("unbanChatMember")
    assert ban.params == {"chat_id": GROUP_ID, "user_id": ANNA["id"]}
    assert unban.params == {"chat_id": GROUP_ID, "user_id": ANNA["id"], "only_if_banned": True}


async def test_leave_does_not_remove_from_a_forum_group_through_a_topic(
    tg: TelegramBot,
) -> None:
    """Telegram removes from a whole group: leaving the AG of one topic must not throw the
    person out of the alliance's forum group; the answer says so."""
    alliance = forum(-1009876543210, "Bündnis Revier")
    await tg.feed(update(topic_message(alliance, ADMIN, "/link ag3", 77, "AG 3")))
    assert await tg.linked("-1009876543210/77") == ["ag3"]
    await tg.say(private_chat(ADMIN), ADMIN, "/ag leave ag3 entfernen")
    api(tg).inside.add((alliance["id"], ANNA["id"]))
    await tg.say(private_chat(ANNA), ANNA, "/join ag3")
    replies = await tg.say(private_chat(ANNA), ANNA, "/leave ag3")
    assert api(tg).calls_to("banChatMember") == []
    assert replies[-1].endswith(
        "Aus <b>Bündnis Revier / AG 3</b> kann ich niemanden entfernen; verlass sie selbst, "
        "wenn du magst."
    )


async def test_leave_without_the_ban_right_says_so(tg: TelegramBot) -> None:
    await tg.say(private_chat(ADMIN), ADMIN, "/ag leave ag2 entfernen")
    api(tg).inside.add((GROUP_ID, ANNA["id"]))
    await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    api(tg).script(
        "banChatMember", *bad_request("not enough rights to restrict/unrestrict chat member")
    )
    replies = await tg.say(private_chat(ANNA), ANNA, "/leave ag2")
    assert replies[-1].endswith(
        "Aus <b>AG 2 Transparenz</b> konnte ich dich nicht entfernen, mir fehlt dort ein "
        "Recht; die Leitung der AG weiß Bescheid."
    )
    assert api(tg).calls_to("unbanChatMember") == []
    [info] = await tg.say(private_chat(ADMIN), ADMIN, "/ag info ag2")
    assert info.splitlines()[-1].endswith("mir fehlt: Mitglieder entfernen")


async def test_a_member_of_two_ags_in_one_group_is_not_removed(tg: TelegramBot) -> None:
    await tg.say(SUPERGROUP, ADMIN, "/link ag3")
    await tg.say(private_chat(ADMIN), ADMIN, "/ag leave ag2 entfernen")
    api(tg).inside.add((GROUP_ID, ANNA["id"]))
    await tg.say(private_chat(ANNA), ANNA, "/join ag2 ag3")
    await tg.say(private_chat(ANNA), ANNA, "/leave ag2")
    assert api(tg).calls_to("banChatMember") == []


async def test_the_leads_hear_which_right_where_and_how_once(tg: TelegramBot) -> None:
    await tg.say(private_chat(BEN), BEN, "/join ag1")  # known to the bot, so /lead finds him
    await tg.say(private_chat(ADMIN), ADMIN, "/lead ag2 @ben_k")
    told = (
        "AG <b>Transparenz und Beteiligung</b> (<code>ag2</code>): Mir fehlt in "
        "<b>AG 2 Transparenz</b> das Recht „Mitglieder einladen“. So geht's in Telegram: "
        "Gruppe öffnen → Bearbeiten → Administratoren → mich wählen und „Nutzer einladen“ "
        "einschalten (bin ich kein Admin, mach mich zuerst dazu)."
    )
    api(tg).script("createChatInviteLink", *bad_request(NO_INVITE))
    await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    assert api(tg).texts(BEN["id"])[-1] == told
    api(tg).script("createChatInviteLink", *bad_request(NO_INVITE))
    await tg.say(private_chat(ADMIN), ADMIN, "/join ag2")
    assert api(tg).texts(BEN["id"]).count(told) == 1


async def test_a_failing_chat_costs_only_its_own_way(tg: TelegramBot) -> None:
    api(tg).script(
        "createChatInviteLink",
        500,
        {"ok": False, "error_code": 500, "description": "Internal Server Error"},
    )
    tg.transport.send_retry_delays = ()
    replies = await tg.say(private_chat(ANNA), ANNA, "/join ag2")
    assert len(replies) == 1 and replies[0].startswith("Willkommen")
    assert "schiefgegangen" not in "".join(api(tg).texts())
