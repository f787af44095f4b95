"""Pytest fixtures around ``SynapseServer``.

Import them into a test module (``from tests.support.synapse_fixtures import synapse``) or
list this module in the root conftest's ``pytest_plugins``.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator

import pytest

from tests.support.synapse_server import SynapseServer

_counter = itertools.count(1)


def unique_name(prefix: str = "user") -> str:
    """A Matrix localpart no other test uses: the session's one server keeps every user."""
    clean = re.sub(r"[^a-z0-9._=-]", "_", prefix.lower()) or "user"
    return f"{clean}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    """One homeserver for the whole session (start costs 2-3 s).

    A server that cannot start fails the test with Synapse's log tail: skipping would hide
    a broken Matrix test setup behind a green run.
    """
    server = SynapseServer(tmp_path_factory.mktemp("synapse"))
    error: str | None = None
    try:
        server.start()
    except RuntimeError as exc:
        error = str(exc)  # fail outside the except: no chained traceback noise
    if error is not None:
        pytest.fail(f"Synapse did not start: {error}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
