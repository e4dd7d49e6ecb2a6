"""The security tests run on the shared stack (``shared_stack`` in tests/conftest.py: action
server + Rasa server, REST and socket.io channels, SQLite), each test with its own sender.
``same_secret`` (tests/conftest.py) lets the test process compute pseudonyms (and seed the
journal) as the servers do.
"""

from __future__ import annotations

import pytest

from tests.e2e.servers import RasaStack


@pytest.fixture
def stack(shared_stack: RasaStack) -> RasaStack:
    return shared_stack
