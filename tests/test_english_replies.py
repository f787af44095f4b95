"""English readers get English words where they answer or choose: the hints name the
English words, and the bot takes them (the audit of every command: test_english_audit.py)."""

from __future__ import annotations

from tests.support.fake import BotHarness
from tests.support.meetings import Clock


async def english(bot: BotHarness, *who: str) -> None:
    for name in who:
        await bot.dm(name).say(name, "/lang en")


async def test_meetings_says_rsvp_yes_and_yes_is_taken(bot: BotHarness) -> None:
    bot.app.services.clock = Clock()  # Saturday 28.11.2026
    await english(bot, "eve")
    eve = bot.dm("eve")
    await eve.say("eve", "/join ag2")
    await bot.dm("admin").say("admin", "/lead ag2 @eve", mentions=("eve",))
    await eve.say("eve", "/meeting ag2 tomorrow 18:00 Plenary")

    assert await eve.say("eve", "/meetings") == [
        "The next meetings:\n"
        "• m1 Sun 29 Nov 18:00 – Plenary (ag2)\n"
        "Say you're coming with /rsvp m1 yes."
    ]
    assert await eve.say("eve", "/rsvp m1 yes") == [
        "✅ Glad you're coming: Plenary, Sunday, 29 November 2026, 18:00."
    ]
    assert await eve.say("eve", "/help rsvp") == [
        "/rsvp id yes|no|maybe – Say yes, no or maybe to a meeting\n"
        "Example: /rsvp m12 yes\n"
        "Example: /rsvp m12 maybe\n"
        "Also: /zusage"
    ]


async def test_choice_words_are_english_and_understood(bot: BotHarness) -> None:
    await english(bot, "admin")
    admin = bot.dm("admin")
    assert await admin.say("admin", "/ag policy ag2 sometimes") == [
        "Usage: /ag policy ag2 open|request"
    ]
    assert (await admin.say("admin", "/ag policy ag2 request"))[0].startswith(
        "The AG Transparenz und Beteiligung (ag2) takes members on request"
    )
    assert await admin.say("admin", "/ag edit ag3 colour red") == [
        "I can change name or description."
    ]
    assert await admin.say("admin", "/ag edit ag3 description Internal matters") == [
        "AG Interne Struktur und Vernetzung (ag3) changed."
    ]
    assert await admin.say("admin", "/ag new") == [
        "Something is missing: id name -- description.\nUsage: /ag new id name -- description\n"
        "Example: /ag new ag4 Energy -- Community energy in the region"
    ]


async def test_the_welcome_setting_names_on_and_off(bot: BotHarness) -> None:
    group = bot.group("ag2-gruppe")
    await group.say("admin", "/link ag2")
    await group.say("admin", "/lang en")
    assert await group.say("admin", "/welcome") == [
        "I greet new people here as long as the chat has at most 50 members."
        " Change it with /welcome on or /welcome off."
    ]
    assert await group.say("admin", "/welcome sometimes") == ["Usage: /welcome on | /welcome off"]
    assert await group.say("admin", "/welcome off") == [
        "Fine, I will not greet anyone here any more."
    ]


async def test_forget_is_confirmed_with_yes(bot: BotHarness) -> None:
    await english(bot, "eve")
    eve = bot.dm("eve")
    [ask] = await eve.say("eve", "/forget")
    assert ask.splitlines()[-2].startswith("To confirm, write /forget YES or /forget ")
    assert ask.splitlines()[-1] == "To cancel: /forget no"
    assert await eve.say("eve", "/forget YES") == [
        "Done: I have deleted everything about you. Take care!"
    ]


async def test_polls_start_and_vote_read_english(bot: BotHarness) -> None:
    await english(bot, "eve")
    eve = bot.dm("eve")
    await eve.say("eve", "/join ag2")
    await bot.dm("admin").say("admin", "/lead ag2 @eve", mentions=("eve",))
    assert await eve.say("eve", "/polls") == [
        'Your AGs have no polls yet. A lead starts one with /poll "Question?" "A" "B".'
    ]
    assert await eve.say("eve", '/poll "Which day?" "Tue" "Wed"') == [
        'For which AG? Name it with --ag, e.g. /poll "Question?" "Yes" "No" --ag ag2.'
    ]
    [started] = await eve.say("eve", '/poll "Which day?" "Tue" "Wed" --ag ag2')
    poll = started.split()[1]
    assert (await eve.say("eve", "/polls"))[0].splitlines()[-1] == "Result: /results <Poll>"
    assert await eve.say("eve", f"/vote {poll} 1") == ["Thanks! Your vote counts: “Tue”"]
    assert await eve.say("eve", '/poll "Which day?" "Tue" --ag ag2') == [
        "A poll needs at least 2 answers. Example: /poll When shall we meet? Tue 6pm, Wed 7pm"
    ]


async def test_start_offers_the_other_language(bot: BotHarness) -> None:
    await english(bot, "eve")
    [english_start] = await bot.dm("eve").say("eve", "/start")
    assert "• /lang de – auf Deutsch umstellen" in english_start.splitlines()
    [german_start] = await bot.dm("otto").say("otto", "/start")
    assert "• /lang en – switch to English" in german_start.splitlines()


async def test_the_card_help_has_english_examples(bot: BotHarness) -> None:
    await english(bot, "eve")
    [reply] = await bot.dm("eve").say("eve", "/card")
    assert reply.splitlines()[3:5] == [
        "• /card name Anna Example",
        "• /card org Arts Club Sampletown",
    ]
