"""The JSON form of queued Matrix calls (bot/outbox_codec.py): every value a handler can
pass to a transport, and every result and error it can get back, survives the trip; a
row naming anything else builds nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.admission import ChatRight, JoinAsked, MissingRight, Way, WayKind
from bot.core import (
    Button,
    ChatRef,
    DirectMessageUnavailable,
    PollSpec,
    PollVote,
    SentPoll,
    SentRef,
    Unsupported,
    UserRef,
)
from bot.outbox_codec import (
    QueuedSendError,
    dump_call,
    dump_error,
    dump_result,
    leader_error,
    load_call,
    load_outcome,
)
from bot.rich import AccountRef, bold, code, italic, link, mention, text
from bot.spaces import OutsideSpace, SpaceError, SpaceProblem

ROOM = ChatRef("matrix", "!r:localhost", False, "AG 2", language="en")
ANNA = AccountRef("matrix", "@anna:localhost", "Anna", "anna")
RICH = bold("Plenum") + " am " + italic(code("Di")) + link("https://x.org", "hier") + mention(ANNA)


@pytest.mark.parametrize(
    ("method", "args", "kwargs"),
    [
        ("send", (ROOM, RICH), {"key": "k"}),
        ("send_direct", (ANNA, text("Hallo")), {"key": None}),
        (
            "send_with_buttons",
            (ROOM, text("Kommst du?"), (Button("Ja", "rsvp:m1:yes", "✅", 1),)),
            {"key": "k2"},
        ),
        ("send_file", (ROOM, "a.ics", b"\x00BEGIN\xff", "text/calendar", None), {"key": "f"}),
        (
            "send_poll",
            (ROOM, PollSpec("k3f7", "Wann?", ("Di", "Mi"), text("Wann?\n1. Di"), multi=True)),
            {"key": "p"},
        ),
        ("close_poll", (SentPoll(ROOM, "$s", "$s"), text("Ende")), {"key": "c"}),
        ("edit", (SentRef(ROOM, "$e"), text("neu"), ()), {}),
        ("let_in", (ROOM, ANNA), {"link": None}),
        ("answer_join_request", (JoinAsked(ROOM, UserRef("matrix", "@b:x", "B")), True), {}),
    ],
)
def test_a_call_survives_the_trip(
    method: str, args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    assert load_call(dump_call(method, args, kwargs)) == (method, args, kwargs)


def test_the_chat_language_travels_along() -> None:
    _, (room, _message), _ = load_call(dump_call("send", (ROOM, RICH), {}))
    assert isinstance(room, ChatRef) and room.language == "en"


@pytest.mark.parametrize(
    "result",
    [
        SentRef(ROOM, "$event"),
        SentPoll(ROOM, "$start", "$start"),
        Way(ROOM, WayKind.INVITED),
        [
            PollVote(
                "matrix",
                "$s",
                UserRef("matrix", "@a:x", "A"),
                (0, 2),
                datetime(2026, 3, 2, tzinfo=UTC),
                "$v",
            )
        ],
        True,
        None,
    ],
)
def test_a_result_survives_the_trip(result: object) -> None:
    assert load_outcome(dump_result("m", result)) == result


@pytest.mark.parametrize(
    "error",
    [
        DirectMessageUnavailable("https://t.me/bot?start=x"),
        MissingRight(ChatRight.INVITE, ROOM),
        OutsideSpace(ChatRef("matrix", "!space:x"), ROOM),
        SpaceError(SpaceProblem.NOT_A_SPACE, "#x:y"),
        Unsupported("forum topics"),
    ],
)
def test_an_error_comes_back_as_itself(error: Exception) -> None:
    with pytest.raises(type(error)) as raised:
        load_outcome(dump_error("m", error))
    assert vars(raised.value) == vars(error)
    assert str(raised.value) == str(error)


def test_any_other_error_comes_back_as_a_send_error_without_its_text() -> None:
    payload = dump_error("send", RuntimeError("secret body"))
    assert "secret body" not in payload
    found = leader_error(payload)
    assert isinstance(found, QueuedSendError) and "RuntimeError" in str(found)


def test_a_row_naming_another_type_builds_nothing() -> None:
    forged = '{"method":"send","args":{"$tuple":[{"$type":"Path","fields":{}}]},"kwargs":{}}'
    with pytest.raises(KeyError):
        load_call(forged)
    with pytest.raises(TypeError):
        dump_call("send", (object(),), {})
