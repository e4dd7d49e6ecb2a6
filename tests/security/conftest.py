"""One real stack (action server + Rasa server, REST channel, SQLite) shared by the security tests.

Starting both servers costs a minute or more on this machine's shared cores, so the tests of
this folder use one stack and give each test its own sender. ``same_secret`` lets the test
process compute pseudonyms (and seed the journal) as the servers do.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.journal.db import dispose_engines
from tests.e2e.servers import RasaStack

CREDENTIALS = {"bot.channels.rest.SafeRestInput": None}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    with RasaStack(CREDENTIALS, tmp_path_factory.mktemp("security")) as running:
        yield running
    dispose_engines(running.database_url)


@pytest.fixture
def same_secret(stack: RasaStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_BASE_ID_SECRET", stack.env["SECURE_BASE_ID_SECRET"])
    monkeypatch.setenv("DATABASE_URL", stack.database_url)
