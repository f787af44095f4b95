"""Every reply in English: every command, with typical good and bad arguments, by a lead,
a member and a stranger, in an English private chat and in an English group (its
language set with `/lang en` there). A reply fails when it holds a German word (a list of
tell-tale words, or an umlaut) outside what is data: the AGs' names and descriptions, the
survey's questions and options (config/), and what the test itself typed.

Each run is a fresh bot on a fresh copy of one prepared database, so no command sees
what another did (tests/support/cells.py, as tests/test_rights_table.py runs its cells).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import build_registry
from bot.core import PollSpec, SentPoll
from handlers.cards.fields import FALLBACK_REGIONS, FALLBACK_TOPICS
from handlers.survey.templates import read_survey
from storage.datepoll.models import DatePoll
from storage.polls.models import Poll
from tests.support.cells import Cells
from tests.support.fake import ROOT, BotHarness

# Words that give German away in an English reply (lowercase; whole words only).
GERMAN_WORDS = """
    und oder nicht ich du dir dich dein deine deinen deiner bitte ja nein vielleicht schon
    noch kein keine keinen eine einen einer einem der die das den dem des zu zum zur auf für
    mit uhr ist sind wird werden gibt kenne befehl treffen umfrage umfragen mitglied
    mitglieder leitung gültig nur alle beispiel heute gestern woche tage stunde stunden
    minuten montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar
    dezember erinnerung erinnerungen abstimmung ergebnis ergebnisse anfrage aus wer wie
    schreib schreibe hier jetzt mehr dabei bei vom von nach über wählbar kennung offen
    beschreibung frage fragen antwort antworten
"""
GERMAN = frozenset(GERMAN_WORDS.split())
UMLAUT = re.compile(r"[äöüÄÖÜß„]")
# Words, and the German opening quote on its own (English quotes are “...”).
# Letters and digits together: a random id such as "h9ja" is one word, not "h" and "ja".
WORD = re.compile(r"[0-9A-Za-zÄÖÜäöüß]+|„")


def _data_texts() -> list[str]:
    """What may stay German in an English reply: the alliance's own data."""
    ags = tomllib.loads((ROOT / "config" / "ags.toml").read_text(encoding="utf-8"))["ag"]
    texts = [t for ag in ags for t in (ag["name"], ag["description"])]
    for question in read_survey(ROOT / "config" / "survey.toml"):
        texts += [question.text, question.key, *question.options, *question.statements]
    texts += [*FALLBACK_REGIONS, *FALLBACK_TOPICS]
    # On purpose: the way back to German is offered in German (/start); the bot's name.
    texts += ["auf Deutsch umstellen", "Bündnisbot"]
    # Longest first, so a long text is removed before a word inside it.
    return sorted(set(texts), key=len, reverse=True)


DATA = _data_texts()
# Command names and their aliases (`/ändern`, `/umfrage`) are words one types, in any language.
COMMAND_WORDS = {
    word.lower()
    for cmd in build_registry().unique()
    for name in (cmd.name, *cmd.aliases)
    for word in WORD.findall(name)
}


def german_words(reply: str, typed: str) -> list[str]:
    text = reply
    for known in DATA:
        text = text.replace(known, " ")
    mine = {w.lower() for w in WORD.findall(typed)} | COMMAND_WORDS
    return [
        w
        for w in WORD.findall(text)
        if w.lower() not in mine and (w.lower() in GERMAN or UMLAUT.search(w) is not None)
    ]


# Per command: typical good and bad arguments ({m}: a meeting of ag2, {p}: a poll of ag2,
# {d}: a Terminumfrage of ag2, with an answer "ja" to its first date).
CASES: dict[str, tuple[str, ...]] = {
    "ag archive": ("ag3", "ag9", ""),
    "ag edit": ("ag3 name New name", "ag3 colour red", ""),
    "ag info": ("ag2", "ag9"),
    "ag leave": ("ag2", "ag2 remove", "ag2 keep", "ag2 sometimes"),
    "ag nudge": ("ag2", "ag2 12h", "ag2 off", "ag2 default", "ag2 soon", "ag2 1h 2h"),
    "ag new": ("ag4 Energy -- Community energy", "ag1 Twice -- again", ""),
    "ag policy": ("ag2", "ag2 request", "ag2 open", "ag2 sometimes"),
    "ag requests": ("ag2", "ag2 decline", "ag2 admins", "ag2 sometimes"),
    "ag restore": ("ag3", "ag9"),
    "ag room": ("ag2", "ag9", ""),
    "ag topic": ("ag2", "ag9"),
    "ags": ("",),
    "approve": ("ag2 @nobody", ""),
    "attendance": ("{m}", "m99", ""),
    "cancel": ("{m}", "m99", ""),
    "card": ("", "name Eve E.", "region", "topics", "phone 123", "visibility everyone", "@nobody"),
    "cards": ("ag2", "ag9"),
    "datepoll": (
        'ag2 "Plenary" tomorrow 18:00; in 2 days 19:00',
        'ag2 "Plenary" tomorrow 18:00',
        'ag2 "Plenary" yesterday 18:00; tomorrow 18:00',
        "ag2 Plenary tomorrow 18:00; in 2 days 19:00",
        "",
    ),
    "chats": ("ag2", "ag9"),
    "close": ("{p}", "zzzz", ""),
    "connect": ("", "ABCD-EFGH"),
    "decline": ("ag2 @nobody", ""),
    "disconnect": ("",),
    "edit": ("{m} 19:30", "{m} tomorrow 19:00", "m99 19:30", "{m}"),
    "export": ("{p}", "zzzz"),
    "find": ("climate", ""),
    "forget": ("", "no", "XYZ"),
    "help": ("", "join", "nosuch"),
    "ics": ("ag2", "ag9"),
    "kalender": ("", "going", "new", "ag2", "ag9", "ag2 new extra"),
    "seite": ("", "{p}", "ag2", "zzzz", "off"),
    "join": ("ag2", "ag1", "ag9", ""),
    "lang": ("", "en", "xx"),
    "lead": ("ag2 @finn", "ag2 @nobody", ""),
    "leave": ("ag1", "ag2", "ag9"),
    "link": ("ag2", "ag9"),
    "meeting": ("ag2 tomorrow 18:00 Plenary", "ag2 yesterday 18:00 Past", "ag2 whenever", ""),
    "meetings": ("", "ag2", "ag2 --missed"),
    "members": ("ag2", "ag9"),
    "my": ("",),
    "mydata": ("",),
    "poll": (
        '"Which day?" "Tue" "Wed" --ag ag2',
        '"Which day?" "Tue" "Wed"',
        '"Which day?" "Tue" --ag ag2',
        "",
    ),
    "polls": ("",),
    "nudge": ("{p}", "{d}", "zzzz", "on", ""),
    "pick": ("{d} 1", "{d} 9", "{d} 2", "zzzz 1", ""),
    "privacy": ("",),
    "remind": ("", "on", "sometimes"),
    "requests": ("",),
    "reminders": ("ag2", "ag2 2d 1h", "ag2 nonsense", "ag2 default"),
    "results": ("{p}", "zzzz", ""),
    "rsvp": ("{m} yes", "{m} maybe", "{m} no", "{m} perhaps", "m99 yes", ""),
    "space": ("", "#alliance:example.org", "new", 'new "Alliance"'),
    "start": ("",),
    "stats": ("ag2", "ag9"),
    "termin": ("{d} 1 yes 2 maybe", "{d} 1 perhaps", "{d} 3 no", "{d}", "zzzz 1 yes", ""),
    "survey": ("", "1 --ag ag2", "99"),
    "survey results": ("", "1", "99"),
    "survey run": ("",),
    "unlead": ("ag2 @eve", "ag2 @finn", ""),
    "unlink": ("ag2",),
    "vote": ("{p} 1", "{p} 9", "{p}", "zzzz 1", "1"),
    "welcome": ("", "on", "sometimes"),
    "whoami": ("",),
}
# Who types: an admin, the lead of ag2, a member of ag2, someone in no AG (all English).
PEOPLE = ("admin", "eve", "finn", "gus")


TEMPLATE_POLLS: list[tuple[SentPoll, PollSpec]] = []


async def _prepare(path: Path) -> dict[str, str]:
    bot = await BotHarness.create(f"sqlite+aiosqlite:///{path}")
    try:
        for who in PEOPLE:
            await bot.dm(who).say(who, "/lang en")
        group = bot.group("linked")
        await group.say("admin", "/link ag2")
        await group.say("admin", "/lang en")
        for who in ("eve", "finn"):
            await bot.dm(who).say(who, "/join ag2")
        await bot.dm("admin").say("admin", "/lead ag2 @eve", mentions=("eve",))
        await bot.dm("eve").say("eve", "/meeting ag2 tomorrow 18:00 Plenary")
        await group.say("eve", '/poll "Which day?" "Tue" "Wed"')
        await bot.dm("eve").say("eve", '/datepoll ag2 "Plenary" tomorrow 18:00; in 2 days 19:00')
        await bot.dm("finn").say("finn", f"/termin {await _datepoll(bot)} 1 yes")
        async with bot.app.services.db.read() as session:
            poll = await session.scalar(select(Poll).order_by(Poll.id))
        assert poll is not None
        TEMPLATE_POLLS[:] = bot.transport.polls
        return {"m": "m1", "p": poll.short_id, "d": await _datepoll(bot)}
    finally:
        await bot.close()


async def _datepoll(bot: BotHarness) -> str:
    async with bot.app.services.db.read() as session:
        found = await session.scalar(select(DatePoll.short_id).order_by(DatePoll.id))
    assert found is not None
    return found


async def _run(cells: Cells, where: str, who: str, text: str) -> list[str]:
    bot = await cells.bot()
    try:
        # The template holds polls sent as "native-1", ...: carry on after them.
        bot.transport.polls.extend(TEMPLATE_POLLS)
        chat = bot.dm(who) if where == "dm" else bot.group("linked")
        mentions = tuple(m for m in ("eve", "finn", "nobody") if f"@{m}" in text)
        return await chat.say(who, text, mentions=mentions)
    finally:
        await bot.close()


def invocations(ids: dict[str, str]) -> list[str]:
    """Every case, then `/help` for every command (its examples)."""
    runs = [(name, args) for name, cases in CASES.items() for args in cases]
    runs += [("help", name) for name in CASES]
    return [f"/{name} {args.format(**ids)}".rstrip() for name, args in runs]


def test_every_command_has_cases() -> None:
    names = {c.name for c in build_registry().unique()}
    assert sorted(names - set(CASES)) == []
    assert sorted(set(CASES) - names) == []


def test_the_check_finds_german_and_lets_data_through() -> None:
    assert german_words("Sag mit /rsvp m9 ja zu", "") == ["mit", "ja", "zu"]
    assert german_words("Valid are: offen, anfrage.", "") == ["offen", "anfrage"]
    assert german_words("Available: Größe", "") == ["Größe"]
    assert german_words("Joined Transparenz und Beteiligung (ag2).", "") == []
    assert german_words("Poll “Wann und wo?” started.", "/poll Wann und wo?") == []
    assert german_words("Your vote counts: „Tue“", "/vote k3f7 1") == ["„"]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("where", ["dm", "group"])
async def test_every_reply_is_english(tmp_path: Path, where: str) -> None:
    template = tmp_path / "template.db"
    ids = await _prepare(template)
    cells = Cells(template, tmp_path / "run.db")
    found: list[str] = []
    try:
        for text in invocations(ids):
            for who in PEOPLE:
                for reply in await _run(cells, where, who, text):
                    words = german_words(reply, text)
                    if words:
                        found.append(f"{text!r} by {who}: {words} in {reply!r}")
    finally:
        await cells.close()
    assert found == []
