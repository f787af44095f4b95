"""Matrix polls (MSC3381) and files without a homeserver: the event contents the bot
builds, as Element builds them, and Element's rules for tallying responses (end to end
against Synapse: tests/test_matrix_polls.py)."""

from __future__ import annotations

import pytest

from bot.transports.matrix.media import file_content, png_size
from bot.transports.matrix.polls import (
    KIND_DISCLOSED,
    KIND_UNDISCLOSED,
    POLL_START,
    TEXT,
    PollDef,
    Response,
    end_cutoff,
    latest_responses,
    parse_poll_start,
    poll_start_content,
    response_answers,
)
from tests.support.matrix_poll_events import QUESTION, png, response, spec


def test_poll_start_content_as_element_builds_it() -> None:
    content = poll_start_content(spec())
    assert content[TEXT] == content["body"]
    assert content[TEXT].startswith(QUESTION + "\n1. Di 18 Uhr\n")
    assert "!vote 2" in content[TEXT]
    start = content[POLL_START]
    assert start["kind"] == KIND_DISCLOSED
    assert start["max_selections"] == 1
    assert start["question"][TEXT] == QUESTION
    assert start["answers"] == [
        {"id": "1", TEXT: "Di 18 Uhr"},
        {"id": "2", TEXT: "Mi 19 Uhr"},
        {"id": "3", TEXT: "Do 17 Uhr"},
    ]
    multi = poll_start_content(spec(multi=True, anonymous=True))[POLL_START]
    assert multi["max_selections"] == 3
    assert multi["kind"] == KIND_UNDISCLOSED
    assert len(poll_start_content(spec(options=tuple(map(str, range(20)))))[POLL_START]["answers"])
    with pytest.raises(ValueError, match="20"):
        poll_start_content(spec(options=tuple(map(str, range(21)))))


def test_responses_by_elements_rules() -> None:
    poll = PollDef(("1", "2", "3"), max_selections=2, sender="@bot:x")
    assert poll.indexes(["2"]) == (1,)
    assert poll.indexes(["3", "1", "2"]) == (2, 0)  # cut to max_selections, order kept
    assert poll.indexes(["2", "9"]) == ()  # one unknown id spoils the whole response
    assert poll.indexes([]) == ()
    assert poll.indexes(None) == ()
    assert poll.indexes(["1", "1"]) == (0,)
    assert response_answers(response("$s", ["1"])) == ["1"]
    assert response_answers(response("$s", [1])) is None
    assert response_answers({"m.poll.response": {"answers": ["2"]}}) == ["2"]  # stable name
    assert response_answers({}) is None

    assert parse_poll_start(poll_start_content(spec()), "@bot:x") == PollDef(
        ("1", "2", "3"), 1, "@bot:x"
    )
    assert parse_poll_start({"m.poll.start": {"answers": [{"id": "a"}], "max_selections": 0}}, "")
    assert parse_poll_start({"body": "hi"}, "@a:x") is None


def test_latest_response_per_sender_until_the_end() -> None:
    poll = PollDef(("1", "2"), sender="@bot:x")
    anna1 = Response("@anna:x", 1000, ["1"], "$a1", 0)
    bo = Response("@bo:x", 1500, ["1"], "$b1", 1)
    anna2 = Response("@anna:x", 2000, ["2"], "$a2", 2)
    same_ts = Response("@bo:x", 1500, ["2"], "$b2", 3)  # same ms: the later in the room wins
    late = Response("@cy:x", 5000, ["2"], "$c1", 5)
    ends = [
        Response("@mallory:x", 1200, None, "$e0", 4),  # may not end it: ignored
        Response("@bot:x", 3000, None, "$e1", 6),
    ]
    cutoff = end_cutoff(ends, poll, may_redact=set())
    assert cutoff == 3000
    latest = latest_responses([late, anna2, bo, same_ts, anna1], cutoff)
    assert {r.sender: r.event_id for r in latest} == {"@anna:x": "$a2", "@bo:x": "$b2"}
    assert end_cutoff(ends, poll, may_redact={"@mallory:x"}) == 1200
    assert end_cutoff([], poll, set()) is None


def test_file_contents() -> None:
    image = png(3, 2)
    assert png_size(image) == (3, 2)
    assert png_size(b"GIF89a") is None
    plain = file_content("chart.png", "image/png", 10, url="mxc://x/y")
    assert plain["msgtype"] == "m.image" and plain["url"] == "mxc://x/y"
    doc = file_content("a.ics", "text/calendar", 5, encrypted_file={"url": "mxc://x/z"})
    assert doc["msgtype"] == "m.file" and "url" not in doc and doc["file"]["url"] == "mxc://x/z"
