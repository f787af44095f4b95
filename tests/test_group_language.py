"""A group is answered in its own language (set there with /lang by a lead of its AG or
an admin), whoever typed; a private chat in the person's own language."""

from __future__ import annotations

from bot.outbox import Audience
from tests.support.fake import BotHarness


async def _ag2_with_group(bot: BotHarness) -> None:
    await bot.group("ag2-gruppe").say("admin", "/link ag2")
    await bot.dm("anna").say("anna", "/join ag2")
    await bot.dm("admin").say("admin", "/lead ag2 @anna", mentions=("anna",))
    await bot.dm("ben").say("ben", "/join ag2")


async def test_a_group_keeps_its_language_whoever_types(bot: BotHarness) -> None:
    await _ag2_with_group(bot)
    group = bot.group("ag2-gruppe")
    await bot.dm("ben").say("ben", "/lang en")

    # Ben reads English privately, but the group stays German for everyone.
    assert await bot.dm("ben").say("ben", "/leave ag9") == [
        "I don't know the AG “ag9”. Valid are: ag1, ag2, ag3."
    ]
    assert await group.say("ben", "/join ag9") == [
        "Die AG „ag9“ kenne ich nicht. Gültig sind: ag1, ag2, ag3."
    ]
    assert await group.say("ben", "/lang") == [
        "In diesem Chat schreibe ich auf Deutsch. Wählbar: de, en, z. B. /lang en."
    ]


async def test_a_lead_sets_the_group_language_and_everyone_reads_it(bot: BotHarness) -> None:
    await _ag2_with_group(bot)
    group = bot.group("ag2-gruppe")

    assert await group.say("anna", "/lang en") == [
        "From now on I'll write in English in this chat."
    ]
    # Ben never chose a language: in this group he reads English, privately German.
    assert await group.say("ben", "/join ag9") == [
        "I don't know the AG “ag9”. Valid are: ag1, ag2, ag3."
    ]
    assert await group.say("ben", "/lang") == [
        "In this chat I write in English. Available: de, en, e.g. /lang de."
    ]
    assert (await bot.dm("ben").say("ben", "/my"))[0].startswith("Deine AGs:")
    # Announcements to the group's chats read the stored language too.
    [ag2] = [ag for ag in await bot.app.services.ags.all() if ag.slug == "ag2"]
    [chat] = await bot.app.services.ag_chats(ag2.id)
    assert chat.language == "en"
    assert bot.app.services.outbox.language(Audience.of_chat(chat)) == "en"

    assert await group.say("anna", "/sprache de") == [
        "In diesem Chat schreibe ich ab jetzt auf Deutsch."
    ]
    assert await group.say("ben", "/join ag9") == [
        "Die AG „ag9“ kenne ich nicht. Gültig sind: ag1, ag2, ag3."
    ]


async def test_a_member_may_not_change_the_group_language(bot: BotHarness) -> None:
    await _ag2_with_group(bot)
    group = bot.group("ag2-gruppe")

    assert await group.say("ben", "/lang en") == [
        "Die Sprache dieses Chats dürfen nur die Leitungen seiner AG und Admins ändern. "
        "Deine eigene Sprache stellst du im privaten Chat mit mir ein: /lang en"
    ]
    assert await group.say("ben", "/lang") == [
        "In diesem Chat schreibe ich auf Deutsch. Wählbar: de, en, z. B. /lang en."
    ]
    # Nor does it set Ben's own language as a side effect.
    assert (await bot.dm("ben").say("ben", "/my"))[0].startswith("Deine AGs:")


async def test_an_admin_sets_the_language_of_an_unlinked_group(bot: BotHarness) -> None:
    group = bot.group("elsewhere")
    assert await group.say("anna", "/lang en") == [
        "Die Sprache dieses Chats dürfen nur die Leitungen seiner AG und Admins ändern. "
        "Deine eigene Sprache stellst du im privaten Chat mit mir ein: /lang en"
    ]
    assert await group.say("admin", "/lang en") == [
        "From now on I'll write in English in this chat."
    ]
    assert await group.say("anna", "/join ag9") == [
        "I don't know the AG “ag9”. Valid are: ag1, ag2, ag3."
    ]
