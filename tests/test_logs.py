"""The redacting filter: a token or password never reaches the log, wherever it hides."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import RedactingFilter

TOKEN = "123456789:AAHk1-secret_Token_value_XYZ"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def log_output() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose handler formats like the bot's and redacts like the bot's."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter([TOKEN, PASSWORD, "", "short"]))
    logger = logging.getLogger("tests.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        yield logger, out
    finally:
        logger.handlers.clear()
        logger.propagate = True


def test_a_secret_in_the_message_is_redacted(
    log_output: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = log_output

    log.info(f"GET https://api.telegram.org/bot{TOKEN}/getUpdates")

    assert (
        out.getvalue() == "INFO tests.redaction: GET https://api.telegram.org/bot***/getUpdates\n"
    )


def test_a_secret_in_the_arguments_is_redacted(
    log_output: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = log_output

    log.warning("login as %s with %r failed", "@bot:example.org", PASSWORD)

    assert (
        out.getvalue() == "WARNING tests.redaction: login as @bot:example.org with '***' failed\n"
    )


def test_a_secret_in_an_exception_is_redacted(
    log_output: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = log_output

    try:
        raise ConnectionError(f"could not reach https://api.telegram.org/bot{TOKEN}/sendMessage")
    except ConnectionError:
        log.exception("sending failed")

    text = out.getvalue()
    assert TOKEN not in text
    assert "Traceback" in text
    assert "ConnectionError: could not reach https://api.telegram.org/bot***/sendMessage" in text


def test_a_longer_secret_is_replaced_before_a_shorter_one_inside_it() -> None:
    redacting = RedactingFilter(["secret", "secret-and-more"])

    assert redacting.redact("x secret-and-more y secret") == "x *** y ***"


def test_very_short_values_are_not_treated_as_secrets() -> None:
    # Replacing every "abc" in every log line would make logs unreadable and guessable.
    assert RedactingFilter(["abc", ""]).secrets == []


def test_a_clean_record_passes_untouched(
    log_output: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = log_output

    log.info("%d members in %s", 3, "ag2")

    assert out.getvalue() == "INFO tests.redaction: 3 members in ag2\n"


def test_a_malformed_log_call_neither_raises_nor_leaks(
    log_output: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = log_output

    log.info("token %s for %s", TOKEN)  # one argument short

    assert TOKEN not in out.getvalue()
    assert "token %s for %s" in out.getvalue()


async def test_database_errors_do_not_carry_peoples_names(tmp_path: Path) -> None:
    """A failing query's text (which ends up in logs) shows no parameter values."""
    from sqlalchemy.exc import IntegrityError

    from storage.db import Database
    from storage.models import Account, Person

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    await db.upgrade()
    try:
        with pytest.raises(IntegrityError) as caught:
            async with db.write() as session:
                session.add(Person(id=1))
                for _ in range(2):
                    session.add(
                        Account(
                            person_id=1,
                            platform="telegram",
                            external_id="42",
                            display_name="Erika Mustermann",
                        )
                    )
                    await session.flush()
        assert "Erika Mustermann" not in str(caught.value)
    finally:
        await db.dispose()
