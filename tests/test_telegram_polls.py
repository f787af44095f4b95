"""Native polls and files on Telegram, through python-telegram-bot's own Application
against the fake Bot API (payloads as Bot API 9.6/10 documents them).

Most tests report to a recording Inbox, to show what the transport hands the core; the
last ones run the whole bot to show a vote reaching the registered `poll_vote` handler.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from telegram.error import BadRequest

from bot.core import (
    ChatRef,
    DirectMessageUnavailable,
    PollCounts,
    PollSpec,
    PollVote,
    SentPoll,
    SentRef,
    UserRef,
)
from bot.rich import AccountRef, bold, text
from tests.support.telegram_api import (
    ANONYMOUS_ADMIN_BOT,
    BOT_USERNAME,
    BotApi,
    Json,
    group,
    user,
)
from tests.support.telegram_transport import RecordingInbox, Running, running, running_app

ANNA = user(222, "Anna", last_name="Berg", username="anna_b")
BEN = user(333, "Ben", language_code="en")
GROUP = group(-4001, "AG 2 Transparenz")
CHAT = ChatRef("telegram", str(GROUP["id"]), title="AG 2 Transparenz")
ANNA_REF = UserRef("telegram", "222", "Anna Berg", "anna_b", "de")
OPTIONS = ("Di 18 Uhr", "Mi 19 Uhr", "Do 17 Uhr")


def spec(
    *, multi: bool = False, anonymous: bool = False, options: tuple[str, ...] = OPTIONS
) -> PollSpec:
    return PollSpec(
        poll_id="p7",
        question="Wann treffen wir uns?",
        options=options,
        fallback=text("Wann treffen wir uns? 1. Di 18 Uhr 2. Mi 19 Uhr 3. Do 17 Uhr"),
        multi=multi,
        anonymous=anonymous,
    )


def forbidden(description: str) -> Json:
    return {"ok": False, "error_code": 403, "description": f"Forbidden: {description}"}


def bad_request(description: str) -> Json:
    return {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}


@pytest.fixture
def inbox() -> RecordingInbox:
    return RecordingInbox()


@pytest.fixture
async def tg(inbox: RecordingInbox) -> AsyncIterator[Running]:
    api = BotApi()
    api.remember(GROUP)
    async with running(inbox, api) as started:
        yield started


# --- sending a poll ----------------------------------------------------------------------


async def test_named_poll_as_sent(tg: Running) -> None:
    sent = await tg.transport.send_poll(CHAT, spec())

    [call] = tg.api.calls_to("sendPoll")
    assert call.params == {
        "chat_id": GROUP["id"],
        "question": "Wann treffen wir uns?",
        "options": [{"text": option} for option in OPTIONS],
        "is_anonymous": False,
        "allows_multiple_answers": False,
        "allows_revoting": True,
    }
    message = tg.api.last_sent(GROUP["id"])
    assert sent == SentPoll(CHAT, str(message["message_id"]), message["poll"]["id"])


async def test_capabilities(tg: Running) -> None:
    caps = tg.transport.capabilities
    assert caps.native_polls and caps.anonymous_polls and caps.files and caps.buttons


async def test_a_poll_follows_a_group_that_became_a_supergroup(
    tg: Running, inbox: RecordingInbox
) -> None:
    """The returned SentPoll names the chat the poll is really in."""
    tg.api.script(
        "sendPoll",
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": -1001234567890},
        },
    )
    sent = await tg.transport.send_poll(CHAT, spec())
    assert sent.chat.id == "-1001234567890"
    assert sent.native_id is not None
    assert inbox.migrations == [("telegram", "-4001", "-1001234567890")]


async def test_anonymous_multiple_choice_poll_as_sent(tg: Running) -> None:
    await tg.transport.send_poll(CHAT, spec(multi=True, anonymous=True))
    [call] = tg.api.calls_to("sendPoll")
    assert call.params["is_anonymous"] is True
    assert call.params["allows_multiple_answers"] is True


async def test_a_poll_is_sent_once_per_key(tg: Running) -> None:
    first = await tg.transport.send_poll(CHAT, spec(), key="poll:p7:telegram:-4001")
    again = await tg.transport.send_poll(CHAT, spec(), key="poll:p7:telegram:-4001")
    assert first == again
    assert len(tg.api.calls_to("sendPoll")) == 1


async def test_a_poll_for_a_gone_chat_is_skipped_without_its_content(
    tg: Running, caplog: pytest.LogCaptureFixture
) -> None:
    tg.api.script("sendPoll", 403, forbidden("bot was kicked from the group chat"))
    with caplog.at_level(logging.INFO, "bot.transports"):
        sent = await tg.transport.send_poll(CHAT, spec())
    assert sent == SentPoll(CHAT, None, None)
    assert "kicked" in caplog.text
    assert "Wann treffen" not in caplog.text
    assert "Di 18 Uhr" not in caplog.text


async def test_other_refusals_raise(tg: Running) -> None:
    tg.api.script("sendPoll", 400, bad_request("poll question length must not exceed 300"))
    with pytest.raises(BadRequest):
        await tg.transport.send_poll(CHAT, spec())


async def test_thirteen_options_are_refused_before_sending(tg: Running) -> None:
    with pytest.raises(ValueError, match="1-12 options"):
        await tg.transport.send_poll(CHAT, spec(options=tuple(f"Option {i}" for i in range(13))))
    assert not tg.api.calls_to("sendPoll")


# --- votes -------------------------------------------------------------------------------


async def test_vote_change_and_retraction_reach_the_inbox(
    tg: Running, inbox: RecordingInbox
) -> None:
    sent = await tg.transport.send_poll(CHAT, spec())
    assert sent.native_id is not None
    await tg.feed(*tg.api.vote(sent.native_id, ANNA, [1]))
    await tg.feed(*tg.api.vote(sent.native_id, ANNA, [0]))
    await tg.feed(*tg.api.vote(sent.native_id, ANNA, []))

    assert inbox.votes == [
        PollVote("telegram", sent.native_id, ANNA_REF, (1,)),
        PollVote("telegram", sent.native_id, ANNA_REF, (0,)),
        PollVote("telegram", sent.native_id, ANNA_REF, ()),
    ]
    # Telegram also sent the totals of this named poll: not passed on (no double count).
    assert inbox.counts == []


async def test_several_answers_in_one_vote(tg: Running, inbox: RecordingInbox) -> None:
    sent = await tg.transport.send_poll(CHAT, spec(multi=True))
    assert sent.native_id is not None
    await tg.feed(*tg.api.vote(sent.native_id, BEN, [0, 2]))
    [vote] = inbox.votes
    assert vote.options == (0, 2)
    assert vote.voter == UserRef("telegram", "333", "Ben", None, "en")


async def test_an_anonymous_admin_votes_as_the_group(tg: Running, inbox: RecordingInbox) -> None:
    """`user` then holds @Channel_Bot for old clients; the voter is the chat."""
    sent = await tg.transport.send_poll(CHAT, spec())
    assert sent.native_id is not None
    await tg.feed(*tg.api.vote(sent.native_id, ANONYMOUS_ADMIN_BOT, [2], voter_chat=GROUP))
    [vote] = inbox.votes
    assert vote.voter == UserRef(
        "telegram", "chat-4001", "AG 2 Transparenz", None, None, anonymous=True
    )
    assert vote.options == (2,)


async def test_anonymous_poll_reports_totals_only(tg: Running, inbox: RecordingInbox) -> None:
    sent = await tg.transport.send_poll(CHAT, spec(anonymous=True))
    assert sent.native_id is not None
    await tg.feed(*tg.api.vote(sent.native_id, ANNA, [1]))
    await tg.feed(*tg.api.vote(sent.native_id, BEN, [1]))
    await tg.feed(*tg.api.vote(sent.native_id, ANNA, [2]))

    assert inbox.votes == [], "Telegram names no voter of an anonymous poll"
    assert inbox.counts == [
        PollCounts("telegram", sent.native_id, (0, 1, 0), 1),
        PollCounts("telegram", sent.native_id, (0, 2, 0), 2),
        PollCounts("telegram", sent.native_id, (0, 1, 1), 2),
    ]


async def test_no_votes_can_be_fetched(tg: Running) -> None:
    sent = await tg.transport.send_poll(CHAT, spec())
    assert await tg.transport.fetch_poll_votes(sent) == []


# --- closing -----------------------------------------------------------------------------


async def test_close_stops_the_poll_and_posts_nothing(tg: Running) -> None:
    """The merged result is the poll handlers' to post, once per chat: not here too."""
    sent = await tg.transport.send_poll(CHAT, spec())
    assert sent.message_id is not None
    await tg.transport.close_poll(sent, text("Ergebnis: ") + bold("Mi 19 Uhr"), key="close:p7")

    [stop] = tg.api.calls_to("stopPoll")
    assert stop.params == {"chat_id": GROUP["id"], "message_id": int(sent.message_id)}
    assert tg.api.polls[sent.native_id or ""]["is_closed"] is True
    assert tg.api.delivered(GROUP["id"]) == []

    # Retried with the same key (e.g. after a crash in the handler): nothing more is sent.
    await tg.transport.close_poll(sent, text("Ergebnis"), key="close:p7")
    assert len(tg.api.calls_to("stopPoll")) == 1


async def test_a_poll_already_closed_is_no_error(tg: Running) -> None:
    sent = await tg.transport.send_poll(CHAT, spec())
    await tg.transport.close_poll(sent, text("Ergebnis 1"))
    await tg.transport.close_poll(sent, text("Ergebnis 2"))

    assert [call.status for call in tg.api.calls_to("stopPoll")] == [200, 400]
    assert tg.api.delivered(GROUP["id"]) == []


async def test_closing_in_a_gone_chat_sends_nothing(
    tg: Running, caplog: pytest.LogCaptureFixture
) -> None:
    sent = await tg.transport.send_poll(CHAT, spec())
    tg.api.script("stopPoll", 403, forbidden("bot was kicked from the group chat"))
    with caplog.at_level(logging.WARNING, "bot.transports"):
        await tg.transport.close_poll(sent, text("Geheimes Ergebnis"))
    assert tg.api.delivered() == []
    assert "Geheimes Ergebnis" not in caplog.text


async def test_a_poll_that_never_arrived_is_not_closed(tg: Running) -> None:
    await tg.transport.close_poll(SentPoll(CHAT, None, None), text("Ergebnis"))
    assert not tg.api.calls_to("stopPoll")
    assert tg.api.delivered() == []


# --- files -------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_a_png_is_sent_as_a_picture(tg: Running) -> None:
    ref = await tg.transport.send_file(
        CHAT, "ergebnis.png", PNG, "image/png", text("Ergebnis ") + bold("p7")
    )
    [call] = tg.api.calls_to("sendPhoto")
    assert call.params["chat_id"] == GROUP["id"]
    assert call.params["caption"] == "Ergebnis <b>p7</b>"
    assert call.params["parse_mode"] == "HTML"
    photo = call.files["photo"]
    assert (photo.filename, photo.mime, photo.data) == ("ergebnis.png", "image/png", PNG)
    assert ref.message_id == str(tg.api.last_sent(GROUP["id"])["message_id"])
    assert not tg.api.calls_to("sendDocument")


async def test_other_files_are_sent_as_documents(tg: Running) -> None:
    data = "Frage;Antwort\nÜbermorgen?;Di 18 Uhr\n".encode()
    ref = await tg.transport.send_file(CHAT, "umfrage-p7.csv", data, "text/csv")
    [call] = tg.api.calls_to("sendDocument")
    document = call.files["document"]
    assert (document.filename, document.mime, document.data) == ("umfrage-p7.csv", "text/csv", data)
    assert "caption" not in call.params
    sent = tg.api.last_sent(GROUP["id"])
    assert sent["document"]["file_name"] == "umfrage-p7.csv"
    assert ref.message_id == str(sent["message_id"])


async def test_a_refused_picture_goes_as_a_document(tg: Running) -> None:
    tg.api.script("sendPhoto", 400, bad_request("PHOTO_INVALID_DIMENSIONS"))
    await tg.transport.send_file(CHAT, "chart.png", PNG, "image/png", text("Ergebnis"))
    [document] = tg.api.calls_to("sendDocument")
    assert document.files["document"].filename == "chart.png"
    assert document.params["caption"] == "Ergebnis"


async def test_a_long_caption_follows_as_a_reply(tg: Running) -> None:
    caption = text("Ergebnis: " + "x" * 1100)
    ref = await tg.transport.send_file(CHAT, "chart.png", PNG, "image/png", caption)
    [photo] = tg.api.calls_to("sendPhoto")
    assert "caption" not in photo.params
    [follow] = tg.api.delivered(GROUP["id"])
    assert follow["text"] == caption.plain
    assert follow["reply_parameters"]["message_id"] == int(ref.message_id or 0)


async def test_a_file_is_sent_once_per_key(tg: Running) -> None:
    first = await tg.transport.send_file(CHAT, "a.csv", b"x", "text/csv", key="export:p7")
    again = await tg.transport.send_file(CHAT, "a.csv", b"x", "text/csv", key="export:p7")
    assert first == again
    assert len(tg.api.calls_to("sendDocument")) == 1


async def test_a_private_file_to_someone_who_never_started_the_bot(
    tg: Running, inbox: RecordingInbox
) -> None:
    tg.api.script("sendDocument", 403, forbidden("bot can't initiate conversation with a user"))
    private = ChatRef("telegram", "222", is_direct=True, title="Anna Berg")
    with pytest.raises(DirectMessageUnavailable) as raised:
        await tg.transport.send_file(private, "umfrage.csv", b"x", "text/csv")
    assert raised.value.hint_url == f"https://t.me/{BOT_USERNAME}?start=hello"
    assert inbox.reachable == [(AccountRef("telegram", "222", "Anna Berg"), False)]


async def test_a_file_for_a_gone_group_is_skipped(tg: Running) -> None:
    tg.api.script("sendDocument", 400, bad_request("chat not found"))
    ref = await tg.transport.send_file(CHAT, "umfrage.csv", b"x", "text/csv")
    assert ref == SentRef(CHAT, None)


# --- the whole bot -----------------------------------------------------------------------


async def test_a_vote_reaches_the_poll_vote_handler(sqlite_url: str) -> None:
    """Served by the real Updater through getUpdates (so `poll_answer` must be among the
    allowed updates), dispatched to the handler registered for `poll_vote`."""
    api = BotApi()
    api.remember(GROUP)
    seen: list[PollVote] = []

    async def record(_services: object, vote: PollVote) -> None:
        seen.append(vote)

    async with running_app(sqlite_url, api) as bot:
        bot.app.services.registry.events["poll_vote"] = record
        sent = await bot.transport.send_poll(CHAT, spec())
        assert sent.native_id is not None
        await bot.served(*api.vote(sent.native_id, ANNA, [2]))

    assert seen == [PollVote("telegram", sent.native_id, ANNA_REF, (2,))]
    assert "poll_answer" in api.calls_to("getUpdates")[0].params["allowed_updates"]
